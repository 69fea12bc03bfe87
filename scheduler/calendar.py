"""The school calendar: terms from config, holidays and 调休 from `chinese_calendar`.

A school day is a working day inside a term. Working days follow the State Council's notice
as `chinese_calendar` knows it; for a year it does not know (it raises NotImplementedError)
we fall back to Monday–Friday less the fixed-date holidays and remember the year in
`unknown_years`, so the caller can warn the admin once. Periods are half-open date ranges
for counting; semester counting windows run from the day after the previous term to the last
day of this one, so that the vacation before a term (when trainings happen) counts towards it.
Pure and synchronous; imports handlers.periods and scheduler.config only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar

from handlers.periods import Period, add_months, quarter_range, semester_range
from scheduler.config import SchedulerConfig, Semester

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

    def term_of(self, day: dt.date) -> Semester | None:
        """The configured (or, past them, guessed) term that contains `day`."""
        for sem in self.config.semesters:
            if sem.start <= day <= sem.end:
                return sem
        if self._configured(day):
            return None
        for sem in _guessed_semesters(day.year - 1, day.year):
            if sem.start <= day <= sem.end and self._unconfigured(sem):
                self.guessed_terms.add(day.year)
                return sem
        return None

    def _unconfigured(self, guess: Semester) -> bool:
        """A guessed term stands only where no configured term is near it."""
        sems = self.config.semesters
        return not sems or guess.start > sems[-1].end or guess.end < sems[0].start

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

    def _configured(self, day: dt.date) -> bool:
        sems = self.config.semesters
        return bool(sems) and self._window_start(sems[0]) <= day <= sems[-1].end

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

    def _window_start(self, sem: Semester) -> dt.date:
        sems = self.config.semesters
        i = sems.index(sem) if sem in sems else -1
        if i > 0:
            return sems[i - 1].end + ONE_DAY
        return min(semester_range(sem.start)[0], sem.start)

    def semester_window(self, day: dt.date) -> tuple[Semester, dt.date, dt.date]:
        """(term, counting start, counting end exclusive) of the semester `day` counts for."""
        for sem in self.config.semesters:
            if self._window_start(sem) <= day <= sem.end:
                return sem, self._window_start(sem), sem.end + ONE_DAY
        self.guessed_terms.add(day.year)
        autumn, spring, next_autumn = _guessed_semesters(day.year - 1, day.year)[1:]
        for sem, start in ((autumn, autumn.start - dt.timedelta(days=61)),
                           (spring, autumn.end + ONE_DAY),
                           (next_autumn, spring.end + ONE_DAY)):
            if start <= day <= sem.end:
                return sem, start, sem.end + ONE_DAY
        raise AssertionError(f"no semester window for {day}")  # the guesses cover every day

    def period(self, kind: str, day: dt.date) -> Period:
        if kind == "month":
            first = day.replace(day=1)
            return Period(kind, f"{first:%Y-%m}", first, add_months(first, 1))
        if kind == "quarter":
            start, end = quarter_range(day)
            return Period(kind, f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, end)
        sem, start, end = self.semester_window(day)
        if kind == "semester":
            return Period(kind, _semester_label(sem), start, end)
        year = sem.start.year if sem.start.month >= 8 else sem.start.year - 1
        windows = [self.semester_window(s.start) for s in self._year_terms(year)]
        return Period("year", f"SY{year}", min(w[1] for w in windows),
                      max(w[2] for w in windows))

    def _year_terms(self, year: int) -> list[Semester]:
        terms = [s for s in self.config.semesters
                 if (s.start.year == year and s.start.month >= 8)
                 or (s.start.year == year + 1 and s.start.month < 8)]
        return terms or list(_guessed_semesters(year, year + 1)[1:3])

    def last_school_days(self, period: Period) -> list[dt.date]:
        """The period's school days, in order (reminders count back from the last)."""
        return self.school_days(period.start, period.end)


def _semester_label(sem: Semester) -> str:
    return f"{sem.start.year}-{'autumn' if sem.start.month >= 8 else 'spring'}"


def _guessed_semesters(first: int, second: int) -> tuple[Semester, Semester, Semester, Semester]:
    """Approximate terms (1 Sep–20 Jan, 1 Mar–10 Jul) for years nobody configured."""
    return (
        Semester(f"{first}春", dt.date(first, 3, 1), dt.date(first, 7, 10)),
        Semester(f"{first}秋", dt.date(first, 9, 1), dt.date(first + 1, 1, 20)),
        Semester(f"{second}春", dt.date(second, 3, 1), dt.date(second, 7, 10)),
        Semester(f"{second}秋", dt.date(second, 9, 1), dt.date(second + 1, 1, 20)),
    )
