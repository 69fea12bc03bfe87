"""Calendar periods (this week, last month, this semester…) as half-open date ranges.

Semesters follow spec/domain.md: autumn from 1 September to the end of January, spring from
1 February to the end of August (vacations included, so nothing falls between two).
Imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """A counting window; the scheduler's calendar makes them, queries and digests share them."""

    kind: str  # month / quarter / semester / year (or week / day / calendar_year for queries)
    label: str  # stable, for outbox keys: 2026-11, 2026-Q4, 2026-autumn, SY2026
    start: dt.date
    end: dt.date  # exclusive


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def semester_range(day: dt.date) -> tuple[dt.date, dt.date]:
    if day.month >= 9:
        return dt.date(day.year, 9, 1), dt.date(day.year + 1, 2, 1)
    if day.month == 1:
        return dt.date(day.year - 1, 9, 1), dt.date(day.year, 2, 1)
    return dt.date(day.year, 2, 1), dt.date(day.year, 9, 1)


def quarter_range(day: dt.date) -> tuple[dt.date, dt.date]:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return first, add_months(first, 3)


def period_range(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a named period around `today`."""
    if period == "today":
        return today, today + dt.timedelta(days=1)
    if period == "this_week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=7)
    if period == "last_week":
        start = today - dt.timedelta(days=today.weekday() + 7)
        return start, start + dt.timedelta(days=7)
    if period == "last_month":
        first = month_start(today)
        return add_months(first, -1), first
    if period == "this_quarter":
        return quarter_range(today)
    if period == "this_semester":
        return semester_range(today)
    if period == "this_year":
        return dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    first = month_start(today)
    return first, add_months(first, 1)


# A quota period kind (month / quarter / semester / year) around a day: the school calendar's
# (scheduler.calendar.SchoolCalendar.period) in the running bot, `plain_period` without one.
PeriodOf = Callable[[str, dt.date], Period]

# Query period words (spec/nlu.md) that name a quota period kind, and how far back they look.
QUERY_KINDS = {
    "this_month": "month",
    "last_month": "month",
    "this_quarter": "quarter",
    "last_quarter": "quarter",
    "this_semester": "semester",
    "last_semester": "semester",
}


def plain_period(kind: str, day: dt.date) -> Period:
    """Without a school calendar: semesters as `semester_range`, the school year from
    September."""
    if kind == "month":
        first = month_start(day)
        return Period(kind, f"{first:%Y-%m}", first, add_months(first, 1))
    if kind == "quarter":
        start, end = quarter_range(day)
        return Period(kind, f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, end)
    if kind == "semester":
        start, end = semester_range(day)
        return Period(kind, f"{start.year}-{'autumn' if start.month >= 8 else 'spring'}",
                      start, end)
    year = day.year if day.month >= 9 else day.year - 1
    return Period("year", f"SY{year}", dt.date(year, 9, 1), dt.date(year + 1, 9, 1))


def query_period(word: str | None, today: dt.date, period_of: PeriodOf) -> Period:
    """The window a query's period word means; months, quarters and terms come from
    `period_of`, so a query counts over exactly what a digest or reminder counts over.
    No word means this month (spec/nlu.md)."""
    word = word or "this_month"
    kind = QUERY_KINDS.get(word)
    if kind is not None:
        current = period_of(kind, today)
        if word.startswith("last_"):
            return period_of(kind, current.start - dt.timedelta(days=1))
        return current
    start, end = period_range(word, today)
    kinds = {"today": "day", "this_week": "week", "last_week": "week",
             "this_year": "calendar_year"}
    return Period(kinds.get(word, "month"), start.isoformat(), start, end)
