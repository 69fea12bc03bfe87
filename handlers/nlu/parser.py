"""The parser's public face: `Parser(schools=…).parse(text, now)` → `ParseResult`.

Imports nothing outside handlers.nlu.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

KEYS = ("intent", "activity", "date", "time", "subject", "grade", "participants", "topic",
        "school", "period", "name")


@dataclass
class ParseResult:
    """What one message means; every key of spec/nlu.md, null where it does not apply."""

    intent: str = "unknown"
    activity: str | None = None
    date: str | None = None
    time: str | None = None
    subject: str | None = None
    grade: str | None = None
    participants: int | None = None
    topic: str | None = None
    school: str | None = None
    period: str | None = None
    name: str | None = None
    confidence: float = 0.0
    matched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Parser:
    """Loaded once per process; `parse` is pure and thread-safe."""

    def __init__(
        self,
        *,
        schools: Sequence[tuple[str, Sequence[str]]],
        settings: Mapping[str, Any] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.schools = list(schools)
        self.settings = dict(settings or {})
        self.cache_dir = cache_dir

    def parse(self, text: str, now: datetime) -> ParseResult:
        return ParseResult()
