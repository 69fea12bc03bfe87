"""`jiaolian export`: the ledger (台账) of a range as a workbook or CSV, or a term's
assessment (考核表), for a principal to print and file.

Read-only: it never creates a database (a missing one is one line on stderr, like
`records`). Every mistake a person can make (a bad date, an unknown community or school, an
unknown term, a path that cannot be written) is one line and a non-zero exit. The figures
come from handlers.ledger, which the chat and the scheduler call too.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.command_support import require_database, settings_for
from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.ledger import LedgerScope

# Exports with fewer steps than this finish too fast for a progress bar to help.
PROGRESS_FROM = 20
BAR = 30


def _date(text: str | None, option: str) -> dt.date:
    if not text:
        raise ConfigError(f"{option}: required (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: expected YYYY-MM-DD, got {text!r}") from exc


def _writable(out: str) -> Path:
    """The output path, checked before any work: its folder exists and can be written."""
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"--out: {out} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"--out: no directory {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"--out: cannot write {out}")
    return path


class ProgressBar:
    """A one-line bar on a terminal's stderr, drawn only for long exports."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM or not self.stream.isatty():
            return
        filled = BAR * done // total
        self.stream.write(f"\r导出 [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _calendar(settings: Settings) -> Any:
    from handlers.quotas import QuotaConfigError
    from scheduler.calendar import SchoolCalendar
    from scheduler.config import SchedulerConfigError, config_for

    try:
        config = config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                            timezone=settings.bot.timezone)
    except (SchedulerConfigError, QuotaConfigError) as exc:
        raise ConfigError(str(exc)) from exc
    return SchoolCalendar(config)


async def _scope(session: AsyncSession, args: argparse.Namespace) -> LedgerScope:
    from handlers.ledger import LedgerScope
    from storage.roster import community_named, school_named

    if args.community:
        community = await community_named(session=session, name=args.community)
        if community is None or community.id is None:
            raise ConfigError(f"--community: no community named {args.community!r}")
        return LedgerScope.community(community.id)
    if args.school:
        school = await school_named(session=session, name=args.school)
        if school is None or school.id is None:
            raise ConfigError(f"--school: no school named {args.school!r}")
        return LedgerScope.school(school.id)
    return LedgerScope.county()


async def _export(settings: Settings, args: argparse.Namespace) -> tuple[bytes, str]:
    from handlers import ledger
    from handlers.nlu.lexicon import activity_names
    from storage.db import migrated_transaction

    calendar = _calendar(settings)
    try:
        targets = ledger.exchange_targets(settings.scheduler)
    except ledger.ExchangeConfigError as exc:
        raise ConfigError(str(exc)) from exc
    tz = ZoneInfo(settings.bot.timezone)
    today = _date(args.today, "--today") if args.today else dt.datetime.now(tz).date()
    names = activity_names(settings.nlu)
    if args.assessment:
        if not args.term:
            raise ConfigError("--assessment: say which term, e.g. --term 2026-autumn")
        if args.school:
            raise ConfigError("--assessment: a term assessment is per community; use "
                              "--community")
        if args.format == "csv":
            raise ConfigError("--assessment: the assessment is a workbook; drop --format csv")
        try:
            ledger.term_period(args.term, calendar.period)
        except ledger.UnknownTerm as exc:
            raise ConfigError(f"--term: {exc}") from exc
    else:
        start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
        if end < start:
            raise ConfigError(f"--to {end} is before --from {start}")
    await require_database(settings.database.url)
    bar = ProgressBar(sys.stderr)
    try:
        async with migrated_transaction(settings.database.url) as session:
            scope = await _scope(session, args)
            if args.assessment:
                assessment = await ledger.assessment_data(
                    session, term=args.term, community_id=scope.id, quotas=calendar.config.quotas,
                    period_of=calendar.period, today=today, targets=targets,
                    activity_names=names)
                data = ledger.assessment_workbook_bytes(assessment)
                what = f"the {args.term} assessment of {assessment.scope_name}"
            else:
                got = await ledger.ledger_data(
                    session, scope=scope, start=start, end=end, quotas=calendar.config.quotas,
                    period_of=calendar.period, activity_names=names, tz=tz, today=today,
                    targets=targets, progress=bar)
                data = (ledger.csv_bytes(got) if args.format == "csv"
                        else ledger.workbook_bytes(got))
                what = (f"{len(got.events)} events of {got.scope_name}, {start} to {end}"
                        + ("" if args.format == "csv"
                           else f", {len(got.sign_ins)} sign-in sheets"))
    finally:
        bar.close()
    return data, what


def _cmd_export(args: argparse.Namespace) -> int:
    if args.community and args.school:
        raise ConfigError("give --community or --school, not both")
    out = _writable(args.out)
    settings = settings_for(args)
    data, what = asyncio.run(_export(settings, args))
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {out}: {exc.strerror or exc}") from exc
    print(f"wrote {out}: {what}")
    return 0


def add_export_command(subparsers: Any) -> None:
    """Register `export` (the ledger, or with --assessment the term assessment)."""
    ex = subparsers.add_parser("export", help="the ledger (台账) or a term assessment as a file")
    ex.add_argument("--config", help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    ex.add_argument("--demo", action="store_true", help="the demo database")
    ex.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    ex.add_argument("--to", dest="date_to", help="last day (included), YYYY-MM-DD")
    where = ex.add_mutually_exclusive_group()
    where.add_argument("--community", help="one community, by name (default: the county)")
    where.add_argument("--school", help="one school, by name or alias")
    ex.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                    help="xlsx: every sheet; csv: 活动台账 only (UTF-8 with BOM)")
    ex.add_argument("--assessment", action="store_true",
                    help="the term assessment (考核表) instead of the ledger")
    ex.add_argument("--term", help="with --assessment: the term, e.g. 2026-autumn")
    ex.add_argument("--today", help="count as of this day (default: today), YYYY-MM-DD")
    ex.add_argument("--out", required=True, help="the file to write")
    ex.set_defaults(func=_cmd_export)
