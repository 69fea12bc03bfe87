"""The school calendar: terms from config, holidays and 调休 from `chinese_calendar`.

A school day is a working day inside a term. Working days follow the State Council's notice
as `chinese_calendar` knows it; for a year it does not know (it raises NotImplementedError)
we fall back to Monday–Friday less the fixed-date holidays and remember the year in
`unknown_years`, so the caller can warn the admin once. Terms and periods (half-open date
ranges for counting; a semester counts from the day after the previous term to the last day
of this one) are handlers.periods' one definition, applied to the configured terms.
Pure and synchronous; imports handlers.periods and scheduler.config only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar

from handlers import periods
from handlers.periods import Period, Semester
from scheduler.config import SchedulerConfig

ONE_DAY = dt.timedelta(days=1)
# Statutory holidays on fixed solar dates (元旦, 劳动节, 国庆): off even in a year the library
# does not know; the lunar ones (春节, 清明, 端午, 中秋) and every 调休 need its data or config.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


@dataclass
class SchoolCalendar:
    config: SchedulerConfig
    unknown_years: set[int] = field(default_factory=set)
    # Years past the configured semesters, where terms are guessed (warned once, too).
    guessed_terms: set[int] = field(default_factory=set)
    # chinese_calendar validates every date against its whole table; a beat asks often.
    _workdays: dict[dt.date, bool] = field(default_factory=dict, repr=False)
    _terms: dict[int, tuple[Semester, ...]] = field(default_factory=dict, repr=False)

    # --- days ---------------------------------------------------------------------------

    def is_workday(self, day: dt.date) -> bool:
        known = self._workdays.get(day)
        if known is None:
            known = self._workdays[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.config.extra_holidays:
            return False
        if day in self.config.extra_workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.unknown_years.add(day.year)
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def terms(self, year: int) -> tuple[Semester, ...]:
        """The configured terms, and guessed ones past them, around `year`
        (handlers.periods.semesters_around)."""
        known = self._terms.get(year)
        if known is None:
            known = self._terms[year] = periods.semesters_around(year, self.config.semesters)
        return known

    def _noted(self, day: dt.date, *terms: Semester) -> None:
        """Remember a guessed term past the configured ones (the admin is warned once); those
        before them are past years nobody asks about."""
        sems = self.config.semesters
        if any(not sems or t.start > sems[-1].end for t in terms):
            self.guessed_terms.add(day.year)

    def term_of(self, day: dt.date) -> Semester | None:
        """The configured (or, past them, guessed) term that contains `day`."""
        term = periods.term_containing(day, self.terms(day.year))
        if term is not None:
            self._noted(day, term)
        return term

    def is_school_day(self, day: dt.date) -> bool:
        return self.term_of(day) is not None and self.is_workday(day)

    def school_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """School days in [start, end)."""
        out = []
        day = start
        while day < end:
            if self.is_school_day(day):
                out.append(day)
            day += ONE_DAY
        return out

    def previous_workday(self, day: dt.date) -> dt.date:
        day -= ONE_DAY
        for _ in range(60):
            if self.is_workday(day):
                return day
            day -= ONE_DAY
        return day

    # --- moments ------------------------------------------------------------------------

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.config.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.config.timezone)

    def is_quiet(self, moment: dt.datetime) -> bool:
        t = self.local(moment).time()
        start, end = self.config.quiet_start, self.config.quiet_end
        if start <= end:
            return start <= t < end
        return t >= start or t < end

    def quiet_from(self, day: dt.date) -> dt.datetime:
        """When the quiet hours begin on the evening of `day`."""
        start, end = self.config.quiet_start, self.config.quiet_end
        if start <= end and start < dt.time(12, 0):
            return self.at(day + ONE_DAY, start)
        return self.at(day, start)

    def next_loud(self, moment: dt.datetime) -> dt.datetime:
        """`moment`, or the end of the quiet hours it falls in."""
        if not self.is_quiet(moment):
            return moment
        local = self.local(moment)
        end = self.at(local.date(), self.config.quiet_end)
        return end if end > local else self.at(local.date() + ONE_DAY, self.config.quiet_end)

    # --- periods ------------------------------------------------------------------------

    def period(self, kind: str, day: dt.date) -> Period:
        """The quota period `kind` around `day` (handlers.periods.calendar_period): the one
        definition, here over the configured terms."""
        terms = self.terms(day.year)
        period = periods.calendar_period(kind, day, terms)
        if kind not in ("month", "quarter"):
            self._noted(day, *(t for t in terms
                               if t.end >= period.start and t.start < period.end))
        return period

    def last_school_days(self, period: Period) -> list[dt.date]:
        """The period's school days, in order (reminders count back from the last)."""
        return self.school_days(period.start, period.end)
