"""Sliding-window send limits kept on our side, per key (a chat, an app, a robot, a person).

Platforms either refuse sends over their limits (Feishu: 429) or drop them silently (WeCom),
so each channel keeps under them itself. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` sends per `period` seconds for each key."""

    def __init__(self, limit: int, period: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    def delay(self, key: str, n: int = 1) -> float:
        """Seconds until `n` more sends fit for `key` (0: now)."""
        now = self.clock()
        recent = self._recent.get(key)
        while recent and now - recent[0] >= self.period:
            recent.popleft()
        if not recent:
            self._recent.pop(key, None)
            return 0.0
        over = len(recent) + min(n, self.limit) - self.limit
        if over <= 0:
            return 0.0
        return self.period - (now - recent[over - 1])

    def take(self, key: str) -> None:
        self._recent.setdefault(key, deque()).append(self.clock())

    async def acquire(self, key: str) -> None:
        """Wait for room, then take it. One waiter at a time keeps the order fair."""
        async with self._lock:
            wait = self.delay(key)
            if wait > 0:
                # After this the oldest send has left the window (a millisecond of slack
                # for the clock's rounding), so there is room for this one.
                await asyncio.sleep(wait + 0.001)
                self.delay(key)
            self.take(key)
