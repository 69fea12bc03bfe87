"""Roster import and export (issue 2) against real databases: a SQLite file and PostgreSQL.

Every test taking `engine` or `db_url` runs on both (tests/conftest.py); PostgreSQL cases
are skipped when PostgreSQL is unreachable (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

from bot.cli import main
from bot.roster_command import TextProgressBar, print_report
from bot.roster_files import RosterFileError, read_roster, write_roster
from storage.db import create_engine, session_factory, transaction
from storage.models import AuditLog, Community, Identity, Member, School
from storage.roster_export import export_roster
from storage.roster_import import ImportReport, MemberChange, apply_roster
from storage.roster_vocab import EXPORT_COLUMNS

HEADER = ["学校", "姓名", "角色", "学科", "手机", "飞书ID", "企业微信ID"]
GOOD = [
    HEADER,
    ["城关一小", "张  三", "教师", "语文、道法", "138 0000 0001", "ou_zhang", ""],
    ["一小", "李四", "老师", "数学，信息技术 体育与健康", "", "", "lisi"],
    ["城关二小", "王五", "副校长", "", "+86 13900000002", "", ""],
    ["", "赵六", "教育局", "", "", "ou_zhao", ""],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    text = "\n".join(",".join(cells) for cells in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


async def seed(engine: AsyncEngine) -> None:
    """One community with two schools; the import finds them by name or alias."""
    async with transaction(session_factory(engine)) as session:
        community = Community(name="城关教共体", bureau="某县教育局")
        session.add(community)
        await session.flush()
        assert community.id is not None
        session.add(School(name="城关一小", community_id=community.id, is_lead=True,
                           aliases=["一小", "城关小学"]))
        session.add(School(name="城关二小", community_id=community.id, aliases=["二小"]))


async def run_import(engine: AsyncEngine, path: Path, *, dry_run: bool = False) -> ImportReport:
    sheet = read_roster(path)
    async with transaction(session_factory(engine)) as session:
        return await apply_roster(
            session=session, rows=sheet.rows, columns=sheet.columns, dry_run=dry_run
        )


async def count(engine: AsyncEngine, model: type[SQLModel]) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    models: list[type[SQLModel]] = [Community, School, Member, Identity, AuditLog]
    return {m.__name__: await count(engine, m) for m in models}


async def members(engine: AsyncEngine) -> dict[str, Member]:
    async with session_factory(engine)() as session:
        return {m.name: m for m in (await session.scalars(select(Member))).all()}


async def identities(engine: AsyncEngine) -> set[tuple[str, str, str]]:
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(col(Member.name), col(Identity.platform), col(Identity.external_id)).join(
                Member, col(Member.id) == col(Identity.member_id)
            )
        )
        return {(r[0], r[1], r[2]) for r in rows}


def errors_of(report: ImportReport) -> list[tuple[int | None, str]]:
    return [(e.row, e.message) for e in report.errors]


def assert_error(report: ImportReport, row: int | None, *fragments: str) -> None:
    for r, message in errors_of(report):
        if r == row and all(f in message for f in fragments):
            return
    pytest.fail(f"no error on row {row} with {fragments}: {[str(e) for e in report.errors]}")


# --- good files -----------------------------------------------------------------------------


async def check_good_import(engine: AsyncEngine, report: ImportReport) -> None:
    assert report.ok, [str(e) for e in report.errors]
    assert (report.added, report.updated, report.unchanged) == (4, 0, 0)
    people = await members(engine)
    assert set(people) == {"张三", "李四", "王五", "赵六"}
    assert people["张三"].role == "teacher"
    assert people["张三"].subjects == ["语文", "道德与法治"]
    assert people["张三"].phone == "13800000001"
    assert people["李四"].subjects == ["数学", "信息科技", "体育"]
    assert people["王五"].role == "principal"
    assert people["王五"].phone == "13900000002"
    assert people["赵六"].role == "admin" and people["赵六"].school_id is None
    assert people["张三"].school_id == people["李四"].school_id != people["王五"].school_id
    assert await identities(engine) == {
        ("张三", "feishu", "ou_zhang"), ("李四", "wecom", "lisi"), ("赵六", "feishu", "ou_zhao"),
    }


async def test_good_csv(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    report = await run_import(engine, write_csv(tmp_path / "r.csv", GOOD))
    await check_good_import(engine, report)


async def test_good_xlsx_with_numeric_cells(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    rows: list[list[Any]] = [list(r) for r in GOOD]
    rows[1][4] = 13800000001  # Excel stores a typed phone number as a number
    rows[3][4] = 13900000002.0
    report = await run_import(engine, write_xlsx(tmp_path / "r.xlsx", rows))
    await check_good_import(engine, report)


async def test_gbk_csv(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    path = write_csv(tmp_path / "r.csv", GOOD, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    await check_good_import(engine, await run_import(engine, path))


async def test_utf16_tab_separated_text(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    path = tmp_path / "r.csv"
    path.write_bytes("\r\n".join("\t".join(r) for r in GOOD).encode("utf-16"))
    await check_good_import(engine, await run_import(engine, path))


async def test_bom_csv(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    path = write_csv(tmp_path / "r.csv", GOOD, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    await check_good_import(engine, await run_import(engine, path))


async def test_new_community_and_school_from_optional_columns(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    rows = [
        ["教共体", "学校类型", *HEADER],
        ["河西教共体", "牵头", "河西中学", "孙七", "校长", "", "", "", ""],
        ["河西教共体", "成员", "河西村小", "周八", "教师", "美术", "", "", ""],
        ["", "", "河西中学", "吴九", "教师", "书法", "", "", ""],
    ]
    report = await run_import(engine, write_csv(tmp_path / "r.csv", rows))
    assert report.ok, [str(e) for e in report.errors]
    assert report.new_communities == ["河西教共体"]
    assert report.new_schools == ["河西中学", "河西村小"]
    async with session_factory(engine)() as session:
        schools = {s.name: s for s in (await session.scalars(select(School))).all()}
    assert schools["河西中学"].is_lead and not schools["河西村小"].is_lead
    assert (await members(engine))["吴九"].school_id == schools["河西中学"].id


# --- bad files and bad rows -----------------------------------------------------------------


async def test_every_bad_row_reported_and_nothing_imported(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed(engine)
    rows = [
        ["教共体", "学校类型", *HEADER],
        ["", "", "城关一小", "好人", "教师", "语文", "", "ou_1", ""],  # 2: good
        ["", "", "城关一小", "钱一", "班主任", "语文", "", "", ""],  # 3: role
        ["", "", "城关一小", "", "教师", "语文", "", "", ""],  # 4: no name
        ["", "", "", "", "", "", "", "", ""],  # 5: blank, skipped
        ["", "", "城北小学", "钱二", "教师", "", "", "", ""],  # 6: unknown school
        ["", "", "城关一小", "钱三", "教师", "体操", "", "", ""],  # 7: subject
        ["", "", "城关一小", "钱四", "教师", "", "1380000", "", ""],  # 8: phone
        ["", "", "", "钱五", "教师", "", "", "", ""],  # 9: teacher without school
        ["", "", "一小", "好人", "老师", "", "", "", ""],  # 10: duplicate of row 2
        ["", "", "城关二小", "钱六", "教师", "", "", "ou_1", ""],  # 11: id of row 2
        ["某教共体", "中心", "新学校", "钱七", "教师", "", "", "", ""],  # 12: school type
        ["某教共体", "", "新学校", "钱八", "教师", "", "", "", ""],  # 13: type missing
        ["别的教共体", "", "城关二小", "钱九", "教师", "", "", "", ""],  # 14: community
        ["", "成员", "城关一小", "钱十", "教师", "", "", "", ""],  # 15: lead school
        ["", "", "城关一小", "孙一", "", "", "", "", ""],  # 16: empty role
    ]
    before = await counts(engine)
    report = await run_import(engine, write_csv(tmp_path / "bad.csv", rows))
    assert not report.ok
    assert_error(report, 3, "角色“班主任”无法识别", "教师、校长、管理员")
    assert_error(report, 4, "姓名为空")
    assert_error(report, 6, "学校“城北小学”不存在")
    assert_error(report, 7, "学科“体操”无法识别")
    assert_error(report, 8, "手机号“1380000”")
    assert_error(report, 9, "学校为空")
    assert_error(report, 10, "与第 2 行重复")
    assert_error(report, 11, "飞书ID“ou_1”与第 2 行重复")
    assert_error(report, 12, "学校类型“中心”无法识别")
    assert_error(report, 13, "需要填写学校类型")
    assert_error(report, 14, "属于教共体“城关教共体”")
    assert_error(report, 15, "是牵头学校，不是成员学校")
    assert_error(report, 16, "角色为空")
    bad_rows = {row for row, _ in errors_of(report)}
    assert bad_rows == {3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
    assert str(report.errors[0]).startswith("第 3 行：")
    assert await counts(engine) == before  # the good row 2 was not imported either


async def test_platform_id_linked_to_another_member(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    first = [HEADER, ["城关一小", "张三", "教师", "", "", "ou_1", ""]]
    assert (await run_import(engine, write_csv(tmp_path / "a.csv", first))).ok
    second = [HEADER, ["城关二小", "李四", "教师", "", "", "ou_1", ""]]
    report = await run_import(engine, write_csv(tmp_path / "b.csv", second))
    assert_error(report, 2, "飞书ID“ou_1”已绑定到另一名成员“张三（城关一小）”")
    assert set(await members(engine)) == {"张三"}


async def test_missing_required_column(engine: AsyncEngine, tmp_path: Path) -> None:
    rows = [["学校", "姓名", "学科", "手机"], ["城关一小", "张三", "", ""]]
    report = await run_import(engine, write_csv(tmp_path / "r.csv", rows))
    assert_error(report, 1, "缺少必需的列", "“角色”")
    assert await count(engine, Member) == 0


async def test_unknown_column_is_a_warning(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    rows = [[*HEADER, "备注"], ["城关一小", "张三", "教师", "", "", "", "", "新来的"]]
    report = await run_import(engine, write_csv(tmp_path / "r.csv", rows))
    assert report.ok and report.added == 1
    assert any("备注" in w for w in report.warnings)


async def test_empty_file_and_header_only(engine: AsyncEngine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert_error(await run_import(engine, empty), None, "文件为空")
    header_only = write_xlsx(tmp_path / "h.xlsx", [HEADER])
    assert_error(await run_import(engine, header_only), None, "没有数据行")


def test_wrong_file_type(tmp_path: Path) -> None:
    old = tmp_path / "r.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(RosterFileError, match="不支持的文件类型 .xls"):
        read_roster(old)
    fake = tmp_path / "r.xlsx"
    fake.write_text("学校,姓名\n", encoding="utf-8")
    with pytest.raises(RosterFileError, match="不是有效的 .xlsx"):
        read_roster(fake)
    with pytest.raises(RosterFileError, match="找不到文件"):
        read_roster(tmp_path / "missing.csv")


def test_xlsx_row_numbers_count_blank_rows(tmp_path: Path) -> None:
    rows: list[list[Any]] = [HEADER, ["城关一小", "张三"], [], [None, None], ["城关一小", "李四"]]
    sheet = read_roster(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [(n, r["姓名"]) for n, r in sheet.rows] == [(2, "张三"), (5, "李四")]


# --- dry run, re-import, audit --------------------------------------------------------------


async def test_dry_run_writes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    rows = [["教共体", "学校类型", *HEADER], ["新教共体", "牵头", "新学校", "张三", "教师", "", "",
                                           "ou_1", ""]]
    before = await counts(engine)
    report = await run_import(engine, write_csv(tmp_path / "r.csv", rows), dry_run=True)
    assert report.ok and report.dry_run
    assert (report.added, report.new_schools, report.new_communities) == (
        1, ["新学校"], ["新教共体"],
    )
    assert await counts(engine) == before


async def test_reimport_updates_and_counts(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine)
    assert (await run_import(engine, write_csv(tmp_path / "a.csv", GOOD))).added == 4
    again = [list(r) for r in GOOD]
    again[1][4] = "13800000009"  # 张三: new phone
    again[2][5] = "ou_li"  # 李四: a feishu id added
    again[3][2] = "校长"  # 王五: 副校长 → 校长 is the same role: unchanged
    again.append(["城关二小", "陈十", "教师", "英语", "", "", ""])
    report = await run_import(engine, write_csv(tmp_path / "b.csv", again))
    assert (report.added, report.updated, report.unchanged) == (1, 2, 2)
    by_row = {c.row: c for c in report.changes}
    assert by_row[2].changed_fields == ["phone"]
    assert by_row[3].changed_fields == ["identities"]
    people = await members(engine)
    assert people["张三"].phone == "13800000009"
    assert ("李四", "feishu", "ou_li") in await identities(engine)
    assert ("李四", "wecom", "lisi") in await identities(engine)
    assert len(people) == 5
    out = io.StringIO()
    print_report(report, out, io.StringIO())
    assert out.getvalue().splitlines()[:3] == [
        "第 2 行：更新 张三（城关一小）：手机 13800000001 → 13800000009",
        "第 3 行：更新 李四（城关一小）：新增平台账号 ou_li",
        "第 6 行：新增 陈十（城关二小）",
    ]


async def test_audit_rows_written(engine: AsyncEngine, tmp_path: Path) -> None:
    rows = [["教共体", "学校类型", *HEADER],
            ["新教共体", "牵头", "新学校", "张三", "教师", "语文", "", "ou_1", ""]]
    await run_import(engine, write_csv(tmp_path / "a.csv", rows))
    rows[1][6] = "13800000001"
    await run_import(engine, write_csv(tmp_path / "b.csv", rows))
    await run_import(engine, write_csv(tmp_path / "c.csv", rows))  # unchanged: no audit
    async with session_factory(engine)() as session:
        audits = (await session.scalars(select(AuditLog).order_by(col(AuditLog.id)))).all()
    assert [(a.action, a.entity) for a in audits] == [
        ("import", "community"), ("import", "school"), ("import", "member"), ("import", "member"),
    ]
    zhang = (await members(engine))["张三"]
    added, updated = audits[2], audits[3]
    assert added.entity_id == updated.entity_id == zhang.id
    assert added.before is None
    assert added.after is not None and added.after["subjects"] == ["语文"]
    assert added.after["identities"] == {"feishu": ["ou_1"]}
    assert updated.before is not None and updated.before["phone"] == ""
    assert updated.after is not None and updated.after["phone"] == "13800000001"
    assert all(a.at is not None and a.at.tzinfo is not None for a in audits)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_import_round_trip(engine: AsyncEngine, tmp_path: Path, suffix: str) -> None:
    await seed(engine)
    rows = [list(r) for r in GOOD]
    rows[1][5] = "ou_zhang、ou_zhang2"  # two feishu accounts (one per app)
    rows[2][4] = "13800000003"
    assert (await run_import(engine, write_csv(tmp_path / "in.csv", rows))).ok
    async with session_factory(engine)() as session:
        exported = await export_roster(session=session)
    out = tmp_path / f"out{suffix}"
    write_roster(out, EXPORT_COLUMNS, exported)
    sheet = read_roster(out)
    assert sheet.columns == list(EXPORT_COLUMNS)
    assert [r for _, r in sheet.rows] == exported
    assert exported[0]["学校"] == "城关一小" and exported[0]["学校类型"] == "牵头"
    assert exported[-1]["姓名"] == "赵六" and exported[-1]["学校"] == ""
    before = await counts(engine)
    report = await run_import(engine, out)
    assert report.ok, [str(e) for e in report.errors]
    assert (report.added, report.updated, report.unchanged) == (0, 0, 4)
    assert await counts(engine) == before


# --- the command ----------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_import_export(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    rows = [["教共体", "学校类型", *HEADER],
            ["城关教共体", "牵头", "城关一小", "张三", "教师", "语文", "", "", ""],
            ["城关教共体", "成员", "城关二小", "李四", "校长", "", "", "", ""]]
    good = write_csv(tmp_path / "good.csv", rows)
    bad = write_csv(tmp_path / "bad.csv", [*rows, ["", "", "城关一小", "王五", "班主任",
                                                   "", "", "", ""]])

    code, out, err = run_cli(["roster", "import", str(bad), "--config", str(config)], capsys)
    assert code == 1
    assert "第 4 行：角色“班主任”无法识别" in err and "未导入任何数据" in err

    code, out, err = run_cli(
        ["--config", str(config), "roster", "import", str(good), "--dry-run"], capsys
    )
    assert code == 0 and "新增 2 人" in out and "试运行" in out

    code, out, err = run_cli(["roster", "import", str(good), "--config", str(config)], capsys)
    assert code == 0 and "新增 2 人，更新 0 人，未变 0 人" in out and "导入完成" in out
    assert err == ""  # no progress bar when stderr is not a terminal

    exported = tmp_path / "out.xlsx"
    code, out, _ = run_cli(["roster", "export", str(exported), "--config", str(config)], capsys)
    assert code == 0 and "已导出 2 人" in out
    code, out, _ = run_cli(["roster", "import", str(exported), "--config", str(config)], capsys)
    assert code == 0 and "新增 0 人，更新 0 人，未变 2 人" in out

    code, _, err = run_cli(["roster", "import", str(tmp_path / "x.xls"), "--config",
                            str(config)], capsys)
    assert code == 1 and "不支持的文件类型" in err

    engine = create_engine(db_url)

    async def names() -> set[str]:
        try:
            return set(await members(engine))
        finally:
            await engine.dispose()

    assert asyncio.run(names()) == {"张三", "李四"}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    term = FakeTerminal()
    bar = TextProgressBar(term, width=10)
    bar("check", 100, 400)
    bar("check", 400, 400)
    assert term.getvalue() == "\r检查 [##........] 100/400\r检查 [##########] 400/400\n"
    bar("write", 1, 10)  # short files: no bar
    assert term.getvalue().endswith("\n")
    plain = io.StringIO()
    TextProgressBar(plain)("check", 400, 400)
    assert plain.getvalue() == ""


def test_long_reports_list_the_first_changes_only() -> None:
    report = ImportReport(dry_run=False, changes=[
        MemberChange(n, "added", None, {"name": f"老师{n}", "school": "城关一小"})
        for n in range(2, 62)
    ])
    out, err = io.StringIO(), io.StringIO()
    print_report(report, out, err)
    lines = out.getvalue().splitlines()
    assert lines[0] == "第 2 行：新增 老师2（城关一小）"
    assert len(lines) == 52 and "另有 10 处变更未列出" in lines[50]
    assert lines[51].startswith("新增 60 人")
    out = io.StringIO()
    print_report(report, out, err, verbose=True)
    assert len(out.getvalue().splitlines()) == 61 and err.getvalue() == ""
