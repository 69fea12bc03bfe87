"""Reminders, activity summaries and weekly digests, written to the outbox exactly once.

`due.run_due` is the core (everything due in a window); `setup.SchedulerService` beats it with
APScheduler; `jobs` and `digest` build the messages from `queries` and `progress`; `calendar`
knows school days. Imports handlers and storage, never bot. See docs/scheduler.md.
"""
