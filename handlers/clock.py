"""Time as an injected dependency, so the console's /time and the tests move it.

Imports nothing of ours.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(SHANGHAI)


class SimulatedClock:
    """Starts at a set moment and runs on with real time (console demo)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._base = start or datetime.now(SHANGHAI)
        self._mono = time.monotonic()

    def set(self, moment: datetime) -> None:
        self._base = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return (self._base + timedelta(seconds=time.monotonic() - self._mono)).astimezone(SHANGHAI)


class FixedClock:
    """Stands still until told to move (tests)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta
