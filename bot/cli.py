"""The `jiaolian` command: every admin and run-time entry point.

Each subcommand takes `--config FILE`; `--demo` points a command at the demo database.
Heavy imports happen inside the subcommands so that `jiaolian parse` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.command_support import ensure_database, settings_for
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
    parser = Parser(schools=schools, settings=settings.nlu)
    now = parse_now(args.now)
    if args.text:
        run_parse(parser, [" ".join(args.text)], now, sys.stdout)
    else:
        run_batch(parser, now)
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    if args.db_command == "upgrade":
        print(asyncio.run(ensure_database(settings, demo=False, if_missing=True)))
    else:
        print(asyncio.run(ensure_database(settings, demo=args.demo, if_missing=args.if_missing)),
              file=sys.stderr)
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    from bot.console_chat import run_console

    settings = settings_for(args)
    if args.demo:
        asyncio.run(ensure_database(settings, demo=True, if_missing=True))
    return asyncio.run(run_console(settings))


def _cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app

    settings = settings_for(args)
    logging.basicConfig(level=settings.server.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Webhook access lines are noise at a platform's event rates; opt in when debugging.
    access_log = logging.getLogger("aiohttp.access") if settings.server.access_log else None
    log.info("serving on %s:%s (config: %s)", settings.server.host, settings.server.port,
             settings.source)
    web.run_app(create_app(settings), host=settings.server.host, port=settings.server.port,
                print=lambda *_: None, access_log=access_log)
    return 0


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


def build_argparser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    ap = argparse.ArgumentParser(prog="jiaolian", description="教联助手 — community chat bot",
                                 parents=[common])
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
    init = dbsub.add_parser("init", parents=[common], help="migrate, optionally add the demo county")
    init.add_argument("--demo", action="store_true", help="write the 融安县 demo county")
    init.add_argument("--if-missing", action="store_true", help="keep an existing demo database")
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

    grp = sub.add_parser("group", parents=[common], help="chat groups")
    gsub = grp.add_subparsers(dest="group_command", required=True)
    gb = gsub.add_parser("bind", parents=[common], help="bind a chat to a community or school")
    gb.add_argument("platform", choices=["feishu", "wecom", "console"])
    gb.add_argument("chat_id")
    gb.add_argument("scope", help="community or school name")
    gb.add_argument("--name", help="the group's name as people know it")
    gb.add_argument("--demo", action="store_true", help="the demo database")
    grp.set_defaults(func=_cmd_group)

    mem = sub.add_parser("member", parents=[common], help="roster members")
    msub = mem.add_subparsers(dest="member_command", required=True)
    ml = msub.add_parser("link", parents=[common], help="link a platform account to a member")
    ml.add_argument("platform", choices=["feishu", "wecom", "console"])
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_argparser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"jiaolian: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
