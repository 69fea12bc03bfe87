"""One definition of semesters (issue 14): teaching terms and their counting windows.

handlers.periods defines both; the school calendar, `plain_period` and the pages derive
everything from them, so they agree on every day, vacations included (spec/domain.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.pages.figures import term_months
from handlers.periods import GUESSED_AUTUMN, GUESSED_SPRING, PeriodOf, plain_period
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.jobs import _guess, calendar_warning_keys
from tests.scheduler_support import config

D = dt.date
KINDS = ("month", "quarter", "semester", "year", "term")
# Only the autumn term configured: guessed terms before and after it.
ONE_TERM = {"semesters": [{"name": "2026秋", "start": D(2026, 9, 7), "end": D(2027, 1, 15)}]}


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day < end:
        yield day
        day += dt.timedelta(days=1)


def test_plain_periods_are_the_default_calendars() -> None:
    calendar = SchoolCalendar(SchedulerConfig())
    for day in days(D(2024, 1, 1), D(2029, 1, 1)):
        for kind in KINDS:
            assert plain_period(kind, day) == calendar.period(kind, day), (kind, day)


@pytest.mark.parametrize("raw", [None, ONE_TERM])
def test_semester_windows_follow_each_other_and_one_label_is_one_window(raw: dict | None) -> None:
    calendar = SchoolCalendar(config(raw))
    seen: dict[str, tuple[dt.date, dt.date]] = {}
    previous = None
    for day in days(D(2024, 1, 1), D(2029, 1, 1)):
        window = calendar.period("semester", day)
        assert window.start <= day < window.end
        assert seen.setdefault(window.label, (window.start, window.end)) == (window.start,
                                                                              window.end)
        if previous is not None and window != previous:
            assert window.start == previous.end == day  # no gap, no overlap
        term = calendar.period("term", day)
        assert (term.label, term.end) == (window.label, window.end)  # classes end it
        year = calendar.period("year", day)
        assert year.start <= window.start and window.end <= year.end
        previous = window


@pytest.mark.parametrize("period_of", [plain_period, SchoolCalendar(SchedulerConfig()).period])
def test_a_vacation_counts_for_the_term_after_it(period_of: PeriodOf) -> None:
    """The days the old `semester_range` gave the term before: late January (the autumn
    term ends 22 January 2027) and the summer (training "before term starts")."""
    winter = period_of("semester", D(2027, 1, 25))
    assert (winter.label, winter.start, winter.end) == ("2027-spring", D(2027, 1, 23),
                                                        D(2027, 7, 10))
    summer = period_of("semester", D(2026, 8, 20))
    assert (summer.label, summer.start, summer.end) == ("2026-autumn", D(2026, 7, 11),
                                                        D(2027, 1, 23))
    assert period_of("year", D(2026, 8, 20)).label == "SY2026"


def test_a_guessed_term_next_to_a_configured_one_counts_from_its_end() -> None:
    calendar = SchoolCalendar(config(ONE_TERM))
    spring = calendar.period("semester", D(2027, 1, 18))
    assert (spring.label, spring.start, spring.end) == ("2027-spring", D(2027, 1, 16),
                                                        D(2027, 7, 11))
    autumn = calendar.period("semester", D(2026, 8, 20))
    assert (autumn.start, autumn.end) == (D(2026, 7, 11), D(2027, 1, 16))
    # A school year is an autumn term and the spring term after it, guessed or not.
    year = calendar.period("year", D(2026, 11, 2))
    assert (year.label, year.start, year.end) == ("SY2026", D(2026, 7, 11), D(2027, 7, 11))


def test_the_school_year_before_the_configured_terms_holds_its_autumn() -> None:
    calendar = SchoolCalendar(SchedulerConfig())
    day = D(2025, 11, 10)  # a guessed autumn term; spring 2026 is configured
    year = calendar.period("year", day)
    assert (year.label, year.start, year.end) == ("SY2025", D(2025, 7, 11), D(2026, 7, 11))
    spring = calendar.period("semester", D(2026, 4, 1))
    assert spring.start == calendar.period("semester", D(2026, 1, 25)).start == D(2026, 1, 21)


def test_only_guesses_past_the_configured_terms_warn() -> None:
    calendar = SchoolCalendar(SchedulerConfig())
    calendar.period("year", D(2026, 4, 1))  # SY2025's autumn is guessed, but in the past
    calendar.period("semester", D(2026, 1, 25))
    assert calendar_warning_keys(calendar) == []
    assert calendar.term_of(D(2027, 7, 9)) is not None and not calendar.guessed_terms
    calendar.period("semester", D(2027, 7, 12))  # the summer before a guessed autumn
    assert calendar_warning_keys(calendar) == ["calendar:guessed-terms:2027-07-09"]
    # The warning names the guesses handlers.periods makes.
    assert (_guess(GUESSED_AUTUMN), _guess(GUESSED_SPRING)) == ("9月1日—1月20日",
                                                                "3月1日—7月10日")


@pytest.mark.parametrize(("today", "months"), [
    (D(2026, 11, 26), [D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1)]),
    (D(2026, 4, 15), [D(2026, 3, 1), D(2026, 4, 1)]),  # classes began on 2 March
    (D(2027, 1, 22), [D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1),
                      D(2027, 1, 1)]),
    (D(2027, 1, 25), []),  # winter vacation: spring has not begun
    (D(2026, 8, 20), []),  # summer vacation: no July or August bars
])
def test_the_pages_months_are_the_terms_own(today: dt.date, months: list[dt.date]) -> None:
    assert term_months(SchoolCalendar(SchedulerConfig()).period, today) == months
    assert term_months(plain_period, today) == months
