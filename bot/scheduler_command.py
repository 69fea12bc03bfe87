"""`jiaolian remind` and `jiaolian digest`: preview or enqueue scheduled messages by hand.

`remind --at MOMENT` shows (or queues) everything the scheduler would send at that moment
had it last run at the start of that day; `digest --week 2026-W48` the digests of that
week, with what that morning closes (a month's result, a term's summary), and notes saying
when it goes and, if nothing would, why. `--dry-run` writes nothing; `--json` prints one
object a line with `kind`, `to` (the group's or person's name as people know it) and `text`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from bot.command_support import ensure_database, parse_moment, require_database, settings_for
from bot.config import ConfigError, Settings
from handlers import texts

if TYPE_CHECKING:  # storage brings SQLAlchemy: `jiaolian parse` registers this and never runs it
    from storage.outbox import NewMessage


def _print(messages: list[NewMessage], *, as_json: bool, out: TextIO) -> None:
    for m in messages:
        extra = m.extra or {}
        row = {"kind": extra.get("kind", ""), "to": extra.get("to_name", m.target),
               "text": m.text, "key": m.key, "platform": m.platform,
               "target_kind": m.target_kind}
        if as_json:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            where = texts.CONSOLE_PRIVATE if m.target_kind == "user" else texts.CONSOLE_GROUP
            out.write(f"→ {row['to']}（{where}，{row['kind']}）\n{m.text}\n\n")


async def _with_db(settings: Settings, demo: bool, work: Any,
                   read_only: bool = False) -> list[NewMessage]:
    from scheduler.config import config_for
    from storage.db import create_engine, session_factory, upgrade

    if demo:
        await ensure_database(settings, demo=True)
    elif read_only:  # a preview never creates a database
        await require_database(settings.database.url)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
        try:
            config = config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                                timezone=settings.bot.timezone)
        except ValueError as exc:  # SchedulerConfigError, QuotaConfigError: name the key
            raise ConfigError(str(exc)) from exc
        result: list[NewMessage] = await work(session_factory(engine), config)
        return result
    finally:
        await engine.dispose()


def _cmd_remind(args: argparse.Namespace) -> int:
    from scheduler.due import collect_due, run_due

    settings = settings_for(args)
    now = parse_moment(args.at, settings.bot.timezone)
    day_start = now.replace(hour=0, minute=0)

    async def work(factory: Any, config: Any) -> list[NewMessage]:
        if args.dry_run:
            async with factory() as session:
                found: list[NewMessage] = await collect_due(
                    session=session, now=now, last_run=day_start, config=config)
                return found
        queued: list[NewMessage] = await run_due(factory=factory, now=now, last_run=day_start,
                                                 config=config)
        return queued

    return _run(settings, args, work)


def _run(settings: Settings, args: argparse.Namespace, work: Any) -> int:
    """Preview (--dry-run) or queue what `work` finds, and print it."""
    messages = asyncio.run(_with_db(settings, args.demo, work, read_only=args.dry_run))
    _print(messages, as_json=args.json, out=sys.stdout)
    if not args.dry_run:
        print(f"queued {len(messages)} message(s)", file=sys.stderr)
    return 0


def _cmd_digest(args: argparse.Namespace) -> int:
    from scheduler.digest import parse_week
    from scheduler.due import run_digests, week_messages

    settings = settings_for(args)
    try:
        week_start = parse_week(args.week)
    except ValueError as exc:
        raise ConfigError(f"--week: expected like 2026-W48, got {args.week!r}") from exc
    notes: list[str] = []

    async def work(factory: Any, config: Any) -> list[NewMessage]:
        found: list[NewMessage]
        if args.dry_run:
            async with factory() as session:
                found, said = await week_messages(session=session, config=config,
                                                  week_start=week_start)
            notes.extend(said)
            return found
        now = dt.datetime.now(config.timezone)
        if now.date() < week_start + dt.timedelta(days=7):
            # Queued now, a half week's digest would take the keys of the real one.
            raise ConfigError(f"--week {args.week} is not over yet; preview it with --dry-run")
        found, said = await run_digests(factory=factory, config=config, week_start=week_start,
                                        now=now)
        notes.extend(said)
        return found

    code = _run(settings, args, work)
    # Notes keep `--json` output one message a line.
    for note in notes:
        print(note, file=sys.stderr if args.json or not args.dry_run else sys.stdout)
    return code


def add_scheduler_commands(subparsers: Any) -> None:
    """Register `remind --at …` and `digest --week …`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    common.add_argument("--demo", action="store_true", help="the demo database")
    common.add_argument("--dry-run", action="store_true", help="print, write nothing")
    common.add_argument("--json", action="store_true", help="one JSON object a line")

    remind = subparsers.add_parser("remind", parents=[common],
                                   help="reminders due at a moment (preview or enqueue)")
    remind.add_argument("--at", required=True, help="\"YYYY-MM-DD HH:MM\", Asia/Shanghai")
    remind.set_defaults(func=_cmd_remind)

    digest = subparsers.add_parser("digest", parents=[common],
                                   help="weekly digests of an ISO week (preview or enqueue)")
    digest.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    digest.set_defaults(func=_cmd_digest)
