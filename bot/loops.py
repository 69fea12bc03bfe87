"""Background loops that survive: work until idle, sleep until woken, polled or stopped; a
failing iteration is logged with its cause, backed off (capped) and tried again.

Each loop keeps the moment of its last completed iteration, which `/healthz` reads: a loop
that has not completed one for a minute is reported, whatever the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
# A loop whose iterations fail waits at most this long before the next try: an outage of the
# database must not leave the bot asleep for minutes after it is over.
LOOP_MAX_BACKOFF_S = 30.0


def backoff(attempts: int) -> float:
    """Exponential with jitter: about 2, 4, 8 … seconds, at most ten minutes."""
    return min(2.0 ** attempts, MAX_BACKOFF_S) * random.uniform(0.8, 1.2)


def loop_backoff(failures: int) -> float:
    """After the n-th failing iteration in a row: 0.5, 1, 2 … seconds, at most 30."""
    return min(0.25 * 2.0 ** failures, LOOP_MAX_BACKOFF_S) * random.uniform(0.8, 1.2)


def describe(exc: BaseException) -> str:
    """The cause in one line (the first of the exception's message), for logs and health."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Loop:
    """One background loop around `step` (returns how much it did; 0: nothing to do).

    `run_once` is one iteration and never raises an Exception: tests drive it directly,
    `run` repeats it until stopped. Work is done back to back; when idle, the loop sleeps
    until woken or `poll` seconds; after a failure, `backoff(failures in a row)` seconds.
    """

    def __init__(
        self, name: str, step: Callable[[], Awaitable[int]], *, poll: float = 1.0,
        backoff: Callable[[int], float] = loop_backoff,
        monotonic: Callable[[], float] = time.monotonic,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        # Called after each failed iteration (the app counts them in its metrics).
        self.on_failure: Callable[[], None] | None = None
        self.step = step
        self.poll = poll
        self.backoff = backoff
        self.monotonic = monotonic
        self.wakeup = wakeup or asyncio.Event()
        self.started = monotonic()
        self.last_ok: float | None = None
        self.failures = 0
        self.last_error = ""
        self.iterations = 0
        # Set after every iteration, failed or not: tests wait on it instead of sleeping.
        self.iterated = asyncio.Event()

    async def run_once(self) -> int | None:
        """One iteration: what the step did, or None when it failed (logged, counted)."""
        try:
            done = await self.step()
        except Exception as exc:  # a failing iteration must not end the loop
            self.failures += 1
            self.last_error = describe(exc)
            log.error("%s: iteration failed (%d in a row): %s", self.name, self.failures,
                      self.last_error)
            log.debug("%s: failure details", self.name, exc_info=True)
            if self.on_failure is not None:
                self.on_failure()
            return None
        finally:
            self.iterations += 1
            self.iterated.set()
        if self.failures:
            log.warning("%s: recovered after %d failed iteration(s)", self.name, self.failures)
        self.failures = 0
        self.last_error = ""
        self.last_ok = self.monotonic()
        return done

    def stale_for(self) -> float:
        """Seconds since the last completed iteration (or since the start, before one)."""
        return self.monotonic() - (self.last_ok if self.last_ok is not None else self.started)

    async def run(self, stop: asyncio.Event) -> None:
        """Owned by the app's cleanup context: repeats until `stop` is set."""
        while not stop.is_set():
            done = await self.run_once()
            if done is None:
                await _wait_for(stop, seconds=self.backoff(self.failures))
            elif done == 0:
                self.wakeup.clear()
                await _wait_any(self.wakeup, stop, seconds=self.poll)
            else:
                await asyncio.sleep(0)  # let requests in between batches


async def _wait_for(event: asyncio.Event, *, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


async def _wait_any(*events: asyncio.Event, seconds: float) -> None:
    waiters = {asyncio.ensure_future(e.wait()) for e in events}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()

