"""Weekly digests: each principal's school, the lead principal's community, the admin's county."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from bot.makers import default_makers
from handlers.chart import chart_data
from scheduler.calendar import SchoolCalendar
from scheduler.digest import parse_week, week_label
from scheduler.due import collect_digests, run_due
from storage.blobs import BlobStore, image_type
from storage.db import transaction
from storage.models import Community, OutboxMessage
from storage.outbox import enqueue
from tests.scheduler_support import (
    SHIYAN,
    SHIYAN_GROUP,
    add_activity,
    add_attendance,
    at,
    config,
    demo,
    drop_identity,
    run_due_between,
    to,
)

GROUPS = 5  # the demo's community groups


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


async def test_principal_gets_their_schools_own_lines_and_the_community_line(county) -> None:
    [mine] = to(await digests(county), "欧阳勇")  # principal of 泗顶镇中心小学
    assert mine.text.split("\n") == [
        "📊 周报 · 泗顶镇中心小学（11月23日—11月29日）",
        "本周活动 2 次：集体备课 2",
        # Community-wide rules: the events the school took part in; its own rules: standing.
        "本校本月：集体备课 2 次 · 教研活动 0 次 · 家长学校 0 次",
        "本校本季度：听评课 0 次",
        "本校本学期：优质课竞赛 0 次 · 送教下乡 1/1 ✓ · 管理视导 0/1，还差 1 次 · 教师培训 0 次"
        " · 质量检测 0 次",
        "本校本学年：送教下乡 还缺 5 科：体育、数学、美术、英语、语文",
        "融安县实验小学教共体：8 项指标 达标 3 项",
        "计划活动 1 场：签到 2 人次，迟到 1，请假 1",
        "下周计划：12月2日 15:00 数学集体备课（融安县实验小学）",
    ]
    assert mine.extra["title"] == "📊 周报 · 泗顶镇中心小学（11月23日—11月29日）"
    assert mine.extra["card"] is True
    assert (mine.target_kind, mine.key) == ("user", f"digest:2026-W48:member:{mine.key[-2:]}")
    assert "本月还没有记录" not in mine.text  # not the month's first digest (that was 2 Nov)


async def test_lead_principal_gets_one_digest_with_the_community_and_their_school(
        county) -> None:
    [merged] = to(await digests(county), "韦国庆")
    assert merged.extra["kind"] == "digest_community"
    assert merged.key.startswith("digest:2026-W48:member:")
    assert merged.text.split("\n") == [
        "📊 教共体周报 · 融安县实验小学教共体（11月23日—11月29日）",
        "各校本周活动：融安县实验小学 1 次 · 泗顶镇中心小学 2 次",
        "教共体本月：集体备课 2/2 ✓ · 教研活动 1/1 ✓ · 家长学校 0/1，还差 1 次",
        "教共体本季度：听评课 1/1 ✓",
        ("教共体本学期：优质课竞赛 0/1，还差 1 次 · 教师培训 0/1，还差 1 次 · "
         "质量检测 0/1，还差 1 次"),
        "本学期送教下乡（每所成员校）：泗顶镇中心小学 1/1 ✓",
        "本学期管理视导（每所成员校）：泗顶镇中心小学 0/1，还差 1 次",
        "教共体本学年：集体备课 还缺 6 科：体育、信息科技、科学、美术、英语、音乐",
        "本学年送教下乡（每所成员校）：泗顶镇中心小学 还缺 5 科：体育、数学、美术、英语、语文",
        "计划活动 1 场：签到 2 人次，迟到 1，请假 1",
        "本校本周活动 1 次：听评课 1",
        "本校本月：集体备课 0 次 · 教研活动 1 次 · 家长学校 0 次",
        "本校本季度：听评课 1 次",
        "本校本学期：优质课竞赛 0 次 · 教师培训 0 次 · 质量检测 0 次",
        "下周计划：12月2日 15:00 数学集体备课（融安县实验小学）",
    ]


async def test_the_first_digest_of_a_month_closes_the_last_one_and_names_the_idle(
        county) -> None:
    """Week 49 (30 November–6 December) is sent on 7 December, the month's first digest: its
    Monday lies in November, so November is reported as final, never as still short."""
    async with county() as session:
        sent = await collect_digests(session=session, config=config(),
                                     week_start=dt.date(2026, 11, 30))
    [mine] = to(sent, "欧阳勇")
    lines = mine.text.split("\n")
    assert lines[2] == "本校11月：集体备课 2 次 · 教研活动 0 次 · 家长学校 0 次"
    # 张丽, 韦春兰 reported; 黄海波, 莫小燕 checked in; 吴秀珍 asked for leave; 何俊 outreach.
    assert lines[-2] == "11月没有任何记录的老师：蒙志刚、廖玉梅、贲凤英（可私下关心一下）"
    [lead] = to(sent, "韦国庆")
    assert "教共体11月：集体备课 2/2 已达标 ✓ · 教研活动 1/1 已达标 ✓ · 家长学校 0/1 未达标" \
        in lead.text.split("\n")
    assert "还差" not in lead.text.split("教共体本季度")[0]
    assert [line for line in lead.text.split("\n") if "没有任何记录的老师" in line] == [
        "11月没有任何记录的老师：陈静、赵敏、孙丽华、覃明、张晓梅、钟伟（可私下关心一下）"]
    # The next week's digest (sent 14 December) names nobody.
    async with county() as session:
        later = await collect_digests(session=session, config=config(),
                                      week_start=dt.date(2026, 12, 7))
    assert not any("记录的老师" in m.text for m in later)


async def test_admin_gets_every_community_ranked_in_plain_words(county) -> None:
    [county_view] = to(await digests(county), "蒙建华")
    lines = county_view.text.split("\n")
    assert lines[0] == "📊 全县教共体周报（11月23日—11月29日）"
    assert lines[1] == "按本月和本学期任务完成度排序："
    assert lines[2] == "1. 融安县实验小学教共体 8 项指标 达标 3 项 · 本周活动 3 次"
    assert len(lines) == 2 + 5


async def test_teachers_get_no_digest_and_people_without_identity_are_skipped(county) -> None:
    await drop_identity(county, "欧阳勇")
    sent = await digests(county)
    assert to(sent, "欧阳勇") == []
    assert {m.extra["kind"] for m in sent} == {"digest_school", "digest_community",
                                               "digest_county"}
    assert len(sent) == 9 + 1  # one each: ten principals less one, one admin
    assert len({m.target for m in sent}) == len(sent)


async def test_monday_morning_sends_last_weeks_digests_once(county) -> None:
    sent = await run_due(factory=county, now=at("2026-11-30T08:00"),
                         last_run=at("2026-11-30T07:59"), config=config())
    assert len([m for m in sent if m.key.startswith("digest:2026-W48:")]) == 10 + 1
    assert await run_due(factory=county, now=at("2026-11-30T08:01"),
                         last_run=at("2026-11-30T07:00"), config=config()) == []


async def test_the_first_school_day_of_a_month_gives_each_group_last_months_result(
        county) -> None:
    sent = await run_due_between(county, "2026-12-01T08:00", "2026-12-01T07:59")
    [result] = [m for m in to(sent, SHIYAN_GROUP) if m.extra["kind"] == "period_result"]
    assert result.key.startswith("result:month:2026-11:community:")
    assert result.text.split("\n") == [
        "📋 11月任务结果 · 融安县实验小学教共体",
        "· 集体备课 2/2 次 已达标 ✓（融安县实验小学 0 次、泗顶镇中心小学 2 次）",
        "· 教研活动 1/1 次 已达标 ✓（融安县实验小学 1 次、泗顶镇中心小学 0 次）",
        "· 家长学校 0/1 次 未达标（融安县实验小学 0 次、泗顶镇中心小学 0 次）",
    ]
    assert len([m for m in sent if m.extra["kind"] == "period_result"]) == GROUPS
    # Once per community and month, however often the morning is run.
    again = await run_due_between(county, "2026-12-01T09:00", "2026-12-01T07:00")
    assert not [m for m in again if m.extra["kind"] == "period_result"]
    later = await run_due_between(county, "2026-12-02T08:00", "2026-12-02T07:59")
    assert not [m for m in later if m.extra["kind"] == "period_result"]


async def test_the_last_teaching_week_is_reported_on_the_terms_last_school_day(
        county) -> None:
    """The spring term ends on Friday 10 July 2026: week 28 goes out that morning, with the
    term's final result, and the vacation Monday after sends nothing."""
    await add_activity(county, activity="training", day="2026-07-07",
                       school_name="泗顶镇中心小学", reporter="张丽")
    assert not [m for m in await run_due_between(county, "2026-07-10T07:59", "2026-07-10T07:00")
                if m.extra["kind"].startswith("digest")]
    sent = await run_due_between(county, "2026-07-10T08:00", "2026-07-10T07:59")
    [lead] = [m for m in to(sent, "韦国庆") if m.extra["kind"] == "digest_community"]
    assert lead.key.startswith("digest:2026-W28:member:")
    lines = lead.text.split("\n")
    assert lines[0] == "📊 教共体周报 · 融安县实验小学教共体（7月6日—7月12日）"
    assert ("教共体2026春学期：优质课竞赛 0/1 未达标 · 教师培训 1/1 已达标 ✓ · "
            "质量检测 0/1 未达标") in lines
    assert "本学期管理视导（每所成员校）：泗顶镇中心小学 0/1 未达标" not in lines
    assert "2026春学期管理视导（每所成员校）：泗顶镇中心小学 0/1 未达标" in lines
    assert "还差" not in "\n".join(line for line in lines if "学期" in line)
    assert len([m for m in sent if m.extra["kind"].startswith("digest")]) == 10 + 1
    after = await run_due_between(county, "2026-07-13T08:00", "2026-07-13T07:00")
    assert after == []


