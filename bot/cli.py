"""The `jiaolian` command: every admin and run-time entry point.

`--config FILE` goes before or after the subcommand; `--demo` points a command at the demo
database. A user's mistake (a bad option value, a missing or unreachable database, a port in
use) is one line on stderr and a non-zero exit; `--debug` (anywhere) shows the traceback.
Heavy imports happen inside the subcommands so that `jiaolian parse` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot.channels.registry import CHAT_PLATFORMS
from bot.command_support import ensure_database, require_database, settings_for
from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("jiaolian")


def _cmd_parse(args: argparse.Namespace) -> int:
    from bot.parse_command import parse_now, run_batch, run_parse
    from handlers.nlu import Parser

    settings = load_settings(args.config)
    if args.demo:
        from storage.demo_county import demo_schools

        schools = demo_schools()
    else:
        from bot.roster_source import schools_from_database

        schools = schools_from_database(settings)
    try:
        now = parse_now(args.now)
    except ValueError as exc:
        raise ConfigError(f"--now: expected an ISO 8601 moment like 2026-11-26T10:00, "
                          f"got {args.now!r}") from exc
    parser = Parser(schools=schools, settings=settings.nlu)
    if args.text:
        run_parse(parser, [" ".join(args.text)], now, sys.stdout)
    else:
        run_batch(parser, now)
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    if args.db_command == "reset":
        print(_reset_demo(settings), file=sys.stderr)
        return 0
    if args.db_command == "upgrade":
        print(asyncio.run(ensure_database(settings, demo=False, if_missing=True)))
    else:
        done = asyncio.run(ensure_database(settings, demo=args.demo, if_missing=args.if_missing))
        print(f"{done} ({_where(settings.database.url)})", file=sys.stderr)
    return 0


def _where(url: str) -> str:
    """A database as the operator knows it: the SQLite file, or the URL without password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)


def _reset_demo(settings: Settings) -> str:
    """The demo county from scratch: only ever the demo database's file is removed."""
    from sqlalchemy.engine import make_url

    from bot.config import DEMO_DB_URL

    if settings.database.url != DEMO_DB_URL:
        raise ConfigError("db reset only starts the demo over: add --demo")
    path = make_url(DEMO_DB_URL).database or ""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    done = asyncio.run(ensure_database(settings, demo=True, if_missing=False))
    return f"{done} (started over: {path})"


def _cmd_chat(args: argparse.Namespace) -> int:
    from bot.console_chat import run_console

    settings = settings_for(args)
    if args.demo:
        asyncio.run(ensure_database(settings, demo=True, if_missing=True))
    return asyncio.run(run_console(settings))


