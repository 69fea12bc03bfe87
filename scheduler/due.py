"""`run_due`: everything due in (last_run, now], written to the outbox once per key.

An occasion (a daily reminder time, a digest morning, an hour before an activity…) is due
when its moment lies in the window; it is still useful until its own deadline (the evening's
quiet hours the same day, or the activity's start), and skipped after that — so a bot that was
down catches up the same day but never sends yesterday's news. Nothing is produced during
quiet hours. Keys make the outbox the judge of "already sent": a restart, a second instance
or a double-fired tick enqueues nothing twice.
Imports handlers, storage and scheduler modules; never bot.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import texts
from handlers.clock import Clock
from handlers.event_times import UNTIMED_END
from handlers.format import hm, md
from scheduler.calendar import ONE_DAY, SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.digest import digest_day as digest_day  # re-exported: the calendar tests
from scheduler.digest import digest_weeks, last_day_of_term, send_day, week_label
from scheduler.jobs import (
    JobContext,
    calendar_warning_keys,
    end_of,
    names_list,
    send_activity_summaries,
    send_calendar_warning,
    send_day_before,
    send_hour_before,
    send_month_results,
    send_outcome_questions,
    send_period_starts,
    send_principal_notes,
    send_quota_reminders,
    send_term_summaries,
    send_weekly_digests,
)
from scheduler.queries import (
    PlannedTimes,
    Touching,
    activities_by_id,
    load_roster,
    planned_times,
)
from scheduler.state import claim_beat, claim_once, done_before
from storage.blobs import BlobStorage
from storage.db import transaction
from storage.events import hold_started_plans, mark_outcome_asked
from storage.models import EventStatus
from storage.outbox import NewMessage, enqueue

log = logging.getLogger(__name__)

# Occasions older than this are never looked at, however long the bot was down.
LOOKBACK = dt.timedelta(days=2)


# The order in which one recipient reads what a beat queued (the outbox delivers by id).
KIND_ORDER = ("calendar_warning", "period_result", "period_start", "quota_short",
              "principal_note", "activity_day_before", "activity_hour_before",
              "activity_summary", "activity_outcome", "digest_school", "digest_community",
              "digest_county", "term_summary")


def delivery_order(message: NewMessage) -> tuple[str, str, str, int, str]:
    """Recipient, then kind, then key: a function of the message alone, so two instances
    insert shared keys in the same order and wait on each other instead of deadlocking."""
    kind = str((message.extra or {}).get("kind", ""))
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (message.platform, message.target_kind, message.target, rank, message.key)


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # exclusive
    now: dt.datetime  # inclusive

    def holds(self, due: dt.datetime, useful_until: dt.datetime) -> bool:
        if not self.start < due <= self.now:
            return False
        if self.now >= useful_until:
            log.info("scheduler: skipped an occasion due %s (stale since %s)", due, useful_until)
            return False
        return True


async def collect_due(
    *, session: AsyncSession, now: dt.datetime, last_run: dt.datetime, config: SchedulerConfig,
    calendar: SchoolCalendar | None = None, claim: bool = False, files: BlobStorage | None = None,
) -> list[NewMessage]:
    """The messages due in (last_run, now], computed but not enqueued.

    Occasions are found first from the calendar and one look at the planned activities; the
    roster is read only when something is due, so a minute's idle beat costs one query.
    With `claim`, once-only warnings are claimed in Setting rows (run_due); without it they
    are shown only if never given (previews)."""
    cal = calendar or SchoolCalendar(config)
    if cal.is_quiet(now):
        return []
    window = Window(cal.local(max(last_run, now - LOOKBACK)), cal.local(now))
    mornings, digest_mornings = _daily_occasions(cal, window)
    # Summaries and outcome questions may run into the next morning (or later, for a long
    # event); a day-before reminder may precede its activity by a holiday, but never past the
    # next working day.
    planned = await planned_times(session=session, start=window.start.date() - 2 * ONE_DAY,
                                  end=_next_workday(cal, window.now.date()) + ONE_DAY,
                                  touching=_touching(cal, window))
    day_before, hour_before, finished, ended = _activity_occasions(cal, window, planned)
    if not (mornings or digest_mornings or day_before or hour_before or finished or ended):
        return []
    _look_at_terms(cal, window)
    rows = await activities_by_id(session=session, ids=[
        *(p.id for p, _ in day_before), *(p.id for p in hour_before), *(p.id for p in finished),
        *(p.id for p in ended)])
    ctx = JobContext(session=session, config=config, calendar=cal,
                     roster=await load_roster(session=session), files=files)
    out: list[NewMessage] = []
    for day in mornings:
        out += await send_month_results(ctx, day)
        out += await send_period_starts(ctx, day)
        out += await send_quota_reminders(ctx, day)
        out += await send_principal_notes(ctx, day)
    for day in digest_mornings:
        for week_start in digest_weeks(cal, day):
            out += await send_weekly_digests(ctx, week_start)
        if last_day_of_term(cal, day):
            out += await send_term_summaries(ctx, day)
    for times, day in day_before:
        out += await send_day_before(ctx, rows[times.id], day)
    for times in hour_before:
        out += await send_hour_before(ctx, rows[times.id])
    out += await send_activity_summaries(ctx, [rows[times.id] for times in finished])
    out += await send_outcome_questions(ctx, [rows[times.id] for times in ended])
    for key in calendar_warning_keys(cal):
        fresh = (await claim_once(session=session, key=key, now=now) if claim
                 else not await done_before(session=session, key=key))
        if fresh:
            if claim:
                log.warning("scheduler: %s; warning the admins", key)
            out += await send_calendar_warning(ctx, key)
    return out


def _daily_occasions(
    cal: SchoolCalendar, window: Window,
) -> tuple[list[dt.date], list[dt.date]]:
    """School days whose reminder time, and whose digest time, fall in the window."""
    mornings, digests = [], []
    day = window.start.date()
    while day <= window.now.date():
        if cal.is_school_day(day):
            evening = cal.quiet_from(day)
            # A time configured inside the quiet hours waits for their end.
            if window.holds(cal.next_loud(cal.at(day, cal.config.reminder_time)), evening):
                mornings.append(day)
            due = cal.next_loud(cal.at(day, cal.config.digest_time))
            # digest_weeks counts the term's school days: ask it only when the time is due.
            if window.start < due <= window.now and digest_weeks(cal, day) and window.holds(
                    due, evening):
                digests.append(day)
        day += ONE_DAY
    return mornings, digests


def _touching(cal: SchoolCalendar, window: Window) -> Touching:
    """The plans that can have an occasion in `window`: a minute's beat reads a handful.

    An hour-before reminder or an end falls due at its moment, or, when the quiet hours hold
    that moment, at their end (`next_loud`), less than a day later: so its moment lies in
    the window, or in the day before an end of the quiet hours the window holds. A day-before
    reminder is due at the reminder time of the working day before its plan: so the plan is
    dated after a day whose reminder time the window holds, up to the next working day
    (previous_workday gives up after 60 days: that day too). `_activity_occasions` still
    decides; this only spares it the other plans."""
    config = cal.config
    start, now = window.start, window.now
    days = [start.date() + i * ONE_DAY for i in range((now.date() - start.date()).days + 1)]
    spans = [(start, now), *((end - ONE_DAY, end) for day in days
                             if start < (end := cal.at(day, config.quiet_end)) <= now)]
    dated: list[dt.date] = []
    for day in days:
        if start < cal.at(day, config.reminder_time) <= now:
            last = _next_workday(cal, day)
            dated += [day + i * ONE_DAY for i in range(1, (last - day).days + 1)]
            dated.append(day + 61 * ONE_DAY)
    lengths = [config.lengths.default, *config.lengths.by_activity.values()]
    untimed = {lo.date() + i * ONE_DAY for lo, hi in spans
               for i in range(-1, (hi.date() - lo.date()).days + 2)}
    return Touching(
        starts=tuple((lo + config.hour_before, hi + config.hour_before) for lo, hi in spans),
        stated_ends=tuple(spans),
        starts_ending=tuple((lo - max(lengths), hi - min(lengths)) for lo, hi in spans),
        untimed_days=tuple(sorted(day for day in untimed if any(
            lo <= cal.at(day, UNTIMED_END) <= hi for lo, hi in spans))),
        days=tuple(sorted(set(dated))))


def _look_at_terms(cal: SchoolCalendar, window: Window) -> None:
    """Ask `digest_weeks` about each school day of the window, as `_daily_occasions` did
    before it learnt to skip it when the digest time is not due: counting the rest of the
    term is what tells the calendar of a year it does not know (calendar_warning_keys), and
    a beat that sends anything warns of it."""
    day = window.start.date()
    while day <= window.now.date():
        if cal.is_school_day(day):
            digest_weeks(cal, day)
        day += ONE_DAY


def _next_workday(cal: SchoolCalendar, day: dt.date) -> dt.date:
    for _ in range(60):
        day += ONE_DAY
        if cal.is_workday(day):
            break
    return day


def _activity_occasions(
    cal: SchoolCalendar, window: Window, planned: list[PlannedTimes],
) -> tuple[list[tuple[PlannedTimes, dt.date]], list[PlannedTimes], list[PlannedTimes],
           list[PlannedTimes]]:
    """(day-before reminders with their day, hour-before reminders, finished plans, plans
    still `planned` at their end whose organiser is to be asked whether they took place).

    The question stays useful as long as the window looks back (LOOKBACK): a bot that was
    down over the evening still asks the next morning, since an unanswered plan never counts."""
    config = cal.config
    day_before: list[tuple[PlannedTimes, dt.date]] = []
    hour_before: list[PlannedTimes] = []
    finished: list[PlannedTimes] = []
    ended: list[PlannedTimes] = []
    for a in planned:
        start = a.starts_at or cal.at(a.day, dt.time(0, 0))
        before = cal.previous_workday(a.day)
        if window.holds(cal.at(before, config.reminder_time), min(cal.quiet_from(before), start)):
            day_before.append((a, before))
        hour_due = _hour_before_due(cal, a)
        if hour_due is not None and a.starts_at is not None and window.holds(hour_due,
                                                                             a.starts_at):
            hour_before.append(a)
        due = _end_due(cal, a)
        if window.holds(due, cal.quiet_from(cal.local(due).date())):
            finished.append(a)
        if a.status == EventStatus.PLANNED and window.holds(due, due + LOOKBACK):
            ended.append(a)
    return day_before, hour_before, finished, ended


def _hour_before_due(cal: SchoolCalendar, a: PlannedTimes) -> dt.datetime | None:
    """When the hour-before reminder falls due (out of the quiet hours), if still before
    the start."""
    if a.starts_at is None:
        return None
    due = cal.next_loud(a.starts_at - cal.config.hour_before)
    return due if due < a.starts_at else None


def _end_due(cal: SchoolCalendar, a: PlannedTimes) -> dt.datetime:
    """When the summary and the outcome question fall due: the event's end (one rule,
    handlers.event_times), or the end of the quiet hours it falls in."""
    end = end_of(cal.config, a)
    assert end is not None  # dated: planned_times returns dated plans only
    return cal.next_loud(end)


async def catch_up(
    *, factory: async_sessionmaker[AsyncSession], before: dt.datetime, after: dt.datetime,
    config: SchedulerConfig, files: BlobStorage | None = None,
) -> list[NewMessage]:
    """The console's /time: what a bot beating every minute from `before` to `after` would have
    queued. One `run_due` per moment something can fall due (reminder and digest times, each
    planned activity's reminders and summary), so nothing in between goes stale the way it
    would for a bot that was down; the last run ends at `after`."""
    cal = SchoolCalendar(config)
    first, last = cal.local(before).date(), cal.local(after).date()
    moments: set[dt.datetime] = set()
    day = first
    while day <= last:
        if cal.is_school_day(day):
            moments.add(cal.next_loud(cal.at(day, config.reminder_time)))
            moments.add(cal.next_loud(cal.at(day, config.digest_time)))
        day += ONE_DAY
    async with factory() as session:
        planned = await planned_times(session=session, start=first - 2 * ONE_DAY,
                                      end=_next_workday(cal, last) + ONE_DAY)
    for a in planned:
        moments.add(cal.at(cal.previous_workday(a.day), config.reminder_time))
        hour_due = _hour_before_due(cal, a)
        if hour_due is not None:
            moments.add(hour_due)
        moments.add(_end_due(cal, a))
    steps = sorted(m for m in moments if before < m < after and not cal.is_quiet(m))
    queued: list[NewMessage] = []
    previous = before
    for moment in [*steps, after]:
        queued += await run_due(factory=factory, now=moment, last_run=previous, config=config,
                                files=files)
        previous = moment
    return queued


async def run_due(
    *, factory: async_sessionmaker[AsyncSession], now: dt.datetime, last_run: dt.datetime,
    config: SchedulerConfig, files: BlobStorage | None = None,
) -> list[NewMessage]:
    """Compute what is due in (last_run, now] and enqueue it; returns what was newly queued.

    First, plans with a sign-in whose start has passed become held (they count from now on,
    and nobody is asked whether they took place). One transaction, inserts in
    `delivery_order`, so two instances racing on PostgreSQL wait for each other instead of
    deadlocking, and the loser's inserts do nothing."""
    async with transaction(factory) as session:
        queued = await _run_due_in(session, now=now, last_run=last_run, config=config,
                                   files=files)
    if queued:
        log.info("scheduler: queued %d message(s) for (%s, %s]", len(queued), last_run, now)
    return queued


async def _run_due_in(
    session: AsyncSession, *, now: dt.datetime, last_run: dt.datetime,
    config: SchedulerConfig, files: BlobStorage | None,
) -> list[NewMessage]:
    await hold_started_plans(session=session, now=now,
                             today=now.astimezone(config.timezone).date())
    messages = await collect_due(session=session, now=now, last_run=last_run,
                                 config=config, claim=True, files=files)
    queued = []
    for message in sorted(messages, key=delivery_order):
        if await enqueue(session=session, message=message, now=now):
            queued.append(message)
    await mark_outcome_asked(session=session, now=now, event_ids=[
        int(m.extra["activity_id"]) for m in queued
        if m.extra and m.extra.get("kind") == "activity_outcome"])
    return queued


async def tick(
    *, factory: async_sessionmaker[AsyncSession], clock: Clock, config: SchedulerConfig,
    files: BlobStorage | None = None,
) -> list[NewMessage]:
    """One scheduler beat: claim the window since the last recorded run and run what is due
    in it, in one transaction. Several instances beat one at a time (`claim_beat`), and each
    due moment falls in exactly one claimed window: it is computed and queued once."""
    now = clock.now()
    async with transaction(factory) as session:
        previous = await claim_beat(session=session, now=now)
        if previous is None:
            return []
        queued = await _run_due_in(session, now=now, last_run=previous, config=config,
                                   files=files)
    if queued:
        log.info("scheduler: queued %d message(s) for (%s, %s]", len(queued), previous, now)
    return queued


async def collect_digests(
    *, session: AsyncSession, config: SchedulerConfig, week_start: dt.date,
    files: BlobStorage | None = None,
) -> list[NewMessage]:
    """The weekly digests of the ISO week starting `week_start`, computed, not enqueued."""
    ctx = JobContext(session=session, config=config, calendar=SchoolCalendar(config),
                     roster=await load_roster(session=session), files=files)
    return await send_weekly_digests(ctx, week_start)


async def week_messages(
    *, session: AsyncSession, config: SchedulerConfig, week_start: dt.date,
) -> tuple[list[NewMessage], list[str]]:
    """What the morning that reports a week sends (its digests, and the month's result or the
    term's summary when that morning closes one), with notes for whoever previews it: when
    and, if nothing would go, why (vacation, nobody linked), and who or what is left out."""
    cal = SchoolCalendar(config)
    label = week_label(week_start)
    day = send_day(cal, week_start)
    if day is None:
        why = texts.PREVIEW_VACATION.format(week=label, start=md(week_start),
                                            end=md(week_start + dt.timedelta(days=6)))
        return [], [texts.PREVIEW_NOTHING.format(why=why)]
    ctx = JobContext(session=session, config=config, calendar=cal,
                     roster=await load_roster(session=session))
    results = await send_month_results(ctx, day)
    messages = [*results, *await send_weekly_digests(ctx, week_start)]
    if last_day_of_term(cal, day):
        messages += await send_term_summaries(ctx, day)
    roster = ctx.roster
    people = [*(p for ps in roster.principals.values() for p in ps), *roster.admins]
    unlinked = [p.name for p in people if not roster.identities.get(p.id)]
    notes = []
    if not messages:
        notes.append(texts.PREVIEW_NOTHING.format(why=texts.PREVIEW_NOBODY))
    else:
        notes.append(texts.PREVIEW_SENT_ON.format(date=md(day), time=hm(cal.next_loud(
            cal.at(day, config.digest_time)))))
        if unlinked:
            notes.append(texts.PREVIEW_UNLINKED.format(
                names=names_list(unlinked, config.max_names)))
    unbound = [name for cid, name in sorted(roster.communities.items())
               if not roster.groups.get(cid)]
    if unbound and (results or not any(roster.groups.values())):
        notes.append(texts.PREVIEW_NO_GROUP.format(communities=names_list(unbound,
                                                                          config.max_names)))
    return messages, notes


async def digest_so_far(
    session: AsyncSession, member_id: int, today: dt.date, *, config: SchedulerConfig,
) -> list[str]:
    """One person's digest of the week so far (发个周报): the Monday job's own text, computed
    now; nothing for someone who gets no digest."""
    # On a Monday the week worth reading is the one just over (the Monday job's own).
    anchor = today - dt.timedelta(days=1) if today.weekday() == 0 else today
    week_start = anchor - dt.timedelta(days=anchor.weekday())
    messages = await collect_digests(session=session, config=config, week_start=week_start)
    return [m.text for m in messages if m.key.endswith(f":member:{member_id}")]


async def run_digests(
    *, factory: async_sessionmaker[AsyncSession], config: SchedulerConfig,
    week_start: dt.date, now: dt.datetime,
) -> tuple[list[NewMessage], list[str]]:
    """Enqueue what the morning reporting a week sends, now (same keys as the scheduler's:
    never twice), and the notes of `week_messages`."""
    async with transaction(factory) as session:
        messages, notes = await week_messages(session=session, config=config,
                                              week_start=week_start)
        return [m for m in sorted(messages, key=delivery_order)
                if await enqueue(session=session, message=m, now=now)], notes