async def test_at_term_end_principals_and_admins_get_the_terms_summary(county) -> None:
    await add_activity(county, activity="training", day="2026-07-07",
                       school_name="泗顶镇中心小学")
    await add_activity(county, activity="outreach", day="2026-05-07",
                       school_name="泗顶镇中心小学", subject="数学")
    sent = await run_due_between(county, "2026-07-10T08:00", "2026-07-10T07:59")
    [mine] = [m for m in to(sent, "欧阳勇") if m.extra["kind"] == "term_summary"]
    assert mine.key.startswith("term:2026-spring:community:")
    assert mine.text.split("\n") == [
        "📘 2026春学期总结 · 融安县实验小学教共体",
        "· 优质课竞赛 0/1 次 未达标（融安县实验小学 0 次、泗顶镇中心小学 0 次）",
        "· 送教下乡（泗顶镇中心小学）1/1 次 已达标 ✓",
        "· 管理视导（泗顶镇中心小学）0/1 次 未达标",
        "· 教师培训 1/1 次 已达标 ✓（融安县实验小学 0 次、泗顶镇中心小学 1 次）",
        "· 质量检测 0/1 次 未达标（融安县实验小学 0 次、泗顶镇中心小学 0 次）",
        "· 集体备课 未覆盖 8 科：体育、信息科技、数学、科学、美术、英语、语文、音乐，未达标",
        # 数学 was brought to 泗顶 in May.
        "· 送教下乡（泗顶镇中心小学）未覆盖 5 科：体育、科学、美术、英语、语文，未达标",
    ]
    [lead] = [m for m in to(sent, "韦国庆") if m.extra["kind"] == "term_summary"]
    assert lead.text == mine.text
    [admin] = [m for m in to(sent, "蒙建华") if m.extra["kind"] == "term_summary"]
    assert admin.text.startswith("📘 2026春学期总结 · 全县\n融安县初级中学教共体：\n")
    assert "融安县实验小学教共体：\n" + "\n".join(mine.text.split("\n")[1:]) in admin.text
    assert len([m for m in sent if m.extra["kind"] == "term_summary"]) == 10 + 1
    # Nothing of the kind in the middle of a term.
    mid = await run_due_between(county, "2026-11-30T08:00", "2026-11-30T07:59")
    assert not [m for m in mid if m.extra["kind"] == "term_summary"]


