"""When an event ends: one rule for 早退, "the event is over", summaries and outcome questions.

The stated end time; else the start plus the activity's configured length
(`[scheduler] default_length_minutes`, a number or a table by activity code; default 120);
a plan with no start time ends at 18:00 of its day (spec/conversation.md, "End of an event").
Imports storage's models only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

DEFAULT_LENGTH = dt.timedelta(minutes=120)
UNTIMED_END = dt.time(18, 0)


class Timed(Protocol):
    activity: str | None
    date: dt.date | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


@dataclass(frozen=True)
class EventLengths:
    """How long each activity lasts when nobody says; `configured` ones judge 早退 too."""

    default: dt.timedelta = DEFAULT_LENGTH
    by_activity: Mapping[str, dt.timedelta] = field(default_factory=dict)
    # True when the county configured a length for every activity (a number, not a table).
    all_configured: bool = False

    def of(self, code: str | None) -> dt.timedelta:
        return self.by_activity.get(code or "", self.default)

    def configured(self, code: str | None) -> bool:
        return self.all_configured or (code or "") in self.by_activity

    @classmethod
    def from_setting(cls, raw: Any) -> EventLengths:
        """`default_length_minutes = 90` or `{ training = 180, default = 120 }`."""
        if raw is None:
            return cls()
        if isinstance(raw, bool) or not isinstance(raw, int | Mapping):
            raise ValueError("default_length_minutes: expected minutes or a table of them")
        if isinstance(raw, int):
            return cls(default=_minutes(raw, "default_length_minutes"), all_configured=True)
        table = {str(k): _minutes(v, f"default_length_minutes.{k}") for k, v in raw.items()}
        default = table.pop("default", DEFAULT_LENGTH)
        return cls(default=default, by_activity=table)


def _minutes(value: Any, key: str) -> dt.timedelta:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 60:
        raise ValueError(f"{key}: expected a whole number of minutes (1–1440)")
    return dt.timedelta(minutes=value)


def event_end(event: Timed, lengths: EventLengths, zone: ZoneInfo) -> dt.datetime | None:
    if event.ends_at is not None:
        return event.ends_at
    if event.starts_at is not None:
        return event.starts_at + lengths.of(event.activity)
    if event.date is not None:
        return dt.datetime.combine(event.date, UNTIMED_END, tzinfo=zone)
    return None


def judges_early(event: Timed, lengths: EventLengths) -> bool:
    """早退 only against a stated end, or a length the county configured for the activity."""
    return event.ends_at is not None or (
        event.starts_at is not None and lengths.configured(event.activity))
