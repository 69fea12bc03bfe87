"""`jiaolian records`: each event once with all its reporters, the table, and an admin's
withdraw and merge (audited with the reason); mistakes are one line and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.cli import main
from storage.db import create_engine, session_factory, transaction, upgrade
from storage.events import add_event, join_event
from storage.models import Activity, ActivityReport, Attendance, AuditLog
from tests.scheduler_support import at, demo, member, school

T = TypeVar("T")


def _with_db(db_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(db_url)
        try:
            async with transaction(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _event(session: AsyncSession, *, who: str, start: str | None = None,
                 text: str) -> Activity:
    person = await member(session, who)
    where = await school(session, "泗顶镇中心小学")
    event = Activity(status="done", activity="lesson_prep", date=at("2026-11-26T00:00").date(),
                     time=start, starts_at=at(f"2026-11-26T{start}") if start else None,
                     subject="数学", participants=12, school_id=where.id,
                     community_id=where.community_id,
                     reporter_id=person.id or 0, source_text=text)
    await add_event(session=session, event=event, chat="console:群", slots={"participants": 12},
                    now=at("2026-11-26T12:00"))
    return event


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    """Event 1 reported by 张丽 and joined by 陈静; event 2 a second record of it (李娜);
    event 3 of another community; event 4 another activity; a make-up sign-in to event 1."""
    async def prepare() -> None:
        engine = create_engine(db_url)
        await upgrade(engine)
        await demo(engine)
        await engine.dispose()

    asyncio.run(prepare())

    async def seed(session: AsyncSession) -> None:
        first = await _event(session, who="张丽", start="14:00",
                             text="今天下午开展了数学集体备课\n12人参加")
        chen = await member(session, "陈静")
        await join_event(session=session, event=first, member_id=chen.id or 0, chat="console:群",
                         inbox_id=None, text="我们也参加了", slots={"participants": 15},
                         now=at("2026-11-26T12:30"))
        await _event(session, who="李娜", text="数学集体备课，15人")
        other = await _event(session, who="张丽", text="另一个教共体的")
        other.community_id = 1  # a slip of the registrant's, for the merge test
        session.add(other)
        lesson = await _event(session, who="李娜", text="听评课")
        lesson.activity = "observation"
        session.add(lesson)
        zhang = await member(session, "张丽")
        session.add(Attendance(member_id=zhang.id or 0, type="checkin", date=first.date,
                               at=at("2026-11-26T17:00"), activity_id=first.id, makeup=True,
                               note="补签", created_at=at("2026-11-26T17:00")))

    _with_db(db_url, seed)
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def records(config_file: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[Any]:
    assert main(["records", "--config", str(config_file), "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_lists_each_event_once_with_all_its_reporters(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = records(config_file, capsys)
    events = [r for r in rows if r["kind"] == "activity"]
    assert [(e["id"], e["reporters"]) for e in events] == [
        (1, ["张丽", "陈静"]), (2, ["李娜"]), (3, ["张丽"]), (4, ["李娜"])]  # by date; timed first
    first = events[0]
    assert {k: first[k] for k in ("status", "activity", "school", "community", "subject",
                                  "participants", "time", "starts_at", "withdrawn")} == {
        "status": "done", "activity": "lesson_prep", "school": "泗顶镇中心小学",
        "community": "融安县实验小学教共体", "subject": "数学", "participants": 12,
        "time": "14:00", "starts_at": "2026-11-26T14:00:00+08:00", "withdrawn": False}
    [sign] = [r for r in rows if r["kind"] == "attendance"]
    assert rows[-1] == sign  # attendance after the events
    assert (sign["member"], sign["activity_id"], sign["makeup"], sign["at"]) == (
        "张丽", 1, True, "2026-11-26T17:00:00+08:00")


def test_the_table_is_chinese_and_one_line_per_entry(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "--config", str(config_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 4 + 1
    assert lines[0].split() == ["编号", "日期", "时间", "类别", "活动", "状态", "学校", "教共体",
                                "人员", "详情", "原文"]
    first = next(line for line in lines if line.startswith("1 "))
    assert first.split()[:9] == ["1", "2026-11-26", "14:00", "活动", "集体备课", "已开展",
                                 "泗顶镇中心小学", "融安县实验小学教共体", "张丽、陈静"]
    assert first.endswith("今天下午开展了数学集体备课 12人参加")  # the newline is a space
    assert "补签" in lines[-1] and "17:00" in lines[-1] and "签到" in lines[-1]


def _audit(db_url: str, action: str, entity_id: int) -> list[AuditLog]:
    async def read(session: AsyncSession) -> list[AuditLog]:
        return list((await session.execute(select(AuditLog).where(
            col(AuditLog.action) == action, col(AuditLog.entity) == "activity",
            col(AuditLog.entity_id) == entity_id))).scalars())

    return _with_db(db_url, read)


def test_withdraw_takes_the_event_and_its_reports_with_the_reason(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "--config", str(config_file), "withdraw", "1",
                 "--reason", "重复登记"]) == 0
    assert capsys.readouterr().out.strip() == "withdrew event #1 and its reports"
    assert [r["id"] for r in records(config_file, capsys) if r["kind"] == "activity"] == [2, 3, 4]
    everything = records(config_file, capsys, "--all")
    [gone] = [r for r in everything if r["kind"] == "activity" and r["id"] == 1]
    assert gone["withdrawn"] is True and gone["reporters"] == ["张丽", "陈静"]
    [audit] = _audit(db_url, "withdraw", 1)
    assert audit.reason == "重复登记" and audit.after is not None and audit.after["withdrawn"]

    async def reports(session: AsyncSession) -> list[bool]:
        return list((await session.execute(select(col(ActivityReport.withdrawn)).where(
            col(ActivityReport.activity_id) == 1))).scalars())

    assert _with_db(db_url, reports) == [True, True]


def test_merge_moves_reports_to_the_event_kept(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "--config", str(config_file), "merge", "1", "2",
                 "--reason", "同一次备课"]) == 0
    assert capsys.readouterr().out.strip() == "merged event #2 into #1"
    events = [r for r in records(config_file, capsys) if r["kind"] == "activity"]
    assert [(e["id"], e["reporters"]) for e in events] == [(1, ["张丽", "陈静", "李娜"]),
                                                           (3, ["张丽"]), (4, ["李娜"])]
    assert [a.reason for a in _audit(db_url, "merge", 1)] == ["同一次备课"]
    assert [a.reason for a in _audit(db_url, "withdraw", 2)] == ["同一次备课"]


@pytest.mark.parametrize(("args", "error"), [
    (["withdraw", "99", "--reason", "x"], "jiaolian: no event #99"),
    (["withdraw", "1", "--reason", "  "], "jiaolian: --reason: say why"),
    (["merge", "1", "1"], "jiaolian: cannot merge event #1 into itself"),
    (["merge", "1", "3"], "jiaolian: events #1 and #3 belong to different communities"),
    (["merge", "1", "42"], "jiaolian: no event #42"),
    (["merge", "1", "4"], "jiaolian: events #1 and #4 are different activities"),
])
def test_mistakes_are_one_line_and_change_nothing(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str], args: list[str],
        error: str) -> None:
    assert main(["records", "--config", str(config_file), *args]) != 0
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(error)
    assert _audit(db_url, "withdraw", 1) == [] and _audit(db_url, "merge", 1) == []


def test_withdrawing_twice_is_an_error(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["records", "--config", str(config_file), "withdraw", "1", "--reason", "重复"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) != 0
    assert capsys.readouterr().err.strip() == "jiaolian: event #1 is already withdrawn"


def test_reading_a_missing_database_creates_none(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "none" / "jiaolian.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{path}"\n', encoding="utf-8")
    assert main(["records", "--config", str(config), "--json"]) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"jiaolian: no database at {path}")
    assert not path.exists() and not path.parent.exists()