async def test_the_months_first_community_digest_carries_the_chart_privately(
        county, tmp_path) -> None:
    """The lead principal's first digest of December names the community's chart of the
    term's months; delivery draws it (bot.makers) into a PNG kept with the row; member
    schools' principals and later weeks get none."""
    files = BlobStore(tmp_path)
    async with county() as session:
        sent = await collect_digests(session=session, config=config(),
                                     week_start=dt.date(2026, 11, 30), files=files)
        cid = (await session.execute(select(Community.id).where(
            col(Community.name) == SHIYAN))).scalar_one()
    [lead] = to(sent, "韦国庆")
    [recipe] = lead.attachments
    assert recipe["kind"] == "image" and recipe["make"] == "community_chart"
    assert recipe["name"] == f"{SHIYAN}_各校每月集体备课_2026年9月-11月.png"
    assert recipe["args"] == {"community_id": cid, "start": "2026-09-01",
                              "end": "2026-11-01", "activity": "lesson_prep"}
    assert lead.target_kind == "user"
    [member_school] = to(sent, "欧阳勇")
    assert not member_school.attachments
    async with transaction(county) as session:
        await enqueue(session=session, message=lead, now=at("2026-12-07T08:00"))
    async with county() as session:
        row = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.key) == lead.key))).scalar_one()
    cfg = config()
    makers = default_makers(factory=county, blobs=files, quotas=cfg.quotas,
                            period_of=SchoolCalendar(cfg).period,
                            activity_names=cfg.activity_names)
    await makers.complete(row)
    [made] = row.attachments or []
    png = files.get(made["sha256"])
    assert image_type(png) == "image/png" and len(png) == made["size"]
    async with county() as session:
        again = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.key) == lead.key))).scalar_one()
    assert again.attachments == [made]  # a retry sends these bytes, draws nothing
    async with county() as session:
        data = await chart_data(session, community_id=cid, start=dt.date(2026, 11, 1),
                                end=dt.date(2026, 11, 1))
    assert data.months[0].total == 2  # the two 集体备课 of the fixture's November
    async with county() as session:
        later = await collect_digests(session=session, config=config(),
                                      week_start=dt.date(2026, 12, 7), files=files)
    assert not any(m.attachments for m in later)


async def test_the_admins_term_summary_carries_the_assessment_workbook(county, tmp_path) -> None:
    """One message, not two: the county's 捆绑考核 rides on the admin's term summary; the
    principals' summaries carry no file."""
    files = BlobStore(tmp_path)
    await add_activity(county, activity="training", day="2026-07-07",
                       school_name="泗顶镇中心小学")
    sent = await run_due_between(county, "2026-07-10T08:00", "2026-07-10T07:59", files=files)
    summaries = [m for m in sent if m.extra["kind"] == "term_summary"]
    [admin] = to(summaries, "蒙建华")
    [workbook] = admin.attachments
    assert workbook["name"] == "融安县_考核表_2026年春季学期.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(files.get(workbook["sha256"])))
    assert book.sheetnames == ["考核"]
    cells = [c for row in book["考核"].iter_rows(values_only=True) for c in row if c]
    assert any(SHIYAN in str(c) and "捆绑考核" in str(c) for c in cells)
    assert all(not m.attachments for m in summaries if m is not admin)
