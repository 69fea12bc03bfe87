"""APScheduler as a metronome: one job with a stable id ticks `scheduler.due.tick`.

The job only asks "what is due since the last run?"; the answer, the exactly-once keys and
the last-run mark live in the database, so APScheduler keeps no state of its own (memory job
store): a restart catches up at once (the first beat runs at start), a second instance or a
double-fired beat enqueues nothing twice. Each beat also queues the admins' daily note on
given-up messages (scheduler.undelivered). Times are the injected clock's, so the console's
/time and the tests move them. Imports scheduler.due and handlers.clock; never bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from scheduler.config import SchedulerConfig
from scheduler.due import catch_up, tick
from scheduler.undelivered import queue_undelivered_note
from storage.blobs import BlobStorage

log = logging.getLogger(__name__)

TICK_JOB_ID = "jiaolian.scheduler.tick"


class SchedulerService:
    """Owns the AsyncIOScheduler; `start()` inside a running loop, `await stop()` to finish."""

    def __init__(
        self, *, factory: async_sessionmaker[AsyncSession], clock: Clock,
        config: SchedulerConfig, on_queued: Callable[[], None] | None = None,
        files: BlobStorage | None = None, on_run: Callable[[str], None] | None = None,
    ) -> None:
        self.factory = factory
        self.files = files
        # Told "ok" or "failed" after each beat (the bot's metrics).
        self.on_run = on_run
        # Read by the bot's health check, like a bot.loops.Loop: one beat every tick_seconds.
        self.name = "scheduler"
        self.started = time.monotonic()
        self.last_ok: float | None = None
        self.failures = 0
        self.last_error = ""
        self.clock = clock
        self.config = config
        self.on_queued = on_queued
        self.scheduler = AsyncIOScheduler(timezone=config.timezone)
        self._running: set[asyncio.Task[None]] = set()

    async def beat(self) -> None:
        """One tick; errors are logged and the next beat tries again."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            queued = len(await tick(factory=self.factory, clock=self.clock, config=self.config,
                                    files=self.files))
            queued += await queue_undelivered_note(factory=self.factory, now=self.clock.now(),
                                                   config=self.config)
            if queued and self.on_queued is not None:
                self.on_queued()
        except Exception as exc:  # a failing beat must not stop the next one
            self.failures += 1
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            self.last_error = f"{type(exc).__name__}: {first}"
            # The next beat is the retry: tick_seconds apart, whatever the number of failures.
            log.error("scheduler: beat failed (%d in a row): %s", self.failures, self.last_error)
            log.debug("scheduler: failure details", exc_info=True)
            if self.on_run is not None:
                self.on_run("failed")
        else:
            self.failures = 0
            self.last_error = ""
            self.last_ok = time.monotonic()
            if self.on_run is not None:
                self.on_run("ok")
        finally:
            if task is not None:
                self._running.discard(task)

    def stale_for(self) -> float:
        """Seconds since the last good beat (or since the start, before one)."""
        return time.monotonic() - (self.last_ok if self.last_ok is not None else self.started)

    def start(self) -> None:
        self.scheduler.add_job(
            self.beat, IntervalTrigger(seconds=self.config.tick_seconds,
                                       timezone=self.config.timezone),
            id=TICK_JOB_ID, name="run what is due", replace_existing=True,
            # Missed beats collapse into one; the window since the last run covers them.
            coalesce=True, max_instances=1, misfire_grace_time=self.config.tick_seconds * 5,
            next_run_time=datetime.now(self.config.timezone),
        )
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


def catch_up_hook(
    *, factory: async_sessionmaker[AsyncSession], config: SchedulerConfig,
    files: BlobStorage | None = None,
) -> Callable[[datetime, datetime], Awaitable[None]]:
    """For the console's /time: run what fell due between the old and the new moment, as a bot
    beating all along would have (`scheduler.due.catch_up`), not as one that was down.

    The first jump only sets the scene: the console's clock starts at the real time, which
    means nothing in the simulated county, so nothing is caught up from it."""
    scene_set = False

    async def hook(before: datetime, after: datetime) -> None:
        nonlocal scene_set
        if scene_set and after > before:
            await catch_up(factory=factory, before=before, after=after, config=config,
                           files=files)
        scene_set = True

    return hook