def _cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app
    from storage.db import is_sqlite

    settings = settings_for(args)
    logging.basicConfig(level=settings.server.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Webhook access lines are noise at a platform's event rates; opt in when debugging.
    access_log = logging.getLogger("aiohttp.access") if settings.server.access_log else None
    sock = _listening_socket(settings.server.host, settings.server.port)
    if not is_sqlite(settings.database.url):  # SQLite is created here; PostgreSQL must exist
        try:
            asyncio.run(require_database(settings.database.url))
        except BaseException:
            sock.close()
            raise
    log.info("serving on http://%s:%s (config: %s)", settings.server.host,
             settings.server.port, settings.source)
    for line in _served(settings):
        log.info("%s", line)
    web.run_app(create_app(settings, freeze_heap=True), sock=sock, print=lambda *_: None,
                access_log=access_log)
    return 0


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bound before anything is announced: a port in use is one clear line, not a traceback
    after the start-up messages."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                          "(is another jiaolian running? change [server] port)") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _served(settings: Settings) -> list[str]:
    """What `serve` tells the operator: channels configured and the endpoints served."""
    lines = []
    for app in settings.feishu:
        where = ("POST /feishu/events, POST /feishu/card" if app.mode == "webhook"
                 else "a long connection to Feishu (no public endpoint)")
        lines.append(f"channel feishu (app {app.app_id}, {app.mode}): {where}")
    if settings.wecom is not None:
        lines.append(f"channel wecom (corp {settings.wecom.corp_id or '?'}): "
                     "GET/POST /wecom/callback")
    if not lines:
        lines.append("no channel configured: add [feishu] or [wecom] to the config")
    lines.append("health: GET /healthz; metrics: GET /metrics")
    return lines


async def _group_bind(settings: Settings, args: argparse.Namespace) -> str:
    from storage.db import migrated_transaction
    from storage.roster import bind_group

    async with migrated_transaction(settings.database.url) as session:
        group = await bind_group(session=session, platform=args.platform,
                                 chat_id=args.chat_id, scope=args.scope, name=args.name or "")
    if group is None:
        raise ConfigError(f"no community or school named {args.scope!r}")
    return f"bound {args.platform}:{args.chat_id} to {args.scope}"


async def _member_link(settings: Settings, args: argparse.Namespace) -> str:
    import datetime as dt

    from storage.db import migrated_transaction
    from storage.identity import identity_by_account, link
    from storage.roster import members_named, school_named

    async with migrated_transaction(settings.database.url) as session:
        school_id = None
        if args.school:
            school = await school_named(session=session, name=args.school)
            if school is None:
                raise ConfigError(f"no school named {args.school!r}")
            school_id = school.id
        found = await members_named(session=session, name=args.name, school_id=school_id)
        if len(found) != 1:
            hint = "; add --school" if found else ""
            raise ConfigError(f"{len(found)} members named {args.name!r}{hint}")
        if await identity_by_account(session=session, platform=args.platform,
                                     external_id=args.user_id) is not None:
            raise ConfigError(f"{args.platform}:{args.user_id} is already linked to a member")
        await link(session=session, member_id=found[0].id or 0, platform=args.platform,
                   external_id=args.user_id, at=dt.datetime.now(dt.UTC), actor_id=None,
                   how="cli")
    return f"linked {args.platform}:{args.user_id} to {args.name}"


def _cmd_group(args: argparse.Namespace) -> int:
    print(asyncio.run(_group_bind(settings_for(args), args)))
    return 0


def _cmd_member(args: argparse.Namespace) -> int:
    from bot.claims_command import decide, pending_lines

    settings = settings_for(args)
    if args.member_command == "pending":
        print("\n".join(asyncio.run(pending_lines(settings))))
    elif args.member_command in ("approve", "reject"):
        print(asyncio.run(decide(settings, args, approve=args.member_command == "approve")))
    else:
        print(asyncio.run(_member_link(settings, args)))
    return 0


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line too (the subcommand's --help has the rest)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_argparser() -> argparse.ArgumentParser:
    config_help = "config file (default: $JIAOLIAN_CONFIG or ./config.toml)"
    # Before the subcommand it sets the value; after it, only when given (SUPPRESS), so a
    # subcommand's default never hides a --config written before it.
    common = _Parser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    ap = _Parser(prog="jiaolian", description="教联助手 — community chat bot")
    ap.add_argument("--config", help=config_help)
    ap.add_argument("--debug", action="store_true",
                    help="show the traceback of an error (also after the subcommand)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", parents=[common], help="parse chat messages to JSON")
    p.add_argument("--demo", action="store_true", help="resolve schools against the demo roster")
    p.add_argument("--now", help="ISO 8601 moment of receipt (default: now, Asia/Shanghai)")
    p.add_argument("text", nargs="*", help="a message; without it, read one per line from stdin")
    p.set_defaults(func=_cmd_parse)

    db = sub.add_parser("db", parents=[common], help="database schema and demo data")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", parents=[common], help="run migrations to the newest schema")
    up.add_argument("--demo", action="store_true", help="the demo database")
    init = dbsub.add_parser("init", parents=[common],
                            help="migrate, optionally add the demo county")
    init.add_argument("--demo", action="store_true", help="write the 融安县 demo county")
    init.add_argument("--if-missing", action="store_true", help="keep an existing demo database")
    reset = dbsub.add_parser("reset", parents=[common], help="start the demo county over")
    reset.add_argument("--demo", action="store_true", help="the demo database (required)")
    db.set_defaults(func=_cmd_db)

    chat = sub.add_parser("chat", parents=[common], help="chat with the bot in this terminal")
    chat.add_argument("--demo", action="store_true", help="the demo county database")
    chat.set_defaults(func=_cmd_chat)

    serve = sub.add_parser("serve", parents=[common], help="run the bot's web server and workers")
    serve.add_argument("--demo", action="store_true", help="the demo county database")
    serve.set_defaults(func=_cmd_serve)

    from bot.records_command import add_records_commands

    add_records_commands(sub)
    from bot.chart_command import add_chart_command

    add_chart_command(sub)
    from bot.export_command import add_export_command

    add_export_command(sub)

    grp = sub.add_parser("group", parents=[common], help="chat groups")
    gsub = grp.add_subparsers(dest="group_command", required=True)
    gb = gsub.add_parser("bind", parents=[common], help="bind a chat to a community or school")
    gb.add_argument("platform", choices=CHAT_PLATFORMS)
    gb.add_argument("chat_id")
    gb.add_argument("scope", help="community or school name")
    gb.add_argument("--name", help="the group's name as people know it")
    gb.add_argument("--demo", action="store_true", help="the demo database")
    grp.set_defaults(func=_cmd_group)

    mem = sub.add_parser("member", parents=[common], help="roster members")
    msub = mem.add_subparsers(dest="member_command", required=True)
    ml = msub.add_parser("link", parents=[common], help="link a platform account to a member")
    ml.add_argument("platform", choices=CHAT_PLATFORMS)
    ml.add_argument("user_id")
    ml.add_argument("name")
    ml.add_argument("--school")
    ml.add_argument("--demo", action="store_true", help="the demo database")
    from bot.claims_command import add_claim_commands

    add_claim_commands(msub, common)
    mem.set_defaults(func=_cmd_member)

    try:
        from bot.roster_command import add_roster_commands
    except ImportError:
        pass
    else:
        add_roster_commands(sub)
    from bot.scheduler_command import add_scheduler_commands

    add_scheduler_commands(sub)
    return ap


def _one_line(exc: BaseException) -> str:
    """What went wrong, in the words of the user's situation, on one line."""
    from sqlalchemy.exc import DBAPIError

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, ConfigError):
        return first
    if isinstance(exc, DBAPIError):
        cause = (str(exc.orig).strip().splitlines() or [first])[0]
        return f"database error: {cause}"
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return f"cannot reach the database or a platform: {first}"
    if isinstance(exc, OSError):
        return first
    return f"unexpected error: {type(exc).__name__}: {first} (--debug shows the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]
    if debug:
        argv.remove("--debug")
    args = build_argparser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `… --json | head`: the reader has what it wanted. Python would complain again
        # when it flushes stdout at exit, so stdout goes nowhere from here.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:  # every user error is one line; tracebacks only with --debug
        if debug:
            raise
        print(f"jiaolian: {_one_line(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1


if __name__ == "__main__":
    sys.exit(main())
