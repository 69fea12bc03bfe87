"""Delivery: outbox → platform, with retries and backoff; permanent errors end a row.

A message is marked sent only after the platform accepted it; the outbox key travels as the
platform's idempotency key where there is one, so a crash between send and mark is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel, SendResult
from bot.loops import Loop, backoff
from bot.metrics import Metrics
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

log = logging.getLogger(__name__)

class Delivery:
    def __init__(
        self, *, factory: async_sessionmaker[AsyncSession], channels: Mapping[str, Channel],
        clock: Clock, batch: int = 20, yield_to: Callable[[], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.factory = factory
        self.channels = channels
        self.clock = clock
        self.batch = batch
        self.loop = Loop("delivery", self.deliver_due)
        self.wakeup = self.loop.wakeup
        self.metrics = metrics
        # Awaited before each send: lets urgent work (acknowledgements) go first.
        self.yield_to = yield_to

    async def deliver_due(self) -> int:
        """Send what is due now; returns how many rows were tried."""
        async with transaction(self.factory) as session:
            rows = await claim_due(session=session, now=self.clock.now(), limit=self.batch,
                                   platforms=list(self.channels))
        for row in rows:
            if self.yield_to is not None:
                await self.yield_to()
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        channel = self.channels[row.platform]
        try:
            result = await channel.send(row)
        except Exception as exc:  # a channel bug must not stop delivery of other rows
            log.exception("outbox %s: send raised", row.id)
            result = SendResult.retry(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        outcome = "sent"
        async with transaction(self.factory) as session:
            if result.ok:
                await mark_sent(session=session, message_id=row.id, now=now)
            elif result.permanent:
                log.warning("outbox %s failed for good: %s", row.id, result.error)
                await mark_failed(session=session, message_id=row.id, error=result.error)
                outcome = "given_up"
            else:
                attempts = row.attempts + 1
                delay = result.retry_after if result.retry_after is not None else backoff(attempts)
                await mark_retry(session=session, message_id=row.id, attempts=attempts,
                                 at=now + timedelta(seconds=delay), error=result.error)
                if result.done is not None:
                    await mark_progress(session=session, message_id=row.id, done=result.done)
                outcome = "given_up" if attempts >= MAX_ATTEMPTS else "retried"
        self._count(row, outcome)

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
        else:
            m.replies_given_up.labels(row.platform).inc()

    async def drain(self) -> int:
        total = 0
        while (n := await self.deliver_due()) > 0:
            total += n
        return total

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Owned by the app's cleanup context; woken when there is work, polls as a safety net;
        a failing round (the database away) is logged and retried after a capped backoff."""
        self.loop.poll = poll
        await self.loop.run(stop)
