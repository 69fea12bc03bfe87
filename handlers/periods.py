"""Calendar periods (this week, last month, this semester…) as half-open date ranges.

The one definition of semesters lives here, in two parts (spec/domain.md, "The school
calendar"): the teaching terms (`Semester`: when classes run; the days between two terms are
a vacation), and a term's counting window (`semester_window`: from the day after the previous
term ended to its own last day, so the vacation before a term, when trainings happen, counts
for it and no day falls between two windows). Terms come from `[scheduler] semesters`, else
`DEFAULT_SEMESTERS`, and past those from `guessed_semesters`. `calendar_period` derives every
quota period from them: the scheduler's `SchoolCalendar.period` for the configured terms,
`plain_period` for the default ones, so both give the same windows. Imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A counting window; the scheduler's calendar makes them, queries and digests share them."""

    kind: str  # month / quarter / semester / year / term (or week / day / calendar_year)
    label: str  # stable, for outbox keys: 2026-11, 2026-Q4, 2026-autumn, SY2026
    start: dt.date
    end: dt.date  # exclusive


@dataclass(frozen=True)
class Semester:
    """A teaching term: classes run from `start` to `end`; the days between two terms are a
    vacation, and count for the term after them (`semester_window`)."""

    name: str
    start: dt.date
    end: dt.date  # the last day of term, inclusive

    @property
    def label(self) -> str:
        """Its semester's Period label: 2026-autumn, 2027-spring (a term starting from August
        on is an autumn term)."""
        return f"{self.start.year}-{'autumn' if self.start.month >= 8 else 'spring'}"

    @property
    def school_year(self) -> int:
        """The year its school year starts: an autumn term and the spring term after it."""
        return self.start.year if self.start.month >= 8 else self.start.year - 1


# The default school calendar (docs/scheduler.md); `[scheduler] semesters` replace it.
DEFAULT_SEMESTERS: tuple[Semester, ...] = (
    Semester("2026春", dt.date(2026, 3, 2), dt.date(2026, 7, 10)),
    Semester("2026秋", dt.date(2026, 9, 1), dt.date(2027, 1, 22)),
    Semester("2027春", dt.date(2027, 3, 1), dt.date(2027, 7, 9)),
)

# Terms for years nobody configured, as ((month, day) of the first day, (month, day) of the
# last): spec/domain.md's autumn "about 1 September to mid-January" (it ends the next year)
# and spring "about 1 March to early July".
GUESSED_AUTUMN = ((9, 1), (1, 20))
GUESSED_SPRING = ((3, 1), (7, 10))


def guessed_semesters(year: int) -> tuple[Semester, Semester]:
    """The spring and the autumn term that start in `year`, as guessed."""
    (sm, sd), (em, ed) = GUESSED_SPRING
    spring = Semester(f"{year}春", dt.date(year, sm, sd), dt.date(year, em, ed))
    (sm, sd), (em, ed) = GUESSED_AUTUMN
    autumn = Semester(f"{year}秋", dt.date(year, sm, sd), dt.date(year + 1, em, ed))
    return spring, autumn


def semesters_around(year: int, configured: Sequence[Semester]) -> tuple[Semester, ...]:
    """The terms from two years before `year` to the one after (enough for any window and
    school year of a day in `year`), in order: the `configured` ones (sorted, not
    overlapping), and guessed ones where nothing is configured, before the first configured
    term or after the last."""
    def stands(guess: Semester) -> bool:
        return (not configured or guess.end < configured[0].start
                or guess.start > configured[-1].end)

    guesses = [g for y in range(year - 2, year + 2) for g in guessed_semesters(y) if stands(g)]
    return tuple(sorted([*configured, *guesses], key=lambda s: s.start))


def semester_window(day: dt.date, terms: Sequence[Semester]) -> tuple[Semester, dt.date, dt.date]:
    """(term, first day, end exclusive) of the semester `day` counts for: the first term not
    over by `day`, counted from the day after the term before it ended. `terms` in order, as
    `semesters_around(day.year, …)` gives them."""
    for before, term in zip(terms, terms[1:], strict=False):
        if before.end < day <= term.end:
            return term, before.end + ONE_DAY, term.end + ONE_DAY
    raise ValueError(f"no term around {day} to count it for")


def term_containing(day: dt.date, terms: Sequence[Semester]) -> Semester | None:
    """The term in which classes run on `day`; None in a vacation."""
    return next((t for t in terms if t.start <= day <= t.end), None)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_range(day: dt.date) -> tuple[dt.date, dt.date]:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return first, add_months(first, 3)


def calendar_period(kind: str, day: dt.date, terms: Sequence[Semester]) -> Period:
    """The quota period `kind` around `day`, for the terms around it (`semesters_around`):
    a calendar month or quarter; the semester's counting window; the school year (its terms'
    windows together); or the teaching term itself ("term": the classes of the semester `day`
    counts for, without the vacation before them)."""
    if kind == "month":
        first = month_start(day)
        return Period(kind, f"{first:%Y-%m}", first, add_months(first, 1))
    if kind == "quarter":
        start, end = quarter_range(day)
        return Period(kind, f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, end)
    sem, start, end = semester_window(day, terms)
    if kind == "semester":
        return Period(kind, sem.label, start, end)
    if kind == "term":
        return Period(kind, sem.label, sem.start, sem.end + ONE_DAY)
    if kind != "year":
        raise ValueError(f"unknown period kind {kind!r}")
    year = [semester_window(t.end, terms) for t in terms if t.school_year == sem.school_year]
    return Period(kind, f"SY{sem.school_year}", year[0][1], year[-1][2])


def period_range(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a named period around `today` that is no quota period (a day, a week,
    the calendar year; else this month): months, quarters and terms are `query_period`'s."""
    if period == "today":
        return today, today + ONE_DAY
    if period == "this_week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=7)
    if period == "last_week":
        start = today - dt.timedelta(days=today.weekday() + 7)
        return start, start + dt.timedelta(days=7)
    if period == "this_year":
        return dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    first = month_start(today)
    return first, add_months(first, 1)


# A quota period kind (month / quarter / semester / year, or the teaching term) around a day:
# the school calendar's (scheduler.calendar.SchoolCalendar.period) in the running bot,
# `plain_period` without one.
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


@functools.lru_cache(maxsize=16)
def _default_terms(year: int) -> tuple[Semester, ...]:
    return semesters_around(year, DEFAULT_SEMESTERS)


def plain_period(kind: str, day: dt.date) -> Period:
    """Without a configured school calendar: the default one's periods, exactly what
    `SchoolCalendar.period` gives for the default `[scheduler]` table."""
    return calendar_period(kind, day, _default_terms(day.year))


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
