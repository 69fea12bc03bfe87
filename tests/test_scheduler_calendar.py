"""The school calendar and the scheduler config: terms, holidays, 调休, quiet hours, periods."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from handlers.quotas import DEFAULT_QUOTAS, QuotaConfigError, codes_for, rule_for
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfigError, scheduler_config
from scheduler.due import digest_day
from scheduler.jobs import _reminder_day
from tests.scheduler_support import at, config

D = dt.date


def cal(raw: dict | None = None) -> SchoolCalendar:
    return SchoolCalendar(config(raw))


def test_national_day_2026_and_its_make_up_saturday() -> None:
    c = cal()
    assert [c.is_school_day(D(2026, 10, d)) for d in range(1, 8)] == [False] * 7
    assert c.is_school_day(D(2026, 10, 10))  # Saturday, a 调休 working day
    assert c.is_school_day(D(2026, 9, 20))  # Sunday before Mid-autumn, also worked
    assert not c.is_school_day(D(2026, 10, 11))
    assert not c.is_school_day(D(2026, 9, 25))  # Mid-autumn Festival
    assert c.unknown_years == set()


def test_a_year_chinese_calendar_does_not_know_falls_back_to_weekends() -> None:
    c = cal()
    assert c.is_workday(D(2027, 1, 4))
    assert not c.is_workday(D(2027, 1, 2))
    assert not c.is_workday(D(2027, 1, 1))  # 元旦 is on a fixed date: known anyway
    assert c.unknown_years == {2027}


def test_configured_holidays_and_workdays_win() -> None:
    c = cal({"calendar": {"holidays": ["2027-01-01"], "workdays": [D(2026, 10, 11)]}})
    assert not c.is_workday(D(2027, 1, 1))
    assert c.is_workday(D(2026, 10, 11))
    assert c.unknown_years == set()


def test_vacations_are_not_school_days() -> None:
    c = cal()
    assert not c.is_school_day(D(2026, 8, 17))  # summer vacation, a Monday
    assert not c.is_school_day(D(2027, 2, 8))  # winter vacation, a Monday
    assert c.is_school_day(D(2026, 9, 1))
    assert c.is_school_day(D(2027, 1, 22))
    assert not c.is_school_day(D(2027, 1, 25))


def test_configured_semesters_replace_the_defaults() -> None:
    c = cal({"semesters": [{"name": "秋", "start": D(2026, 9, 7), "end": D(2027, 1, 15)}]})
    assert not c.is_school_day(D(2026, 9, 1))
    assert c.is_school_day(D(2026, 9, 7))
    assert not c.is_school_day(D(2027, 1, 18))


def test_quiet_hours() -> None:
    c = cal()
    assert c.is_quiet(at("2026-11-26T21:00"))
    assert c.is_quiet(at("2026-11-26T06:59"))
    assert not c.is_quiet(at("2026-11-26T07:00"))
    assert not c.is_quiet(at("2026-11-26T20:59"))
    assert c.next_loud(at("2026-11-26T22:30")) == at("2026-11-27T07:00")
    assert c.next_loud(at("2026-11-27T05:00")) == at("2026-11-27T07:00")
    assert cal({"quiet_hours": ["22:00", "06:30"]}).is_quiet(at("2026-11-26T21:30")) is False


def test_periods_and_their_labels() -> None:
    c = cal()
    assert c.period("month", D(2026, 11, 26)).label == "2026-11"
    q = c.period("quarter", D(2026, 11, 26))
    assert (q.label, q.start, q.end) == ("2026-Q4", D(2026, 10, 1), D(2027, 1, 1))
    autumn = c.period("semester", D(2026, 8, 20))  # the vacation before a term counts for it
    assert (autumn.label, autumn.start, autumn.end) == ("2026-autumn", D(2026, 7, 11),
                                                        D(2027, 1, 23))
    year = c.period("year", D(2027, 5, 1))
    assert (year.label, year.start, year.end) == ("SY2026", D(2026, 7, 11), D(2027, 7, 10))


def test_reminder_days_count_school_days_left() -> None:
    c = cal()
    nov = c.school_days(D(2026, 11, 1), D(2026, 12, 1))
    assert _reminder_day(nov, 3) == D(2026, 11, 26)  # 26, 27, 30 left
    assert _reminder_day(nov, 2) == D(2026, 11, 27)
    jan = c.period("month", D(2027, 1, 5))  # the term ends on 22 January
    days = c.school_days(jan.start, jan.end)
    assert days[-1] == D(2027, 1, 22)
    assert _reminder_day(days, 3) == D(2027, 1, 20)
    oct_ = c.school_days(D(2026, 10, 1), D(2026, 11, 1))
    assert D(2026, 10, 10) in oct_ and D(2026, 10, 5) not in oct_


def test_digest_moves_to_the_first_school_day_of_a_holiday_week() -> None:
    c = cal()
    assert digest_day(c, D(2026, 11, 30))
    assert not digest_day(c, D(2026, 10, 5))  # National Day
    assert digest_day(c, D(2026, 10, 8))
    assert not digest_day(c, D(2026, 10, 9))
    assert not digest_day(c, D(2026, 8, 17))  # vacation


def test_no_digest_of_a_week_spent_wholly_in_a_vacation() -> None:
    c = cal()
    assert not digest_day(c, D(2026, 9, 1))  # reports 24-30 August: summer vacation
    assert not digest_day(c, D(2027, 3, 1))  # reports 22-28 February: winter vacation
    assert digest_day(c, D(2026, 9, 7))  # reports 31 August-6 September: term began
    assert digest_day(c, D(2027, 1, 4))  # reports 28 December-3 January: partly in term


def test_scheduler_section_from_toml() -> None:
    raw = tomllib.loads("""
    [scheduler]
    reminder_time = "07:30"
    quiet_hours = ["22:00", "06:00"]
    remind_days_left = 4
    [[scheduler.semesters]]
    name = "2026秋"
    start = 2026-09-01
    end = 2027-01-15
    [[scheduler.quotas]]
    activity = "lesson_prep"
    minimum = 3
    period = "month"
    [[scheduler.quotas]]
    activity = "outreach"
    period = "year"
    scope = "member_school"
    cover = "subject"
    """)["scheduler"]
    cfg = scheduler_config(raw)
    assert cfg.reminder_time == dt.time(7, 30)
    assert (cfg.quiet_start, cfg.quiet_end) == (dt.time(22, 0), dt.time(6, 0))
    assert cfg.group_days_left == 4
    assert cfg.semesters[0].end == D(2027, 1, 15)
    assert [(q.activity, q.minimum, q.period, q.scope, q.cover) for q in cfg.quotas] == [
        ("lesson_prep", 3, "month", "community", ""),
        ("outreach", 1, "year", "member_school", "subject"),
    ]


def test_bad_scheduler_values_are_named() -> None:
    with pytest.raises(QuotaConfigError, match="period"):
        scheduler_config({"quotas": [{"activity": "x", "period": "fortnight"}]})
    with pytest.raises(SchedulerConfigError, match="reminder_time"):
        scheduler_config({"reminder_time": "eight"})
    with pytest.raises(SchedulerConfigError, match="digest_weekday"):
        scheduler_config({"digest_weekday": 0})
    with pytest.raises(SchedulerConfigError, match="remind_days_left"):
        scheduler_config({"remind_days_left": 0})
    with pytest.raises(SchedulerConfigError, match="semesters"):
        scheduler_config({"semesters": [{"start": "2026-09-01", "end": "2026-01-01"}]})


def test_overlapping_semesters_are_refused() -> None:
    with pytest.raises(SchedulerConfigError, match="2027春 starts before 2026秋 ends"):
        scheduler_config({"semesters": [
            {"name": "2027春", "start": "2027-01-20", "end": "2027-07-09"},
            {"name": "2026秋", "start": "2026-09-01", "end": "2027-01-22"},
        ]})


def test_queries_find_the_rule_and_every_activity_it_counts() -> None:
    monthly = rule_for(DEFAULT_QUOTAS, "lesson_prep", "month")
    assert monthly is not None and (monthly.minimum, monthly.cover) == (2, "")
    assert rule_for(DEFAULT_QUOTAS, "lesson_prep", "semester") is None
    assert rule_for(DEFAULT_QUOTAS, "open_class", "quarter") == rule_for(
        DEFAULT_QUOTAS, "observation", "quarter")
    assert codes_for(DEFAULT_QUOTAS, "open_class") == ("observation", "open_class")
    assert codes_for(DEFAULT_QUOTAS, "home_visit") == ("home_visit",)
