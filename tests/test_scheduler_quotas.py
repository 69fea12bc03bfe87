"""Quota reminders through run_due on SQLite and PostgreSQL, with explicit moments.

The demo county; its community 融安县实验小学教共体 (县实小 + 泗顶) is the one we feed.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.due import run_due
from scheduler.state import done_before
from tests.scheduler_support import (
    SHIYAN_GROUP,
    add_activity,
    at,
    config,
    demo,
    drop_identity,
    kinds,
    outbox,
    run_due_between,
    to,
)

GROUPS = 5  # the demo county has five communities, one group each


@pytest.fixture
async def county(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return await demo(engine)


due = run_due_between


async def test_short_quota_reminds_the_groups_three_school_days_before_the_end(county) -> None:
    await add_activity(county, activity="lesson_prep", day="2026-11-10",
                       school_name="泗顶镇中心小学", subject="数学")
    assert [m for m in await due(county, "2026-11-25T08:00", "2026-11-25T07:59")
            if (m.extra or {}).get("kind") == "quota_short"] == []
    sent = await due(county, "2026-11-26T08:00", "2026-11-26T07:59")
    short = [m for m in sent if m.extra["kind"] == "quota_short"]
    assert len(short) == GROUPS
    [ours] = to(short, SHIYAN_GROUP)
    assert "本月集体备课已完成 1 次，还差 1 次，截止 11月30日" in ours.text
    assert "本月家长学校已完成 0 次，还差 1 次" in ours.text
    assert ours.key == "quota:month:2026-11:community:2:short:chat:2"
    assert (ours.platform, ours.target_kind, ours.target) == ("console", "chat", SHIYAN_GROUP)


async def test_no_reminder_once_the_quotas_are_met(county) -> None:
    for activity, day in (("lesson_prep", "2026-11-03"), ("lesson_prep", "2026-11-17"),
                          ("research", "2026-11-12"), ("parent_school", "2026-11-20")):
        await add_activity(county, activity=activity, day=day, school_name="融安县实验小学")
    # A withdrawn report does not count, and another community's does not either.
    await add_activity(county, activity="lesson_prep", day="2026-11-04",
                       school_name="融安县初级中学", withdrawn=True)
    sent = await due(county, "2026-11-26T08:00", "2026-11-26T07:59")
    assert to(sent, SHIYAN_GROUP) == []
    assert len([m for m in sent if m.extra["kind"] == "quota_short"]) == GROUPS - 1
    notes = await due(county, "2026-11-27T08:00", "2026-11-27T07:59")
    assert to(notes, "韦国庆") == []


async def test_private_note_to_the_lead_principal_two_school_days_before(county) -> None:
    first = await due(county, "2026-11-26T08:00", "2026-11-26T07:59")
    assert "principal_note" not in kinds(first)
    sent = await due(county, "2026-11-27T08:00", "2026-11-27T07:59")
    [note] = to(sent, "韦国庆")  # 融安县实验小学 is the lead school
    assert note.extra["kind"] == "principal_note"
    assert (note.target_kind, note.target) == ("user", "韦国庆")
    assert note.text.startswith("韦校长您好，融安县实验小学教共体本月")
    assert "还剩 2 个工作日" in note.text
    assert to(sent, "欧阳勇") == []  # the member school's principal is not nagged
    assert to(sent, SHIYAN_GROUP) == []  # the groups had theirs yesterday


async def test_people_without_an_identity_are_skipped(county) -> None:
    await drop_identity(county, "韦国庆")
    sent = await due(county, "2026-11-27T08:00", "2026-11-27T07:59")
    assert to(sent, "韦国庆") == []
    assert len([m for m in sent if m.extra["kind"] == "principal_note"]) == GROUPS - 1


async def test_start_of_month_says_what_is_due(county) -> None:
    sent = await due(county, "2026-12-01T08:00", "2026-12-01T07:59")
    [start] = to([m for m in sent if m.extra["kind"] == "period_start"], SHIYAN_GROUP)
    assert start.text.startswith("本月开始啦，融安县实验小学教共体需完成：")
    assert "集体备课 至少 2 次" in start.text
    assert await due(county, "2026-12-02T08:00", "2026-12-02T07:59") == []


async def test_member_school_rules_name_the_school(county) -> None:
    sent = await due(county, "2027-01-20T08:00", "2027-01-20T07:59")
    [ours] = to([m for m in sent if m.extra["kind"] == "quota_short"
                 and "本学期" in m.text], SHIYAN_GROUP)
    assert "本学期送教下乡（泗顶镇中心小学）已完成 0 次，还差 1 次，截止 1月22日" in ours.text


async def test_nothing_in_vacations_on_holidays_or_at_night(county) -> None:
    assert await due(county, "2026-08-31T08:00", "2026-08-31T00:00") == []  # summer vacation
    assert await due(county, "2027-02-01T08:00", "2027-02-01T00:00") == []  # winter vacation
    assert await due(county, "2026-10-05T08:00", "2026-10-05T00:00") == []  # National Day
    # Bot back at 22:00 after missing the morning: too late, and quiet.
    assert await due(county, "2026-11-26T22:00", "2026-11-26T07:00") == []
    assert await due(county, "2026-11-27T06:30", "2026-11-26T07:00") == []
    assert await outbox(county) == []


async def test_a_holiday_week_gets_its_digest_on_its_first_school_day(county) -> None:
    sent = await due(county, "2026-10-08T08:00", "2026-10-08T07:59")
    assert {m.key.split(":member:")[0] for m in sent if m.extra["kind"] == "digest_school"} \
        == {"digest:2026-W40"}


async def test_a_missed_morning_runs_later_the_same_day_but_not_the_next(county) -> None:
    late = await due(county, "2026-11-26T15:00", "2026-11-26T07:00")  # down from 07:00 to 15:00
    assert len([m for m in late if m.extra["kind"] == "quota_short"]) == GROUPS
    # Down from the 25th to the 27th at 09:00: the 26th's group reminder is stale by then.
    fresh = await async_county_copy(county)
    sent = await due(fresh, "2026-11-27T09:00", "2026-11-25T07:00")
    assert "quota_short" not in kinds(sent)
    assert "principal_note" in kinds(sent)


async def async_county_copy(factory: async_sessionmaker[AsyncSession]):
    """Forget what was queued, keep the roster: a fresh outbox on the same database."""
    from sqlalchemy import delete

    from storage.db import transaction
    from storage.models import OutboxMessage

    async with transaction(factory) as session:
        await session.execute(delete(OutboxMessage))
    return factory


async def test_restart_and_double_fire_send_nothing_twice(engine: AsyncEngine) -> None:
    factory = await demo(engine)
    first = await due(factory, "2026-11-26T08:00", "2026-11-26T07:59")
    assert first
    # A double-fired job: the same window again.
    assert await due(factory, "2026-11-26T08:00", "2026-11-26T07:59") == []
    # A restart that lost its last-run mark looks back over the whole day: still nothing new.
    from storage.db import create_engine, session_factory

    again = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert await run_due(factory=session_factory(again), now=at("2026-11-26T09:00"),
                             last_run=at("2026-11-26T00:00"), config=config()) == []
    finally:
        await again.dispose()
    rows = await outbox(factory)
    assert len(rows) == len(first) == len({r.key for r in rows})


async def test_unknown_calendar_year_warns_the_admin_once(county, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="scheduler.due")
    first = await due(county, "2026-11-26T08:00", "2026-11-26T07:59")
    [warning] = [m for m in first if m.extra["kind"] == "calendar_warning"]
    assert warning.extra["to_name"] == "蒙建华" and "2027" in warning.text
    assert "calendar:unknown-year:2027" in caplog.text
    caplog.clear()
    later = await due(county, "2026-12-01T08:00", "2026-12-01T07:59")
    assert "calendar_warning" not in kinds(later)
    assert "unknown-year" not in caplog.text
    async with county() as session:
        assert await done_before(session=session, key="calendar:unknown-year:2027")
    # And the fallback works: a 2027 weekday is a school day (the 20 January reminder).
    assert "quota_short" in kinds(await due(county, "2027-01-20T08:00", "2027-01-20T07:59"))


async def test_semester_and_school_year_end_together(county) -> None:
    """Spring 2026 ends on Friday 10 July: month, semester and school year all close then."""
    await add_activity(county, activity="lesson_prep", day="2026-05-12",
                       school_name="泗顶镇中心小学", subject="数学")
    assert await due(county, "2026-07-07T08:00", "2026-07-07T07:59") == []
    sent = await due(county, "2026-07-08T08:00", "2026-07-08T07:59")
    [ours] = to(sent, SHIYAN_GROUP)  # one message for the three periods, not three
    assert ours.key == ("quota:month:2026-07+semester:2026-spring+year:SY2025"
                        ":community:2:short:chat:2")
    assert ours.text.startswith("温馨提醒 ⏰ 本月、本学期、本学年还剩 3 个工作日：")
    [cover] = [line for line in ours.text.split("\n") if line.startswith("· 本学年集体备课")]
    assert cover.startswith("· 本学年集体备课还未覆盖：") and "数学" not in cover
    assert cover.endswith("（已覆盖 1/8 科），截止 7月10日")
    assert "· 本学期送教下乡（泗顶镇中心小学）已完成 0 次，还差 1 次，截止 7月10日" in ours.text
    assert await due(county, "2026-07-13T08:00", "2026-07-13T00:00") == []  # summer vacation


def test_principals_are_addressed_by_surname() -> None:
    from scheduler.jobs import _surname

    assert (_surname("韦国庆"), _surname("欧阳勇")) == ("韦", "欧阳")


async def test_a_reminder_time_inside_the_quiet_hours_waits_for_the_morning(county) -> None:
    early = {"reminder_time": "06:00"}
    assert await due(county, "2026-11-26T06:30", "2026-11-26T05:00", early) == []
    sent = await due(county, "2026-11-26T07:00", "2026-11-26T06:30", early)
    assert len([m for m in sent if m.extra["kind"] == "quota_short"]) == GROUPS
