"""Slots to JSON and back: the one place where typed days and clock times become text.

The parser hands out `datetime.date` and `datetime.time`; JSON (`jiaolian parse`, a pending
question's state, a report's row) and the `Activity.time` column keep the contract's text,
"2026-11-26" and "14:00". Imports nothing outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

DATE_KEYS = ("date", "from_date")
TIME_KEYS = ("time", "end_time")


def clock_text(at: time | None) -> str | None:
    """"14:00": how spec/nlu.md writes a time and how `Activity.time` keeps it."""
    return f"{at.hour:02d}:{at.minute:02d}" if at is not None else None


def clock_of(text: str | None) -> time | None:
    """The time an "HH:MM" text (a JSON slot, the `Activity.time` column) stands for."""
    return time.fromisoformat(text) if text else None


def slots_to_json(slots: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with days and times as text, later events (`more`) too; the rest as it is."""
    return slots_to_json_in_place(dict(slots))


def slots_to_json_in_place(data: dict[str, Any]) -> dict[str, Any]:
    """`slots_to_json` without the copy, for a dict of the caller's own (a parse's JSON)."""
    for key in DATE_KEYS:
        value = data.get(key)
        if isinstance(value, date):
            data[key] = value.isoformat()
    for key in TIME_KEYS:
        value = data.get(key)
        if isinstance(value, time):
            data[key] = clock_text(value)
    if isinstance(data.get("more"), list):
        data["more"] = [slots_to_json(e) if isinstance(e, Mapping) else e for e in data["more"]]
    return data


def slots_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `slots_to_json`: days and times typed again, `more` too."""
    slots = dict(data)
    for key in DATE_KEYS:
        value = slots.get(key)
        if isinstance(value, str):
            slots[key] = date.fromisoformat(value) if value else None
    for key in TIME_KEYS:
        value = slots.get(key)
        if isinstance(value, str):
            slots[key] = clock_of(value)
    if isinstance(slots.get("more"), list):
        slots["more"] = [slots_from_json(e) if isinstance(e, Mapping) else e
                         for e in slots["more"]]
    return slots
