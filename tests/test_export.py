"""The ledger export (`jiaolian export`, handlers.ledger) checked cell by cell against the
database, after a month of the demo county driven through the real chat path: a plan with
on-time, late, early, make-up and leave entries, a corrected and co-reported 集体备课, a
cancelled plan, a withdrawn report, rotation reported twice, a plan still to come, photos,
and a topic with a line break (spec/conversation.md; SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select, update
from sqlmodel import col

from bot.cli import main
from bot.export_command import ProgressBar
from handlers import texts
from handlers.ledger import (
    LedgerScope,
    assessment_file_name,
    bundled_lines,
    file_name,
    ledger_data,
    term_period,
)
from handlers.ledger.workbook import text_width
from handlers.nlu.lexicon import activity_names
from handlers.periods import Period
from handlers.sheet import sheet_for
from handlers.standing import load_county, standing
from scheduler.calendar import SchoolCalendar
from scheduler.config import config_for
from storage.db import transaction
from storage.models import Activity, ActivityReport, Member, Photo, School
from storage.photos import add_photo
from tests.chat_harness import Chat, at

SHIYAN = "融安县实验小学教共体"
TODAY = dt.date(2026, 11, 27)
NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
STATUS = {"planned": "计划", "held": "已开展", "done": "已开展", "cancelled": "已取消"}
STATE = {(True, True): "达标", (True, False): "达标", (False, True): "未达标",
         (False, False): "进行中"}  # (met, finished)
TOPIC = "骨干教师支教\n第一批"
MONTH = [
    ("2026-11-02T09:00", "韦国庆", "明天下午两点到四点在县实小开展教师培训，各校老师参加", SHIYAN),
    ("2026-11-03T12:00", "刘芳", "今天下午的培训我请假", SHIYAN),
    ("2026-11-03T13:50", "李娜", "签到", SHIYAN),
    ("2026-11-03T13:55", "张丽", "签到", SHIYAN),
    ("2026-11-03T14:20", "陈静", "签到", SHIYAN),  # late
    ("2026-11-03T15:30", "张丽", "签退", SHIYAN),  # early
    ("2026-11-03T17:00", "何俊", "签到", SHIYAN),  # after the end: 补签
    ("2026-11-05T11:00", "张丽", "今天上午在泗顶中心校开展了三年级数学集体备课，9人参加", SHIYAN),
    ("2026-11-05T11:05", "张丽", "不对，是11人", SHIYAN),
    ("2026-11-05T12:00", "贲凤英", "今天上午在泗顶中心校开展了三年级数学集体备课，12人参加",
     SHIYAN),
    ("2026-11-10T09:00", "韦国庆", "11月20日下午三点在县实小开展语文教研活动", SHIYAN),
    ("2026-11-11T09:00", "韦国庆", "11月20日的教研活动取消了", SHIYAN),
    ("2026-11-12T16:00", "李娜", "今天在县实小开展了语文集体备课，主题“大单元教学”，15人参加",
     SHIYAN),
    ("2026-11-12T16:02", "李娜", "撤销", SHIYAN),
    ("2026-11-16T10:00", "韦国庆", "县实小派出6名骨干教师到泗顶支教", SHIYAN),
    ("2026-11-16T10:30", "陈静", "县实小派出6名骨干教师到泗顶支教", SHIYAN),  # the same six
    ("2026-11-17T10:00", "欧阳勇", "今天泗顶小学3名教师到县实小跟岗学习", SHIYAN),
    # Reported by the lead school's principal; the sender is the school the words name.
    ("2026-11-19T10:00", "韦国庆", "今天泗顶小学2名教师到县实小跟岗学习", SHIYAN),
    ("2026-11-18T10:00", "覃海燕", "今天开展了化学集体备课，8人参加", "融安县初级中学教共体"),
    ("2026-11-24T10:00", "韦国庆", "11月30日上午九点在泗顶中心校开展送教下乡", SHIYAN),
]


def wall(text: str) -> dt.datetime:
    """A local wall-clock time as a spreadsheet holds it (no time zone)."""
    return at(text).replace(tzinfo=None)


@pytest.fixture
async def month(chat: Chat) -> Chat:
    for when, who, text, community in MONTH:
        chat.clock.moment = at(when)
        assert await chat.say(who, text, chat=f"{community}群"), text
    async with transaction(chat.runtime.factory) as session:
        prep = (await session.execute(select(Activity).where(
            col(Activity.activity) == "lesson_prep", col(Activity.community_id) == 2,
            col(Activity.withdrawn).is_(False)))).scalar_one()
        for sha in ("a" * 64, "b" * 64):
            assert await add_photo(session=session, activity_id=prep.id or 0,
                                   member_id=prep.reporter_id, sha256=sha, mime="image/jpeg",
                                   size=10, source=f"console:{sha[:4]}",
                                   now=at("2026-11-05T11:10"))
        await session.execute(update(Activity).where(col(Activity.activity) == "rotation")
                              .values(topic=TOPIC))
    return chat


def _config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


async def _cli(*argv: str) -> int:
    """`jiaolian …` in a thread: the command runs its own event loop, as from a shell."""
    return await asyncio.to_thread(main, list(argv))


async def _export(tmp_path: Path, db_url: str, *args: str, name: str = "out.xlsx") -> Path:
    out = tmp_path / name
    assert await _cli("export", "--config", str(_config(tmp_path, db_url)), "--today",
                      TODAY.isoformat(), "--out", str(out), *args) == 0
    return out


def _values(ws: Worksheet, row: int) -> list[Any]:
    return [c.value for c in ws[row]]


def _rows(ws: Worksheet, first: int = 3) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def _laid_out(ws: Worksheet, title: str, headers: list[str], *, titles: str = "$1:$2",
              freeze: str = "A3") -> None:
    """Title row, frozen header, print titles, landscape and fit to width, CJK widths."""
    assert ws["A1"].value == title
    if titles == "$1:$2":
        assert _values(ws, 2)[:len(headers)] == headers
    assert ws.freeze_panes == freeze
    assert ws.print_title_rows == titles
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    for i, header in enumerate(headers):
        width = ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
        assert width >= text_width(header) + 2


async def _db(chat: Chat, stmt: Any) -> list[Any]:
    async with chat.runtime.factory() as session:
        return list((await session.execute(stmt)).all())


async def _expected_events(chat: Chat, community_id: int) -> list[list[Any]]:
    """活动台账 rows written independently from the tables."""
    events = [r[0] for r in await _db(chat, select(Activity).where(
        col(Activity.community_id) == community_id, col(Activity.withdrawn).is_(False),
        col(Activity.date) >= NOV[0], col(Activity.date) <= NOV[1]).order_by(
        col(Activity.date), col(Activity.id)))]
    reports = await _db(chat, select(col(ActivityReport.activity_id), col(Member.name))
                        .join(Member, col(Member.id) == col(ActivityReport.member_id))
                        .where(col(ActivityReport.withdrawn).is_(False))
                        .order_by(col(ActivityReport.id)))
    schools = dict(await _db(chat, select(col(School.id), col(School.name))))
    photos = await _db(chat, select(col(Photo.activity_id), col(Photo.sha256))
                       .order_by(col(Photo.id)))
    names = activity_names()
    out = []
    for e in events:
        who = list(dict.fromkeys(n for a, n in reports if a == e.id))
        shas = [s for a, s in photos if a == e.id]
        when = (e.starts_at.astimezone(at("2026-11-01T00:00").tzinfo).strftime("%H:%M")
                if e.starts_at else "")
        if e.ends_at:
            when += "–" + e.ends_at.astimezone(at("2026-11-01T00:00").tzinfo).strftime("%H:%M")
        out.append([
            wall(f"{e.date}T00:00"), when or None, schools.get(e.school_id),
            SHIYAN, names[e.activity], e.subject, e.grade, e.topic, e.participants,
            who[0] + (f"（另：{'、'.join(who[1:])}）" if len(who) > 1 else ""),
            len(shas), "、".join(s[:12] for s in shas) or None, STATUS[e.status],
            e.created_at.astimezone(at("2026-11-01T00:00").tzinfo).replace(tzinfo=None)])
    return out


async def test_the_ledger_sheet_is_the_record_cell_by_cell(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30",
                        "--community", SHIYAN)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["活动台账", "指标完成情况", "签到簿", "交流轮岗", "考核"]
    ws = wb["活动台账"]
    headers = ["日期", "时间", "学校", "教共体", "活动类型", "学科", "年级", "主题", "参与人数",
               "登记人", "照片", "照片编号", "状态", "登记时间"]
    _laid_out(ws, f"{SHIYAN} 活动台账 2026-11-01 至 2026-11-30", headers)
    rows = _rows(ws)
    expected = await _expected_events(month, 2)
    assert rows[:-1] == expected
    assert len(expected) == 7  # the withdrawn 集体备课 is not there
    assert all("大单元教学" not in str(c) for r in rows for c in r)
    assert [(r[4], r[12]) for r in rows[:-1]] == [
        ("教师培训", "已开展"), ("集体备课", "已开展"), ("支教轮岗", "已开展"),
        ("跟岗学习", "已开展"), ("跟岗学习", "已开展"), ("教研活动", "已取消"),
        ("送教下乡", "计划")]
    assert rows[1][8] == 11 and rows[1][9] == "张丽（另：贲凤英）" and rows[1][10] == 2
    assert rows[2][9] == "韦国庆（另：陈静）"
    for r in range(3, 3 + len(expected)):
        assert ws.cell(r, 1).is_date and ws.cell(r, 1).number_format == "yyyy-mm-dd"
        assert ws.cell(r, 14).is_date
    # 合计: events, participants of the events held, photos.
    assert rows[-1][0] == "合计" and rows[-1][4] == "共 7 项，已开展 5 项"
    assert rows[-1][8] == 11 + 6 + 3 + 2 and rows[-1][10] == 2


async def test_the_sign_in_book_agrees_with_the_chat_sheet(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30",
                        "--community", SHIYAN)
    ws = openpyxl.load_workbook(out)["签到簿"]
    _laid_out(ws, f"{SHIYAN} 签到簿 2026-11-01 至 2026-11-30",
              ["姓名", "学校", "状态", "签到时间", "签退时间", "备注"], titles="$1:$1",
              freeze="A2")
    plans = [r[0] for r in await _db(month, select(Activity).where(
        col(Activity.status).in_(("planned", "held")), col(Activity.community_id) == 2)
        .order_by(col(Activity.date)))]
    assert [p.activity for p in plans] == ["training", "outreach"]
    rows = _rows(ws, first=2)
    titles = [i for i, r in enumerate(rows) if r[0] and r[1] is None and r[0] != "姓名"]
    assert len(titles) == 2
    assert rows[titles[0]][0].startswith("教师培训　2026-11-03 14:00–16:00　地点：融安县实验小学")
    assert rows[titles[1]][0].startswith("送教下乡　2026-11-30 09:00　地点：泗顶镇中心小学")
    for plan, first, last in ((plans[0], titles[0], titles[1] - 1), (plans[1], titles[1],
                                                                    len(rows))):
        assert rows[first + 1] == ["姓名", "学校", "状态", "签到时间", "签退时间", "备注"]
        lines = [r for r in rows[first + 2:last] if r[0]]
        async with month.runtime.factory() as session:
            sheet = await sheet_for(session, plan)
        by_status: dict[str, set[str]] = {}
        for line in lines:
            by_status.setdefault(line[2], set()).add(line[0])
        signed = {n for s in ("已签到", "迟到", "早退", "补签") for n in by_status.get(s, ())}
        assert signed == set(sheet.signed)
        assert by_status.get("请假", set()) == set(sheet.leave)
        # Nobody is absent yet from the plan still to come: their lines wait for a signature.
        absent = "未签到" if plan.date <= TODAY else None
        assert by_status.get(absent, set()) == set(sheet.missing) != set()
        assert by_status.get("迟到", set()) <= set(sheet.late)
        assert len(lines) == len(sheet.signed) + len(sheet.leave) + len(sheet.missing)
    training = {r[0]: r for r in rows[titles[0] + 2:titles[1]] if r[0]}
    assert training["李娜"][1:5] == ["融安县实验小学", "已签到",
                                     wall("2026-11-03T13:50"), None]
    assert training["陈静"][2] == "迟到" and training["何俊"][2] == "补签"
    assert training["张丽"][2:5] == ["早退", wall("2026-11-03T13:55"),
                                    wall("2026-11-03T15:30")]
    assert training["刘芳"][2] == "请假" and training["刘芳"][5] == "今天下午的培训我请假"
    assert training["李娜"][5] is None and training["陈静"][5] is None
    assert training["何俊"][5] is None and training["张丽"][5] is None
    # 各校老师参加: every teacher of both schools ("县实小开展教师培训" names no teachers).
    assert len(training) == 17 and training["张丽"][1] == "泗顶镇中心小学"
    assert training["韦春兰"][1:3] == ["泗顶镇中心小学", "未签到"]


def _period_label(p: Period) -> str:
    return {"month": f"{p.start.year}年{p.start.month}月",
            "quarter": f"{p.start.year}年第4季度", "semester": "2026年秋季学期",
            "year": "2026学年"}[p.kind]


async def test_quota_figures_are_the_standing_ones(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30",
                        "--community", SHIYAN)
    ws = openpyxl.load_workbook(out)["指标完成情况"]
    _laid_out(ws, f"{SHIYAN} 指标完成情况 2026-11-01 至 2026-11-30",
              ["教共体", "学校", "指标", "规则", "周期", "要求", "完成", "结果", "未覆盖学科",
               "计数口径"])
    rows = _rows(ws)
    calendar = SchoolCalendar(config_for(scheduler={}, nlu={}))
    names = activity_names()
    expected = []
    async with month.runtime.factory() as session:
        county = await load_county(session=session)
        for kind in ("month", "quarter", "semester", "year"):
            period = calendar.period(kind, NOV[0])
            for st in await standing(session=session, county=county,
                                     quotas=calendar.config.quotas, periods={kind: period},
                                     per_school=True, communities=[2]):
                name = "/".join(names[c] for c in st.quota.codes)
                finished = period.end <= TODAY
                school = county.schools[st.school_id].name if st.school_id else "（教共体）"
                expected.append((school, name, _period_label(period), st.need, st.done,
                                 STATE[(st.met, finished)], "、".join(st.missing) or None))
                expected += [(county.schools[sid].name, name, _period_label(period), 1, n,
                              STATE[(n >= 1, finished)], None) for sid, n in st.schools]
    assert sorted((r[1], r[2], r[4], r[5], r[6], r[7], r[8]) for r in rows) == sorted(expected)
    prep = next(r for r in rows
                if r[1] == "（教共体）" and r[2] == "集体备课" and r[4] == "2026年11月")
    assert prep[5:8] == [2, 1, "进行中"]
    training = next(r for r in rows if r[1] == "泗顶镇中心小学" and r[2] == "教师培训")
    assert training[6:8] == [0, "进行中"]  # signing in is not taking part


async def test_rotation_is_counted_in_people_per_sending_school(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30",
                        "--community", SHIYAN)
    ws = openpyxl.load_workbook(out)["交流轮岗"]
    _laid_out(ws, f"{SHIYAN} 交流轮岗 2026-11-01 至 2026-11-30",
              ["学年", "教共体", "派出学校", "日期", "类型", "去向", "人数", "登记人", "目标",
               "结果"])
    rows = _rows(ws)
    assert rows == [
        ["2026学年", SHIYAN, "融安县实验小学", wall("2026-11-16T00:00"), "支教轮岗",
         "泗顶镇中心小学", 6, "韦国庆、陈静", None, None],
        ["2026学年", SHIYAN, "融安县实验小学", "小计", None, None, 6, None, "≥6", "达标"],
        ["2026学年", SHIYAN, "泗顶镇中心小学", wall("2026-11-17T00:00"), "跟岗学习",
         "融安县实验小学", 3, "欧阳勇", None, None],
        ["2026学年", SHIYAN, "泗顶镇中心小学", wall("2026-11-19T00:00"), "跟岗学习",
         "融安县实验小学", 2, "韦国庆", None, None],
        ["2026学年", SHIYAN, "泗顶镇中心小学", "小计", None, None, 5, None, "≥3", "达标"],
    ]


async def test_the_term_assessment_and_its_bundled_line(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--assessment", "--term", "2026-autumn",
                        "--community", SHIYAN)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["考核"]
    ws = wb["考核"]
    _laid_out(ws, f"{SHIYAN} 考核表 2026年秋季学期",
              ["教共体", "学校", "角色", "指标", "规则", "周期", "要求", "完成", "结果",
               "计数口径"])
    rows = _rows(ws)
    *table, bundled = rows
    assert all(r[0] == SHIYAN for r in table)

    def tally(school: str) -> tuple[int, int]:
        mine = [r for r in table if r[1] == school]
        return sum(r[8] == "达标" for r in mine), len(mine)

    met, total = tally("（教共体）")
    weak_met, weak_total = tally("泗顶镇中心小学")
    assert bundled[0] == texts.ASSESSMENT_BUNDLED.format(
        community=SHIYAN, met=met, total=total, weakest=texts.ASSESSMENT_WEAKEST.format(
            school="泗顶镇中心小学", met=weak_met, total=weak_total))
    fig = {(r[1], r[3], r[5]): r[6:9] for r in table}
    assert fig[("（教共体）", "教师培训", "2026年秋季学期")] == [1, 1, "达标"]
    # planned only
    assert fig[("泗顶镇中心小学", "送教下乡", "2026年秋季学期")] == [1, 0, "进行中"]
    assert fig[("（教共体）", "送教下乡", "2026年秋季学期")] == [1, 0, "进行中"]
    assert fig[("融安县实验小学", "交流轮岗（人数）", "2026学年")] == [6, 6, "达标"]
    assert fig[("泗顶镇中心小学", "交流轮岗（人数）", "2026学年")] == [3, 5, "达标"]
    assert (met, total) == (2, 8)  # 教师培训 and the lead school's rotation
    taught = {subject for (subjects,) in await _db(month, select(col(Member.subjects)).join(
        School, col(School.id) == col(Member.school_id)).where(
        col(School.community_id) == 2, col(Member.role) == "teacher")) for subject in subjects}
    cover = next(r for r in table if r[1] == "（教共体）" and r[3] == "集体备课"
                 and r[5] == "2026学年")
    assert cover[4:9] == ["每学年各学科至少1次", "2026学年", len(taught), 1, "进行中"]
    # The ledger's own 考核 sheet is the same assessment.
    ledger = openpyxl.load_workbook(await _export(
        tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30", "--community", SHIYAN,
        name="ledger.xlsx"))["考核"]
    assert _rows(ledger) == rows


async def test_csv_is_the_ledger_rows_one_record_per_event(
        month: Chat, tmp_path: Path, db_url: str) -> None:
    out = await _export(tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30",
                        "--community", SHIYAN, "--format", "csv", name="out.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert records[0][:3] == ["日期", "时间", "学校"] and len(records[0]) == 14
    expected = await _expected_events(month, 2)
    assert len(records) == 1 + len(expected)
    assert [r[0] for r in records[1:]] == [e[0].date().isoformat() for e in expected]
    assert [r for r in records if r[7] == TOPIC] != []  # the line break stays in its cell
    assert raw.count(b"\r\n") == len(records)


async def test_scopes_county_and_school(month: Chat, tmp_path: Path, db_url: str) -> None:
    county = openpyxl.load_workbook(await _export(
        tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30"))["活动台账"]
    assert county["A1"].value == "融安县 活动台账 2026-11-01 至 2026-11-30"
    assert [r[3] for r in _rows(county)[:-1]].count("融安县初级中学教共体") == 1
    school = openpyxl.load_workbook(await _export(
        tmp_path, db_url, "--from", "2026-11-01", "--to", "2026-11-30", "--school", "泗顶小学",
        name="school.xlsx"))["活动台账"]
    assert school["A1"].value.startswith("泗顶镇中心小学 活动台账")
    # Held there, or reported by its teachers (the 跟岗 its principal reported).
    assert [r[4] for r in _rows(school)[:-1]] == ["集体备课", "支教轮岗", "跟岗学习", "送教下乡"]


async def test_the_library_call_the_chat_makes(month: Chat) -> None:
    calendar = SchoolCalendar(config_for(scheduler={}, nlu={}))
    steps: list[tuple[int, int]] = []
    async with month.runtime.factory() as session:
        ledger = await ledger_data(session, scope=LedgerScope.community(2), start=NOV[0],
                                   end=NOV[1], quotas=calendar.config.quotas,
                                   period_of=calendar.period, activity_names=activity_names(),
                                   tz=calendar.config.timezone, today=TODAY,
                                   progress=lambda done, total: steps.append((done, total)))
    assert steps == [(i, 5) for i in range(1, 6)]  # two plans' sheets and three steps
    assert file_name(ledger.scope_name, ledger.start, ledger.end) == (
        "融安县实验小学教共体_活动台账_2026年11月.xlsx")
    assert [a.term.label for a in ledger.assessments] == ["2026-autumn"]
    assessment = ledger.assessments[0]
    assert assessment_file_name(assessment.name, assessment.term) == (
        "融安县实验小学教共体_考核表_2026年秋季学期.xlsx")
    [line] = bundled_lines(ledger.assessments[0])
    assert line.startswith(f"{SHIYAN} 捆绑考核：教共体达标 2/8 项；最弱成员校 泗顶镇中心小学")


def test_file_names_and_terms() -> None:
    calendar = SchoolCalendar(config_for(scheduler={}, nlu={}))
    assert file_name("融安县", dt.date(2026, 11, 3), dt.date(2026, 11, 20)) == (
        "融安县_活动台账_2026-11-03至2026-11-20.xlsx")
    term = term_period("2026-autumn", calendar.period)
    assert (term.start, term.end) == (dt.date(2026, 7, 11), dt.date(2027, 1, 23))
    assert assessment_file_name("融安县实验小学教共体", term) == (
        "融安县实验小学教共体_考核表_2026年秋季学期.xlsx")


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_a_progress_bar_only_on_a_terminal_and_for_long_exports() -> None:
    quiet, short, shown = _Terminal(False), _Terminal(True), _Terminal(True)
    for stream, total in ((quiet, 40), (short, 5), (shown, 40)):
        bar = ProgressBar(stream)
        for done in range(1, total + 1):
            bar(done, total)
        bar.close()
    assert quiet.getvalue() == "" and short.getvalue() == ""
    assert shown.getvalue().endswith("[" + "#" * 30 + "] 40/40\n")


# --- mistakes: one line, a non-zero exit, nothing created -------------------------------------


@pytest.mark.parametrize(("args", "error"), [
    (["--from", "2026-11-31", "--to", "2026-11-30"], "jiaolian: --from: expected YYYY-MM-DD"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "jiaolian: --to 2026-11-01 is before"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--community", "无此教共体"],
     "jiaolian: --community: no community named '无此教共体'"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--school", "无此学校"],
     "jiaolian: --school: no school named '无此学校'"),
    (["--assessment", "--term", "2026-winter"], "jiaolian: --term: expected a term like"),
    (["--assessment"], "jiaolian: --assessment: say which term"),
    (["--assessment", "--term", "2026-autumn", "--format", "csv"],
     "jiaolian: --assessment: the assessment is a workbook"),
])
async def test_mistakes_are_one_line(chat: Chat, tmp_path: Path, db_url: str,
                                     capsys: pytest.CaptureFixture[str], args: list[str],
                                     error: str) -> None:
    out = tmp_path / "out.xlsx"
    assert await _cli("export", "--config", str(_config(tmp_path, db_url)), "--out", str(out),
                      *args) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(error), err
    assert not out.exists()


def test_an_unwritable_path_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/db.sqlite3")
    assert main(["export", "--config", str(config), "--from", "2026-11-01", "--to",
                 "2026-11-30", "--out", str(tmp_path / "no" / "such" / "x.xlsx")]) != 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"jiaolian: --out: no directory {tmp_path / 'no' / 'such'}"]
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_missing_database_is_not_created(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "none" / "jiaolian.sqlite3"
    config = _config(tmp_path, f"sqlite:///{path}")
    for extra in (["--from", "2026-11-01", "--to", "2026-11-30"],
                  ["--assessment", "--term", "2026-autumn"]):
        assert main(["export", "--config", str(config), "--out", str(tmp_path / "x.xlsx"),
                     *extra]) != 0
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"jiaolian: no database at {path}")
    assert not path.exists() and not path.parent.exists()
    assert not (tmp_path / "x.xlsx").exists()
