"""Saving incoming events before they are acknowledged: the one way into the inbox for every
channel (webhooks, long connections, the console).

Group commit: requests that arrive together go in one statement and one commit (bot.batches,
storage.inbox_saver). Every event is still committed before its own answer; SQLite just sees
one writer instead of dozens of connections fighting over its write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.batches import Batches
from bot.metrics import Metrics
from handlers.cleantext import clean_json
from handlers.clock import Clock
from storage.db import JSONText
from storage.inbox_saver import InboxSaver


class Wakeup(Protocol):
    def set(self) -> None: ...


@dataclass(slots=True)
class _Pending:
    platform: str
    event_id: str
    payload: JSONText


# Background database work (worker, delivery, scheduler, pages) waits at most this long at a
# time for the acknowledgements in hand (storage.sqlite_inline: it runs on the loop).
GIVE_WAY_S = 0.05
# The worker and delivery wait at most this long before each event or send...
ACK_PRIORITY_S = 0.2
# ...and only while what they work on is younger than this: an older event or reply goes
# without waiting, so replies keep up with a steady stream of acknowledgements (where one is
# nearly always in hand, waiting gains the acknowledgements nothing and costs every reply).
REPLY_SOON = timedelta(seconds=0.5)
# A burst: this many acknowledgements in hand at once. Then even older work waits its turn
# (a steady stream, even at 200 events/s, has one or two in hand; a burst, dozens), so a
# burst is saved at full speed and its replies follow it.
BURST_IN_HAND = 8
# Set in a task whose work is past REPLY_SOON: its database calls do not wait either.
_OVERDUE: ContextVar[bool] = ContextVar("overdue", default=False)


class Acks:
    """The acknowledgements in hand. Acknowledgements have the platform's 3-second deadline
    and replies have none, so under a burst the saving goes first and the replies catch up
    after it: background work asks `busy` between steps and waits (`quiet`, bounded, so it
    never starves) while any is in hand."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        # Set while no acknowledgement is in hand (a request being answered, or a save).
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_hand = 0

    @contextlib.contextmanager
    def in_hand(self) -> Iterator[None]:
        """Around a callback request from its first byte to its answer, not only a save."""
        self._in_hand += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_hand -= 1
            if not self._in_hand:
                self._idle.set()

    def busy(self) -> bool:
        """Whether an acknowledgement is in hand now."""
        return self._in_hand > 0

    def in_burst(self) -> bool:
        """Whether a burst of acknowledgements is in hand now (BURST_IN_HAND)."""
        return self._in_hand >= BURST_IN_HAND

    async def quiet(self, *, at_most: float) -> None:
        """Wait until no acknowledgement is in hand, or `at_most` seconds."""
        if self._idle.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=at_most)

    async def let_through(self, since: datetime) -> None:
        """Before work on something received at `since`: wait while acknowledgements are in
        hand, at most ACK_PRIORITY_S and only until the work is REPLY_SOON old, except in a
        burst, when any work waits. A burst is acknowledged first; under a steady load old
        work goes at once, and this task's database calls stop waiting too (`give_way`)."""
        left = (since + REPLY_SOON - self.clock.now()).total_seconds()
        burst = self.in_burst()
        _OVERDUE.set(left <= 0 and not burst)
        if burst:
            await self.quiet(at_most=ACK_PRIORITY_S)
        elif left > 0:
            await self.quiet(at_most=min(ACK_PRIORITY_S, left))

    async def give_way(self) -> None:
        """A database connection's wait at a turn (storage.sqlite_inline.GiveWay)."""
        if not _OVERDUE.get():
            await self.quiet(at_most=GIVE_WAY_S)


class InboxWriter:
    def __init__(self, *, engine: AsyncEngine, clock: Clock, wakeup: Wakeup,
                 metrics: Metrics | None = None, acks: Acks | None = None) -> None:
        self.engine = engine
        self.saver = InboxSaver(engine)
        self.metrics = metrics
        self.clock = clock
        self.wakeup = wakeup
        self.acks = acks or Acks(clock)
        self._batches: Batches[_Pending, bool] = Batches(self._write)
        # Per platform, the counters of received and redelivered events (labelled once).
        self._counters: dict[str, tuple[Any, Any]] = {}

    @property
    def batches(self) -> int:
        return self._batches.written

    async def save(self, *, platform: str, event_id: str,
                   payload: dict[str, Any] | JSONText) -> bool:
        """True when the event is new; False for a redelivery (already saved, nothing to do).
        Raises if it could not be saved: the caller must then not acknowledge it.

        Strings are cleaned first (handlers.cleantext): a NUL or a lone surrogate must not
        make an event impossible to store, and so unanswered. The payload is encoded once,
        there, and stored as that text; one given as JSONText is stored as it is (the
        caller found nothing in it to clean: handlers.cleantext.json_text_if_clean)."""
        text = payload if isinstance(payload, JSONText) else JSONText(clean_json(payload))
        with self.acks.in_hand():
            new = await self._batches.submit(_Pending(platform, event_id, text))
        if self.metrics is not None:
            received, redelivered = self._counted(platform)
            received.inc()
            if not new:
                redelivered.inc()
        return new

    def _counted(self, platform: str) -> tuple[Any, Any]:
        counters = self._counters.get(platform)
        if counters is None:
            assert self.metrics is not None
            counters = self._counters[platform] = (
                self.metrics.events_received.labels(platform),
                self.metrics.events_deduplicated.labels(platform))
        return counters

    async def close(self) -> None:
        """After the saves in hand: its connection and its engine."""
        await self._batches.close()
        await self.saver.close()

    async def _write(self, batch: list[_Pending]) -> list[bool]:
        inserted: set[tuple[str, str]] = set()
        for platform in {item.platform for item in batch}:
            events = [(i.event_id, i.payload) for i in batch if i.platform == platform]
            new = await self.saver.insert(platform=platform, events=events,
                                          received_at=self.clock.now())
            inserted |= {(platform, event_id) for event_id in new}
        if inserted:
            self.wakeup.set()
        results = []
        for item in batch:
            # The same event twice in one batch: the first copy is the new one.
            key = (item.platform, item.event_id)
            results.append(key in inserted)
            inserted.discard(key)
        return results
