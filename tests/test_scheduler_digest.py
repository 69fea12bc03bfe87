"""Weekly digests: each principal's school, the lead principal's community, the admin's county."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduler.digest import parse_week, week_label
from scheduler.due import collect_digests, run_due
from tests.scheduler_support import (
    add_activity,
    add_attendance,
    at,
    config,
    demo,
    drop_identity,
    kinds,
    to,
)


@pytest.fixture
async def county(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    factory = await demo(engine)
    # Week 48 (23–29 November 2026) in 融安县实验小学教共体.
    for day, activity, where, subject, reporter in (
        ("2026-11-24", "lesson_prep", "泗顶镇中心小学", "数学", "张丽"),
        ("2026-11-25", "lesson_prep", "泗顶镇中心小学", "语文", "韦春兰"),
        ("2026-11-25", "observation", "融安县实验小学", "英语", "刘芳"),
        ("2026-11-05", "research", "融安县实验小学", None, "李娜"),
        ("2026-11-20", "outreach", "泗顶镇中心小学", "科学", "何俊"),
    ):
        await add_activity(factory, activity=activity, day=day, school_name=where,
                           subject=subject, reporter=reporter)
    planned = await add_activity(factory, activity="training", day="2026-11-27",
                                 school_name="泗顶镇中心小学", status="planned", start="14:00")
    await add_attendance(factory, name="黄海波", type_="checkin", when="2026-11-27T13:50",
                         activity_id=planned)
    await add_attendance(factory, name="莫小燕", type_="checkin", when="2026-11-27T14:05",
                         activity_id=planned, late=True)
    await add_attendance(factory, name="吴秀珍", type_="leave", when="2026-11-27T09:00",
                         activity_id=planned)
    await add_activity(factory, activity="lesson_prep", day="2026-12-02",
                       school_name="融安县实验小学", status="planned", subject="数学",
                       start="15:00")
    return factory


async def digests(factory: async_sessionmaker[AsyncSession]) -> list:
    async with factory() as session:
        return await collect_digests(session=session, config=config(),
                                     week_start=dt.date(2026, 11, 23))


def test_week_labels() -> None:
    assert parse_week("2026-W48") == dt.date(2026, 11, 23)
    assert week_label(dt.date(2026, 11, 23)) == "2026-W48"
    assert week_label(dt.date(2026, 12, 28)) == "2026-W53"


async def test_principal_gets_their_school(county) -> None:
    [mine] = to(await digests(county), "欧阳勇")  # principal of 泗顶镇中心小学
    lines = mine.text.split("\n")
    assert lines[0] == "📊 周报 · 泗顶镇中心小学（11月23日—11月29日）"
    assert mine.extra["title"] == lines[0] and mine.extra["card"] is True
    assert lines[1] == "本周活动 2 次：集体备课 2"
    assert "本月：集体备课 2/2 ✓ · 教研活动 1/1 ✓ · 家长学校 0/1" in lines
    assert any(line.startswith("本学期：") and "送教下乡 1/1 ✓" in line for line in lines)
    assert "计划活动 1 场：签到 2 人次，迟到 1，请假 1" in lines
    idle = next(line for line in lines if line.startswith("本月还没有记录的老师"))
    # 张丽, 韦春兰 reported; 黄海波, 莫小燕 checked in; 吴秀珍 asked for leave.
    assert idle == "本月还没有记录的老师：蒙志刚、廖玉梅、贲凤英（可私下关心一下）"
    assert lines[-1] == "下周计划：12月2日 15:00 数学集体备课（融安县实验小学）"
    assert (mine.target_kind, mine.key) == ("user", f"digest:2026-W48:member:{mine.key[-2:]}")


async def test_lead_principal_also_gets_the_community(county) -> None:
    sent = to(await digests(county), "韦国庆")
    assert kinds(sent) == ["digest_community", "digest_school"]
    [community] = [m for m in sent if m.extra["kind"] == "digest_community"]
    lines = community.text.split("\n")
    assert lines[0] == "📊 教共体周报 · 融安县实验小学教共体（11月23日—11月29日）"
    assert lines[1] == "各校本周活动：融安县实验小学 1 次 · 泗顶镇中心小学 2 次"
    assert any("送教下乡 泗顶镇中心小学 1/1 ✓" in line for line in lines)
    assert "本学年：集体备课 学科 2/8 · 送教下乡 泗顶镇中心小学 学科 1/6" in lines
    assert not any("本月还没有记录" in line for line in lines)  # names stay with each principal


async def test_admin_gets_every_community_ranked(county) -> None:
    [county_view] = to(await digests(county), "蒙建华")
    lines = county_view.text.split("\n")
    assert lines[0] == "📊 全县教共体周报（11月23日—11月29日）"
    assert lines[1] == "按本月和本学期任务完成度排序："
    assert lines[2].startswith("1. 融安县实验小学教共体 达标 ")
    assert len(lines) == 2 + 5


async def test_teachers_get_no_digest_and_people_without_identity_are_skipped(county) -> None:
    await drop_identity(county, "欧阳勇")
    sent = await digests(county)
    assert to(sent, "欧阳勇") == []
    assert {m.extra["kind"] for m in sent} == {"digest_school", "digest_community",
                                               "digest_county"}
    assert len(sent) == 9 + 5 + 1  # ten principals less one, five lead views, one admin


async def test_monday_morning_sends_last_weeks_digests_once(county) -> None:
    sent = await run_due(factory=county, now=at("2026-11-30T08:00"),
                         last_run=at("2026-11-30T07:59"), config=config())
    assert len([m for m in sent if m.key.startswith("digest:2026-W48:")]) == 15 + 1
    assert await run_due(factory=county, now=at("2026-11-30T08:01"),
                         last_run=at("2026-11-30T07:00"), config=config()) == []
