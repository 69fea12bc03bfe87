"""What becomes of a plan: held by a sign-in once started (and counted), or its organiser asked
once whether it took place; cancelled plans get nothing; a moved plan is announced anew.

Every moment is passed to run_due explicitly, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from scheduler.calendar import SchoolCalendar
from scheduler.due import collect_digests
from scheduler.progress import quota_progress
from scheduler.queries import load_roster
from storage.db import transaction
from storage.events import change_event
from storage.models import Activity, Attendance, AuditLog, OutboxMessage
from tests.scheduler_support import (
    SHIYAN_GROUP,
    add_activity,
    add_attendance,
    at,
    config,
    demo,
    member,
    run_due_between,
)

SHIYAN = 2  # the demo's 融安县实验小学教共体


@pytest.fixture
async def county(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return await demo(engine)


due = run_due_between


def of(messages: list, kind: str, aid: int) -> list:
    """The messages of one kind queued for one event (their keys start `activity:{id}:`)."""
    return [m for m in messages
            if m.extra["kind"] == kind and m.key.startswith(f"activity:{aid}:")]


async def event(factory: async_sessionmaker[AsyncSession], aid: int) -> Activity:
    async with factory() as session:
        row = await session.get(Activity, aid)
        assert row is not None
        return row


async def audits(factory: async_sessionmaker[AsyncSession], aid: int, action: str) -> list:
    async with factory() as session:
        return list((await session.execute(select(AuditLog).where(
            col(AuditLog.entity) == "activity", col(AuditLog.entity_id) == aid,
            col(AuditLog.action) == action))).scalars())


async def lesson_preps_this_month(factory: async_sessionmaker[AsyncSession]) -> int:
    cfg = config()
    async with factory() as session:
        statuses = await quota_progress(
            session=session, roster=await load_roster(session=session),
            calendar=SchoolCalendar(cfg), quotas=cfg.quotas, day=dt.date(2026, 11, 26),
            kinds=["month"])
    [prep] = [s for s in statuses
              if s.community_id == SHIYAN and s.quota.activity == "lesson_prep"]
    return prep.done


async def test_a_signed_in_plan_is_held_once_started_and_counts(county) -> None:
    aid = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                             school_name="泗顶镇中心小学", status="planned", start="14:00")
    await add_attendance(county, name="陈静", type_="checkin", when="2026-11-26T13:40",
                         activity_id=aid)
    assert await lesson_preps_this_month(county) == 0
    await due(county, "2026-11-26T13:59", "2026-11-26T13:50")
    assert (await event(county, aid)).status == "planned"  # not started yet
    assert await lesson_preps_this_month(county) == 0

    await due(county, "2026-11-26T14:00", "2026-11-26T13:59")
    assert (await event(county, aid)).status == "held"
    assert await lesson_preps_this_month(county) == 1
    await due(county, "2026-11-26T14:01", "2026-11-26T14:00")
    [held] = await audits(county, aid, "held")
    assert (held.before, held.after, held.member_id) == (
        {"status": "planned"}, {"status": "held"}, None)


async def test_only_live_sign_ins_of_live_plans_hold_them(county) -> None:
    """Untimed plans once their day has begun; never without a sign-in, never when the only
    sign-in was withdrawn, never a cancelled or withdrawn plan."""
    untimed = await add_activity(county, activity="research", day="2026-11-27",
                                 school_name="泗顶镇中心小学", status="planned")
    lonely = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                                school_name="泗顶镇中心小学", status="planned", start="09:00")
    cancelled = await add_activity(county, activity="training", day="2026-11-26",
                                   school_name="融安县实验小学", status="cancelled", start="09:00")
    withdrawn = await add_activity(county, activity="training", day="2026-11-26",
                                   school_name="融安县实验小学", status="planned", start="10:00",
                                   withdrawn=True)
    for aid in (untimed, cancelled, withdrawn):
        await add_attendance(county, name="陈静", type_="checkin", when="2026-11-26T08:50",
                             activity_id=aid)
    await add_attendance(county, name="张丽", type_="checkin", when="2026-11-26T08:55",
                         activity_id=lonely)
    async with transaction(county) as session:  # 张丽 undid her sign-in
        await session.execute(update(Attendance).where(
            col(Attendance.activity_id) == lonely).values(withdrawn=True))
    await due(county, "2026-11-26T23:59", "2026-11-26T23:00")
    assert [(await event(county, a)).status for a in (untimed, lonely, cancelled, withdrawn)] == [
        "planned", "planned", "cancelled", "planned"]
    await due(county, "2026-11-27T00:01", "2026-11-27T00:00")
    assert (await event(county, untimed)).status == "held"


async def test_an_unattended_plan_gets_one_question_after_its_end(county) -> None:
    aid = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                             school_name="泗顶镇中心小学", status="planned", subject="数学",
                             start="14:00")
    assert of(await due(county, "2026-11-26T15:59", "2026-11-26T13:00"),
              "activity_outcome", aid) == []
    [ask] = of(await due(county, "2026-11-26T16:00", "2026-11-26T15:59"), "activity_outcome", aid)
    async with county() as session:
        organiser = await member(session, "张丽")
    assert (ask.target_kind, ask.target) == ("user", "张丽")  # privately, to the organiser
    assert ask.key == f"activity:{aid}:2026-11-26T1400:outcome:member:{organiser.id}"
    assert ask.text == ("11月26日 14:00 数学集体备课（泗顶镇中心小学） 开展了吗？"
                        "请回复“已开展”或“取消”。")
    assert (await event(county, aid)).outcome_asked_at == at("2026-11-26T16:00")
    # Later beats, even over the same moment again, do not ask twice.
    assert of(await due(county, "2026-11-26T17:00", "2026-11-26T15:00"),
              "activity_outcome", aid) == []
    async with county() as session:
        rows = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.key).contains(":outcome")))).scalars().all()
    assert len(rows) == 1


async def test_the_question_follows_the_configured_length(county) -> None:
    aid = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                             school_name="泗顶镇中心小学", status="planned", start="14:00")
    raw = {"default_length_minutes": {"lesson_prep": 90}}
    assert of(await due(county, "2026-11-26T15:29", "2026-11-26T15:00", raw),
              "activity_outcome", aid) == []
    sent = await due(county, "2026-11-26T15:30", "2026-11-26T15:29", raw)
    assert len(of(sent, "activity_outcome", aid)) == 1
    assert len(of(sent, "activity_summary", aid)) == 1  # the summary ends the same moment


async def test_the_question_waits_for_the_quiet_hours_to_end(county) -> None:
    late = await add_activity(county, activity="training", day="2026-11-26",
                              school_name="融安县实验小学", status="planned", start="20:00")
    untimed = await add_activity(county, activity="research", day="2026-11-26",
                                 school_name="泗顶镇中心小学", status="planned")
    [ask] = of(await due(county, "2026-11-26T18:00", "2026-11-26T17:59"),
               "activity_outcome", untimed)  # an untimed plan ends at 18:00
    assert ask.text.startswith("11月26日 教研活动（泗顶镇中心小学） 开展了吗？")
    assert of(await due(county, "2026-11-26T22:00", "2026-11-26T21:59"),
              "activity_outcome", late) == []
    assert of(await due(county, "2026-11-27T06:59", "2026-11-26T22:00"),
              "activity_outcome", late) == []
    assert len(of(await due(county, "2026-11-27T07:00", "2026-11-27T06:59"),
                  "activity_outcome", late)) == 1


async def test_a_bot_down_over_the_evening_asks_the_next_morning(county) -> None:
    aid = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                             school_name="泗顶镇中心小学", status="planned", start="14:00")
    assert len(of(await due(county, "2026-11-27T09:00", "2026-11-26T15:00"),
                  "activity_outcome", aid)) == 1


async def test_no_question_when_signed_in_held_or_cancelled(county) -> None:
    signed = await add_activity(county, activity="lesson_prep", day="2026-11-26",
                                school_name="泗顶镇中心小学", status="planned", start="14:00")
    await add_attendance(county, name="陈静", type_="checkin", when="2026-11-26T14:05",
                         activity_id=signed)
    reported = await add_activity(county, activity="research", day="2026-11-26",
                                  school_name="泗顶镇中心小学", status="held", start="14:00")
    cancelled = await add_activity(county, activity="training", day="2026-11-26",
                                   school_name="融安县实验小学", status="cancelled",
                                   start="14:00")
    sent = await due(county, "2026-11-26T16:00", "2026-11-26T15:59")
    for aid in (signed, reported, cancelled):
        assert of(sent, "activity_outcome", aid) == []
    # Held plans still get their end-of-event summary; a cancelled one does not.
    assert [len(of(sent, "activity_summary", a)) for a in (signed, reported, cancelled)] == [
        1, 1, 0]


async def test_a_cancelled_plan_gets_no_reminders(county) -> None:
    aid = await add_activity(county, activity="training", day="2026-11-26",
                             school_name="融安县实验小学", status="cancelled", start="14:00")
    sent = [*await due(county, "2026-11-25T08:00", "2026-11-25T07:59"),
            *await due(county, "2026-11-26T13:00", "2026-11-26T12:59"),
            *await due(county, "2026-11-26T16:00", "2026-11-26T15:59")]
    assert [m for m in sent if m.key.startswith(f"activity:{aid}:")] == []


async def test_a_moved_plan_is_announced_again_at_its_new_time(county) -> None:
    aid = await add_activity(county, activity="training", day="2026-11-27",
                             school_name="融安县实验小学", status="planned", start="14:00")
    [old] = of(await due(county, "2026-11-26T08:00", "2026-11-26T07:59"),
               "activity_day_before", aid)
    assert old.target == SHIYAN_GROUP and "明天（11月27日） 14:00" in old.text
    async with transaction(county) as session:
        await session.execute(update(OutboxMessage).values(status="sent"))
        plan = await session.get(Activity, aid)
        assert plan is not None
        await change_event(session=session, event=plan, by=None, now=at("2026-11-26T10:00"),
                           action="reschedule",
                           changes={"date": dt.date(2026, 12, 1), "time": "09:00",
                                    "starts_at": at("2026-12-01T09:00")})
    # Nothing at the old time any more.
    assert of(await due(county, "2026-11-27T16:00", "2026-11-27T13:00"),
              "activity_hour_before", aid) == []
    [new] = of(await due(county, "2026-11-30T08:00", "2026-11-30T07:59"),
               "activity_day_before", aid)
    assert "明天（12月1日） 09:00" in new.text
    assert new.key.startswith(f"activity:{aid}:2026-12-01T0900:day_before")
    assert len(of(await due(county, "2026-12-01T08:00", "2026-12-01T07:59"),
                  "activity_hour_before", aid)) == 1


async def test_digests_count_held_plans_and_leave_cancelled_ones_out(county) -> None:
    held = await add_activity(county, activity="training", day="2026-11-24",
                              school_name="泗顶镇中心小学", status="planned", start="14:00")
    await add_attendance(county, name="黄海波", type_="checkin", when="2026-11-24T13:50",
                         activity_id=held)
    await add_activity(county, activity="training", day="2026-11-25",
                       school_name="泗顶镇中心小学", status="cancelled", start="14:00")
    await add_activity(county, activity="research", day="2026-12-01",
                       school_name="泗顶镇中心小学", status="cancelled", start="14:00")
    await due(county, "2026-11-24T14:00", "2026-11-24T13:59")  # the beat that holds it
    async with county() as session:
        sent = await collect_digests(session=session, config=config(),
                                     week_start=dt.date(2026, 11, 23))
    [mine] = [m for m in sent if (m.extra or {}).get("to_name") == "欧阳勇"]  # 泗顶's principal
    lines = mine.text.split("\n")
    assert lines[1] == "本周活动 1 次：教师培训 1"
    assert "计划活动 1 场：签到 1 人次，迟到 0，请假 0" in lines
    assert "下周计划：暂无" in lines
