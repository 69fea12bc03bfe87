"""`jiaolian records`: the record (台账) as a table or JSON, and an admin's fixes to it.

`records` lists each event once (status, reporters, slots), then the attendance entries;
`records withdraw ID --reason …` withdraws a whole event and its reports; `records merge KEEP
DROP` makes two records of one event one. Every change goes through storage.events, so it is
audited with its reason. Mistakes (an unknown id, an event already withdrawn…) are one line on
stderr and a non-zero exit; reading never creates a database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.command_support import require_database, settings_for
from bot.config import ConfigError, Settings
from handlers import texts

if TYPE_CHECKING:  # the database layer is imported when a records command runs
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Activity


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    from storage.db import migrated_transaction

    await require_database(settings.database.url)
    async with migrated_transaction(settings.database.url) as session:
        yield session


def _date(text: str | None, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: expected YYYY-MM-DD, got {text!r}") from exc


# --- the table ------------------------------------------------------------------------------


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _hm(iso: str | None) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%H:%M") if iso else ""


def _event_cells(row: dict[str, Any], names: dict[str, str]) -> list[str]:
    when = _hm(row["starts_at"]) or (row["time"] or "")
    if row["ends_at"]:
        when += f"–{_hm(row['ends_at'])}"
    status = texts.RECORDS_STATUS.get(row["status"], row["status"])
    if row["withdrawn"]:
        status += f"（{texts.RECORDS_WITHDRAWN}）"
    details = [row["grade"], row["subject"],
               texts.RECORDS_PEOPLE.format(n=row["participants"])
               if row["participants"] is not None else None,
               f"《{row['topic']}》" if row["topic"] else None,
               texts.RECORDS_PHOTOS.format(n=len(row["photos"])) if row.get("photos") else None]
    return [str(row["id"]), row["date"] or "", when, texts.RECORDS_EVENT,
            names.get(row["activity"] or "", row["activity"] or ""), status,
            row["school"] or "", row["community"] or "",
            texts.RECORDS_SEP.join(row["reporters"]), " ".join(d for d in details if d),
            row["source"]]


def _attendance_cells(row: dict[str, Any], names: dict[str, str]) -> list[str]:
    flags = [text for key, text in (("late", texts.RECORDS_LATE), ("early", texts.RECORDS_EARLY),
                                    ("makeup", texts.RECORDS_MAKEUP)) if row[key]]
    if row["withdrawn"]:
        flags.append(texts.RECORDS_WITHDRAWN)
    return [str(row["id"]), row["date"], _hm(row["at"]),
            texts.ATTENDANCE_TYPES.get(row["type"], row["type"]),
            names.get(row["activity"] or "", row["activity"] or ""),
            texts.RECORDS_SEP.join(flags), row["school"] or "", row["community"] or "",
            row["member"], f"#{row['activity_id']}" if row["activity_id"] else "", row["note"]]


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(rows: list[list[str]], out: TextIO) -> None:
    """Columns padded to the widest cell (the last one is left as it is)."""
    cells = [[_one_line(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    for row in cells:
        padded = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=False)]
        out.write("  ".join([*padded, row[-1]]).rstrip() + "\n")


async def _list(settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    from handlers.nlu.lexicon import activity_names
    from storage.records import iter_records

    start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    names = activity_names(settings.nlu)
    table: list[list[str]] = [list(texts.RECORDS_HEADER)]
    async with _session(settings) as session:
        async for row in iter_records(session=session, start=start, end=end,
                                      include_withdrawn=args.all,
                                      zone=ZoneInfo(settings.bot.timezone)):
            if args.json:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif row["kind"] == "activity":
                table.append(_event_cells(row, names))
            else:
                table.append(_attendance_cells(row, names))
    if not args.json:
        print_table(table, out)


# --- changes --------------------------------------------------------------------------------


async def _event(session: AsyncSession, event_id: int) -> Activity:
    from storage.models import Activity

    event = await session.get(Activity, event_id)
    if event is None:
        raise ConfigError(f"no event #{event_id}")
    if event.withdrawn:
        raise ConfigError(f"event #{event_id} is already withdrawn")
    return event


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ConfigError("--reason: say why (it is kept in the audit log)")
    return reason


async def _withdraw(settings: Settings, args: argparse.Namespace) -> str:
    from storage.events import withdraw_event
    from storage.models import utcnow

    reason = _reason(args.reason)
    async with _session(settings) as session:
        event = await _event(session, args.id)
        await withdraw_event(session=session, event=event, by=None, now=utcnow(), reason=reason)
    return f"withdrew event #{args.id} and its reports"


async def _merge(settings: Settings, args: argparse.Namespace) -> str:
    from storage.events import merge_events
    from storage.models import utcnow

    if args.keep_id == args.drop_id:
        raise ConfigError(f"cannot merge event #{args.keep_id} into itself")
    reason = _reason(args.reason) if args.reason is not None else ""
    async with _session(settings) as session:
        keep = await _event(session, args.keep_id)
        drop = await _event(session, args.drop_id)
        if keep.community_id != drop.community_id:
            raise ConfigError(f"events #{args.keep_id} and #{args.drop_id} belong to different "
                              "communities; they cannot be one event")
        if keep.activity != drop.activity:
            raise ConfigError(f"events #{args.keep_id} and #{args.drop_id} are different "
                              "activities; correct one first if that is the mistake")
        differ = await merge_events(session=session, keep=keep, drop=drop, by=None,
                                    now=utcnow(), reason=reason)
    kept = "".join(f"; kept {key} {old!r} (#{args.drop_id} had {new!r})"
                   for key, (old, new) in differ.items())
    return f"merged event #{args.drop_id} into #{args.keep_id}{kept}"


def _cmd_records(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    if args.records_command == "withdraw":
        print(asyncio.run(_withdraw(settings, args)))
    elif args.records_command == "merge":
        print(asyncio.run(_merge(settings, args)))
    else:
        asyncio.run(_list(settings, args, sys.stdout))
    return 0


def add_records_commands(subparsers: Any) -> None:
    """Register `records [--from --to --json --all]`, `records withdraw` and `records merge`."""
    rec = subparsers.add_parser(
        "records", help="the record (台账): list, withdraw, merge (to print it: `export`)")
    rec.add_argument("--config", default=argparse.SUPPRESS,
                     help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    rec.add_argument("--demo", action="store_true", help="the demo database")
    rec.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    rec.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
    rec.add_argument("--json", action="store_true", help="one JSON object a line")
    rec.add_argument("--all", action="store_true", help="include withdrawn entries")
    rec.set_defaults(func=_cmd_records, records_command=None)
    # SUPPRESS: `records --demo withdraw …` keeps the --demo given before the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    common.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="the demo database")
    sub = rec.add_subparsers(dest="records_command")
    wd = sub.add_parser("withdraw", parents=[common],
                        help="withdraw an event and all its reports (audited)")
    wd.add_argument("id", type=int, help="the event's id (records --json)")
    wd.add_argument("--reason", required=True, help="why; kept in the audit log")
    mg = sub.add_parser("merge", parents=[common],
                        help="two records of one event become one (KEEP stays)")
    mg.add_argument("keep_id", type=int, metavar="KEEP_ID")
    mg.add_argument("drop_id", type=int, metavar="DROP_ID")
    mg.add_argument("--reason", help="why; kept in the audit log")
