"""Delivery: outbox → platform, one chat at a time in order, many chats at once.

A message is marked sent only after the platform accepted it; the outbox key travels as the
platform's idempotency key where there is one, so a crash between send and mark is harmless.

Order and fairness: the claim hands out the oldest due row of each target (storage.outbox
`claim_due`), so a chat's replies leave first-in first-out, each waiting behind its
predecessor's retries; rows of different targets are sent concurrently (at most
`concurrency` in flight), each under its own lease, so one slow chat holds up nobody else.
A rate-limit answer (a retry with `retry_after`: Feishu's 429, WeCom's busy code, a window
on our side) puts the row off without counting a try. Before a row goes to its channel,
its sends are reserved in the database windows of bot.shared_limits, which every instance
shares; a row that does not fit is put off the same way, and while an app-wide window is
full no row of that platform is claimed (otherwise a backlog would be claimed, refused and
put off over and over, taking the CPU the acknowledgements need). One instance (SQLite)
needs no database windows: the channels' own windows hold the limits there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batches import Batches
from bot.channels.base import Channel, SendResult
from bot.loops import Loop, backoff
from bot.makers import Makers
from bot.metrics import Metrics
from bot.shared_limits import Limit, SendLimits, limits_for
from handlers.clock import Clock
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import (
    MAX_ATTEMPTS,
    claim_due,
    mark_failed,
    mark_progress,
    mark_retry,
    mark_sent,
)
from storage.sendlog import Reservations, prune

log = logging.getLogger(__name__)

# Each row is leased for its own send, which its requests' timeouts (10 s each) keep short;
# a row whose sender died is taken up again after this.
LEASE = timedelta(seconds=30)
# Every this many reservations, sends older than every window are forgotten.
PRUNE_EVERY = 500
PRUNE_AFTER = timedelta(minutes=5)


def _id(row: OutboxMessage) -> int:
    assert row.id is not None
    return row.id


class Delivery:
    def __init__(
        self, *, factory: async_sessionmaker[AsyncSession], channels: Mapping[str, Channel],
        clock: Clock, concurrency: int = 16,
        yield_to: Callable[[datetime], Awaitable[None]] | None = None,
        metrics: Metrics | None = None, lease: timedelta = LEASE,
        shared_limits: bool = True, makers: Makers | None = None,
        limits: SendLimits | None = None,
    ) -> None:
        self.factory = factory
        self.channels = channels
        self.clock = clock
        self.concurrency = concurrency
        self.lease = lease
        self.shared_limits = shared_limits
        # The configured figures (SendLimits.from_settings); unset: the documented ones.
        self.limits = limits or SendLimits()
        # Attachments named on a row but not yet made (a digest's chart) are made here.
        self.makers = makers
        self.loop = Loop("delivery", self.deliver_due)
        self.wakeup = self.loop.wakeup
        self.metrics = metrics
        # Awaited before each send: lets urgent work (acknowledgements) go first.
        self.yield_to = yield_to
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._finished = 0
        # Rows about to go, reserved in the shared windows together, one transaction a batch.
        self._reserving: Batches[tuple[OutboxMessage, list[tuple[Limit, int]]], float] = (
            Batches(self._reserve_all))
        self._reservations = 0
        # Platforms whose app-wide window is full, until when: nothing of theirs is claimed.
        self._held: dict[str, datetime] = {}
        # Outcomes of finished sends, written together: one statement for all those sent.
        self._settling: Batches[tuple[OutboxMessage, SendResult], None] = Batches(
            self._settle_all)

    async def deliver_due(self) -> int:
        """Start sends for due targets while there are free places; returns how many sends
        were started or finished since the last call (0: nothing to do until woken: a send
        that finishes wakes the loop, since its chat's next row may now be due)."""
        started = await self._start_due()
        finished, self._finished = self._finished, 0
        return started + finished

    async def _start_due(self) -> int:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        now = self.clock.now()
        platforms = [p for p in self.channels if self._held.get(p, now) <= now]
        if not platforms:
            return 0
        async with transaction(self.factory) as session:
            rows = await claim_due(session=session, now=now, limit=free,
                                   lease=self.lease, platforms=platforms)
        for row in rows:
            assert row.id is not None
            task = asyncio.create_task(self._deliver(row), name=f"deliver-{row.id}")
            self._inflight[row.id] = task
            task.add_done_callback(functools.partial(self._done, row.id))
        return len(rows)

    def _done(self, row_id: int, task: asyncio.Task[None]) -> None:
        self._inflight.pop(row_id, None)
        self._finished += 1
        self.wakeup.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Marking failed (the database away): the lease runs out and the row is sent
            # again, which its idempotency key makes harmless.
            log.error("outbox %s: delivery failed: %r", row_id, exc)

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        if self.yield_to is not None:
            await self.yield_to(row.created_at)
        channel = self.channels[row.platform]
        try:
            wait = await self._reserve(row)
            if wait > 0:
                result = SendResult.retry("throttled: shared send limit", after=wait)
            else:
                if self.makers is not None:
                    await self.makers.complete(row)
                result = await channel.send(row)
        except Exception as exc:  # a channel bug must not stop delivery of other rows
            log.exception("outbox %s: send raised", row.id)
            result = SendResult.retry(f"{type(exc).__name__}: {exc}")
        await self._settle(row, result)

    async def _reserve(self, row: OutboxMessage) -> float:
        """Record the row's sends in the shared windows; or, when one is full, record nothing
        and return the seconds until the row fits."""
        limits = sorted(limits_for(row, self.limits)) if self.shared_limits else []
        if not limits:
            return 0.0
        return await self._reserving.submit((row, limits))

    async def _reserve_all(self, wanted: list[tuple[OutboxMessage, list[tuple[Limit, int]]]],
                           ) -> list[float]:
        """The rows in order, in one transaction: each admitted while its windows have room."""
        now = self.clock.now()
        waits: list[float] = []
        async with transaction(self.factory) as session:
            windows = Reservations(session, now)
            await windows.open({lim.key: lim.period for _, limits in wanted for lim, _ in limits})
            for row, limits in wanted:
                row_waits = [await windows.wait(key=lim.key, limit=lim.limit,
                                                period=lim.period, n=n) for lim, n in limits]
                if max(row_waits) > 0:
                    self._hold(row.platform, now, max(
                        (w for (lim, _), w in zip(limits, row_waits, strict=True)
                         if lim.app_wide), default=0.0))
                    waits.append(max(row_waits))
                    continue
                for lim, n in limits:
                    windows.admit(lim.key, n)
                waits.append(0.0)
            await windows.record()
            before = self._reservations
            self._reservations += len(wanted)
            if self._reservations // PRUNE_EVERY > before // PRUNE_EVERY:
                await prune(session=session, before=now - PRUNE_AFTER)
        return waits

    def _hold(self, platform: str, now: datetime, wait: float) -> None:
        """Claim nothing of `platform` for `wait` seconds (its app-wide window is full)."""
        if wait <= 0:
            return
        until = now + timedelta(seconds=wait)
        if until > self._held.get(platform, now):
            self._held[platform] = until
            asyncio.get_running_loop().call_later(wait, self.wakeup.set)

    async def _settle(self, row: OutboxMessage, result: SendResult) -> None:
        """Record a send's outcome, together with those of the sends finished beside it."""
        await self._settling.submit((row, result))

    async def _settle_all(self, batch: list[tuple[OutboxMessage, SendResult]]) -> list[None]:
        now = self.clock.now()
        outcomes: list[tuple[OutboxMessage, str]] = []
        async with transaction(self.factory) as session:
            await mark_sent(session=session, message_ids=[_id(r) for r, res in batch if res.ok],
                            now=now)
            for row, result in batch:
                outcome = "sent" if result.ok else await self._not_sent(session, row, result,
                                                                          now)
                outcomes.append((row, outcome))
        for row, outcome in outcomes:
            self._count(row, outcome)
        return [None] * len(batch)

    async def _not_sent(self, session: AsyncSession, row: OutboxMessage, result: SendResult,
                        now: datetime) -> str:
        """Give up on the row or schedule another try; the outcome to count."""
        if result.permanent:
            log.warning("outbox %s to %s %s given up: %s", row.id, row.platform,
                        row.target_kind, result.error)
            await mark_failed(session=session, message_id=_id(row), error=result.error)
            return "given_up"
        limited = result.retry_after is not None
        # A rate-limit answer says when to come back: waiting is not a failed try.
        attempts = row.attempts if limited else row.attempts + 1
        delay = result.retry_after if result.retry_after is not None else backoff(attempts)
        failed = await mark_retry(session=session, message_id=_id(row), attempts=attempts,
                                  at=now + timedelta(seconds=delay), error=result.error)
        if result.done is not None:
            await mark_progress(session=session, message_id=_id(row), done=result.done)
        if limited:
            asyncio.get_running_loop().call_later(delay, self.wakeup.set)
        if failed:
            log.error("outbox %s to %s %s given up after %d tries: %s", row.id,
                      row.platform, row.target_kind, MAX_ATTEMPTS, result.error)
            return "given_up"
        return "limited" if limited else "retried"

    def _count(self, row: OutboxMessage, outcome: str) -> None:
        if self.metrics is None:
            return
        m = self.metrics
        if outcome == "sent":
            m.replies_sent.labels(row.platform).inc()
            age = (self.clock.now() - row.created_at).total_seconds()
            m.delivery_seconds.labels(row.platform).observe(max(0.0, age))
        elif outcome == "retried":
            m.replies_retried.labels(row.platform).inc()
        elif outcome == "limited":
            m.replies_rate_limited.labels(row.platform).inc()
        else:
            m.replies_given_up.labels(row.platform).inc()

    async def drain(self) -> int:
        """Deliver until nothing is due (tests, the console): every started send finished."""
        total = 0
        while True:
            started = await self._start_due()
            waited = bool(self._inflight)
            if waited:
                await asyncio.gather(*self._inflight.values(), return_exceptions=True)
            self._finished = 0
            if started == 0 and not waited:
                return total
            total += started

    async def close(self) -> None:
        """Let the sends in flight finish (shutdown); their rows are marked."""
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        await self._settling.close()

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Owned by the app's cleanup context; woken when there is work, polls as a safety net;
        a failing round (the database away) is logged and retried after a capped backoff.
        Sends still in flight when stopped are finished before this returns."""
        self.loop.poll = poll
        try:
            await self.loop.run(stop)
        finally:
            await self.close()
