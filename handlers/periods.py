"""Calendar periods (this week, last month, this semester…) as half-open date ranges.

Semesters follow spec/domain.md: autumn from 1 September to the end of January, spring from
1 February to the end of August (vacations included, so nothing falls between two).
Imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt


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
