"""`jiaolian roster import|export`: the admin's roster commands (issue 2).

Reads or writes the file (bot.roster_files), migrates the database, and applies or exports
the rows (storage.roster_import, storage.roster_export) in one transaction; prints a report
in Chinese for the admin. Exit code 0 when done, 1 when the file or any row is bad.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.command_support import require_database
from bot.config import load_settings
from bot.roster_files import RosterFileError, RosterSheet, read_roster, write_roster
from storage.roster_vocab import EXPORT_COLUMNS, LIST_SEPARATOR, ROLE_LABELS

if TYPE_CHECKING:
    from storage.roster_import import ImportReport, MemberChange

# Files shorter than this import too fast for a progress bar to be worth drawing.
PROGRESS_MIN_ROWS = 200
# Changes listed one per line; the rest are counted (all with --verbose).
MAX_LISTED_CHANGES = 50
_STAGES = {"check": "检查", "write": "写入"}
_FIELDS = {"role": "角色", "subjects": "学科", "phone": "手机"}


class TextProgressBar:
    """A one-line text bar on `stream`, drawn only when it is a terminal."""

    def __init__(self, stream: TextIO, *, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty()
        self._last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_MIN_ROWS:
            return
        percent = 100 * done // total
        if (stage, percent) == self._last and done < total:
            return
        self._last = (stage, percent)
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        label = _STAGES.get(stage, stage)
        self.stream.write(f"\r{label} [{bar}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def add_roster_commands(subparsers: Any) -> None:
    """Register `roster import FILE [--dry-run]` and `roster export FILE`."""
    roster = subparsers.add_parser("roster", help="import or export the roster (学校、成员名单)")
    sub = roster.add_subparsers(dest="roster_command", required=True)

    imp = sub.add_parser("import", help="import members from a .csv or .xlsx file")
    imp.add_argument("file", help="roster file: .csv (UTF-8 or GBK) or .xlsx")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.add_argument("--verbose", action="store_true", help="list every change")
    imp.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="export the roster to a .csv or .xlsx file")
    exp.add_argument("file", help="output file: .csv or .xlsx")
    exp.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    exp.set_defaults(func=cmd_export)


async def _import(
    url: str, sheet: RosterSheet, dry_run: bool, progress: TextProgressBar
) -> ImportReport:
    from storage.db import migrated_transaction
    from storage.roster_import import apply_roster

    async with migrated_transaction(url) as session:
        return await apply_roster(
            session=session, rows=sheet.rows, columns=sheet.columns, dry_run=dry_run,
            progress=progress,
        )


async def _export(url: str) -> list[dict[str, str]]:
    from storage.db import migrated_transaction
    from storage.roster_export import export_roster

    await require_database(url)  # an export never creates a database
    async with migrated_transaction(url) as session:
        return await export_roster(session=session)


def _value(field: str, value: Any) -> str:
    if field == "role":
        return str(ROLE_LABELS.get(value, value))
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value) or "（空）"
    return str(value) if value else "（空）"


def _field_change(field: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    if field == "active":
        return "重新启用"
    if field == "identities":
        new_ids = [
            external_id
            for platform, values in after[field].items()
            for external_id in values
            if external_id not in before[field].get(platform, [])
        ]
        return f"新增平台账号 {LIST_SEPARATOR.join(new_ids)}"
    label = _FIELDS.get(field, field)
    return f"{label} {_value(field, before[field])} → {_value(field, after[field])}"


def _describe(change: MemberChange) -> str:
    after = change.after
    who = f"{after['name']}（{after['school']}）" if after["school"] else after["name"]
    if change.before is None:
        return f"第 {change.row} 行：新增 {who}"
    before = change.before
    fields = "；".join(_field_change(f, before, after) for f in change.changed_fields)
    return f"第 {change.row} 行：更新 {who}：{fields}"


def print_report(
    report: ImportReport, out: TextIO, err: TextIO, *, verbose: bool = False
) -> None:
    for warning in report.warnings:
        print(f"注意：{warning}", file=err)
    if report.errors:
        for error in report.errors:
            print(str(error), file=err)
        rows = {e.row for e in report.errors if e.row is not None}
        print(
            f"导入失败：共 {len(report.errors)} 处错误（涉及 {len(rows)} 行），"
            "未导入任何数据。请改正后重新导入。",
            file=err,
        )
        return
    changed = [c for c in report.changes if c.kind != "unchanged"]
    shown = changed if verbose else changed[:MAX_LISTED_CHANGES]
    for change in shown:
        print(_describe(change), file=out)
    if len(shown) < len(changed):
        print(f"……另有 {len(changed) - len(shown)} 处变更未列出（加 --verbose 显示全部）",
              file=out)
    created = []
    if report.new_communities:
        created.append(f"新建教共体 {len(report.new_communities)} 个")
    if report.new_schools:
        created.append(f"新建学校 {len(report.new_schools)} 所")
    summary = f"新增 {report.added} 人，更新 {report.updated} 人，未变 {report.unchanged} 人"
    if created:
        summary += "；" + "、".join(created)
    tail = "（试运行：未写入任何数据）" if report.dry_run else "。导入完成。"
    print(summary + tail, file=out)


def cmd_import(args: argparse.Namespace) -> int:
    try:
        sheet = read_roster(Path(args.file))
    except RosterFileError as exc:
        print(f"导入失败：{exc}", file=sys.stderr)
        return 1
    settings = load_settings(getattr(args, "config", None))
    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        report = asyncio.run(
            _import(settings.database.url, sheet, args.dry_run, TextProgressBar(sys.stderr))
        )
    except IntegrityError as exc:
        print(
            f"导入失败：数据库拒绝写入（可能有人同时修改了名单），未导入任何数据：{exc.orig}",
            file=sys.stderr,
        )
        return 1
    except (OperationalError, OSError) as exc:
        print(f"导入失败：无法使用数据库（{exc}），未导入任何数据", file=sys.stderr)
        return 1
    print_report(report, sys.stdout, sys.stderr, verbose=args.verbose)
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        print(f"导出失败：{path.name}：请用 .xlsx 或 .csv 作为文件扩展名", file=sys.stderr)
        return 1
    settings = load_settings(getattr(args, "config", None))
    from sqlalchemy.exc import OperationalError

    try:
        rows = asyncio.run(_export(settings.database.url))
    except (OperationalError, OSError) as exc:
        print(f"导出失败：无法使用数据库（{exc}）", file=sys.stderr)
        return 1
    try:
        write_roster(path, EXPORT_COLUMNS, rows)
    except (RosterFileError, OSError) as exc:
        print(f"导出失败：{exc}", file=sys.stderr)
        return 1
    print(f"已导出 {len(rows)} 人到 {path}")
    return 0
