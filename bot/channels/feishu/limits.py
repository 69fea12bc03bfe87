"""Sliding-window rate limits kept inside the channel: 5 messages/s per chat, 50/s per app.

Feishu's per-chat limit is shared by every bot in the chat, so staying under it ourselves
avoids most 429s; the ones that still come are honoured by the API client. Imports nothing
of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` acquisitions per `period` seconds for each key."""

    def __init__(self, limit: int, period: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    def delay(self, key: str) -> float:
        """Seconds until `key` may go again (0: now)."""
        recent = self._recent.get(key)
        now = self.clock()
        while recent and now - recent[0] >= self.period:
            recent.popleft()
        if not recent:
            self._recent.pop(key, None)
            return 0.0
        if len(recent) < self.limit:
            return 0.0
        return self.period - (now - recent[0])

    async def acquire(self, key: str) -> None:
        # One waiter at a time keeps the order fair and the bookkeeping simple.
        async with self._lock:
            wait = self.delay(key)
            if wait > 0:
                # After this the oldest send has left the window (a millisecond of slack
                # for the clock's rounding), so there is room for this one.
                await asyncio.sleep(wait + 0.001)
                self.delay(key)
            self._recent.setdefault(key, deque()).append(self.clock())
