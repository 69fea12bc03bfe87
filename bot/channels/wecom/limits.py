"""Per-minute send budgets kept on our side (WeCom drops messages above its limits without an
error): 20/min per group robot, 30/min per member through the app; and text splitting at
WeCom's 2048-byte limit.

A full budget is not waited out here: the channel answers "retry after N s" and the outbox
row goes back to the queue, so one busy robot never holds up the others. Imports nothing of
ours.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

TEXT_LIMIT_BYTES = 2048


class MinuteBudget:
    """At most `limit` sends per `period` seconds for each key."""

    def __init__(self, limit: int, period: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._recent: dict[str, deque[float]] = {}

    def wait(self, key: str, n: int = 1) -> float:
        """Seconds until `n` more sends fit for `key` (0: now)."""
        now = self.clock()
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self.period:
            recent.popleft()
        over = len(recent) + min(n, self.limit) - self.limit
        if over <= 0:
            return 0.0
        return self.period - (now - recent[over - 1])

    def take(self, key: str) -> None:
        self._recent.setdefault(key, deque()).append(self.clock())


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:  # one line too long: cut by characters
            head = _prefix(line, limit - len(current.encode("utf-8")))
            if not head:
                parts.append(current)
                current = ""
                continue
            parts.append(current + head)
            current, line = "", line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") for p in parts if p.strip()]


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` within `budget` UTF-8 bytes."""
    out, used = [], 0
    for ch in text:
        size = len(ch.encode("utf-8"))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out)
