"""Planned activities: the day-before and hour-before reminders, and the summary after.

Check-ins go through the real chat path (handlers/checkin.py), so the summary agrees with
what teachers were told when they checked in.
"""

from __future__ import annotations

from scheduler.due import run_due
from tests.chat_harness import Chat
from tests.scheduler_support import SHIYAN_GROUP, add_activity, add_attendance, at, config, to


async def due(chat: Chat, now: str, since: str) -> list:
    return await run_due(factory=chat.runtime.factory, now=at(now), last_run=at(since),
                         config=config())


def of_kind(messages: list, kind: str) -> list:
    return [m for m in messages if m.extra["kind"] == kind]


async def test_reminders_before_and_summary_after(chat: Chat) -> None:
    factory = chat.runtime.factory
    aid = await add_activity(factory, activity="lesson_prep", day="2026-11-26",
                             school_name="泗顶镇中心小学", status="planned", subject="数学",
                             start="14:00")
    [before] = of_kind(await due(chat, "2026-11-25T08:00", "2026-11-25T07:59"),
                       "activity_day_before")
    assert before.target == SHIYAN_GROUP
    assert before.text.startswith(
        "📅 活动预告：明天（11月26日） 14:00 数学集体备课（泗顶镇中心小学）")
    assert "签到 13:00 开放" in before.text  # handlers.checkin.CHECKIN_OPENS
    assert of_kind(await due(chat, "2026-11-26T12:59", "2026-11-26T08:01"),
                   "activity_hour_before") == []
    [hour] = of_kind(await due(chat, "2026-11-26T13:00", "2026-11-26T12:59"),
                     "activity_hour_before")
    assert hour.key == f"activity:{aid}:2026-11-26T1400:hour_before:chat:2"
    assert hour.text.startswith("⏰ 14:00 开始：数学集体备课")

    chat.clock.moment = at("2026-11-26T13:40")
    # The channel also delivers the reminders queued above; the answer comes last.
    assert "签到成功" in (await chat.say("陈静", "签到"))[-1]
    chat.clock.moment = at("2026-11-26T14:10")
    assert "迟到" in (await chat.say("张丽", "签到", p2p=True))[-1]
    await add_attendance(factory, name="贲凤英", type_="leave", when="2026-11-26T09:00",
                         activity_id=aid)
    assert of_kind(await due(chat, "2026-11-26T15:59", "2026-11-26T13:01"),
                   "activity_summary") == []
    [summary] = of_kind(await due(chat, "2026-11-26T16:00", "2026-11-26T15:59"),
                        "activity_summary")
    # Invited: the venue's math teachers, 张丽 and 贲凤英; 陈静 came from 县实小 all the same.
    assert summary.text == ("📋 11月26日 数学集体备课（泗顶镇中心小学）已结束：签到 2 人，"
                            "迟到 1 人，早退 0 人，请假 1 人，未签到 0 人。应到人员都已签到 👍")


async def test_summary_names_who_did_not_check_in(chat: Chat) -> None:
    await add_activity(chat.runtime.factory, activity="lesson_prep", day="2026-11-26",
                       school_name="泗顶镇中心小学", status="planned", subject="数学",
                       start="14:00")
    sent = await due(chat, "2026-11-26T16:30", "2026-11-26T15:00")
    [summary] = of_kind(sent, "activity_summary")
    assert summary.target_kind == "chat"
    # Invited: the venue's math teachers but the organiser (张丽): 贲凤英.
    assert "签到 0 人，迟到 0 人，早退 0 人，请假 0 人，未签到 1 人。" in summary.text
    assert "贲凤英" not in summary.text  # names never go to the group
    names = of_kind(sent, "activity_names")
    # Privately to the organiser, 泗顶's principal and the lead school's principal.
    assert {m.target_kind for m in names} == {"user"}
    assert [m.extra["to_name"] for m in names] == ["张丽", "欧阳勇", "韦国庆"]
    assert all(m.text.endswith("签到名单（仅您可见）：未签到：贲凤英。") for m in names)


async def test_the_day_before_a_monday_after_a_make_up_saturday(chat: Chat) -> None:
    """12 October 2026 is a Monday; the Saturday before it is a 调休 working day."""
    await add_activity(chat.runtime.factory, activity="training", day="2026-10-12",
                       school_name="融安县实验小学", status="planned", start="09:00")
    sent = await due(chat, "2026-10-10T08:00", "2026-10-10T07:59")
    [before] = of_kind(sent, "activity_day_before")
    assert "活动预告：10月12日（周一） 09:00 教师培训（融安县实验小学）" in before.text
    assert of_kind(await due(chat, "2026-10-11T08:00", "2026-10-11T07:59"),
                   "activity_day_before") == []


async def test_an_early_start_is_announced_when_the_night_ends(chat: Chat) -> None:
    await add_activity(chat.runtime.factory, activity="training", day="2026-11-26",
                       school_name="融安县实验小学", status="planned", start="07:30")
    assert await due(chat, "2026-11-26T06:40", "2026-11-26T06:00") == []
    [hour] = of_kind(await due(chat, "2026-11-26T07:00", "2026-11-26T06:59"),
                     "activity_hour_before")
    assert "07:30 开始" in hour.text
    assert to(await due(chat, "2026-11-26T07:31", "2026-11-26T07:01"), SHIYAN_GROUP) == []


async def test_withdrawn_plans_are_not_announced(chat: Chat) -> None:
    await add_activity(chat.runtime.factory, activity="lesson_prep", day="2026-11-26",
                       school_name="泗顶镇中心小学", status="planned", start="14:00",
                       withdrawn=True)
    assert of_kind(await due(chat, "2026-11-25T08:00", "2026-11-25T07:59"),
                   "activity_day_before") == []
