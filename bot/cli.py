"""The `jiaolian` command: every admin and run-time entry point.

Each subcommand takes `--config FILE`; heavy imports happen inside the subcommand so that
`jiaolian parse` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.config import ConfigError, load_settings


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


def build_argparser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="jiaolian", description="教联助手 — community chat bot")
    ap.add_argument("--config", help="config file (default: $JIAOLIAN_CONFIG or ./config.toml)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse chat messages to JSON (spec/nlu.md)")
    p.add_argument("--demo", action="store_true", help="resolve schools against the demo roster")
    p.add_argument("--now", help="ISO 8601 moment of receipt (default: now, Asia/Shanghai)")
    p.add_argument("text", nargs="*", help="a message; without it, read one per line from stdin")
    p.set_defaults(func=_cmd_parse)
    from bot.roster_command import add_roster_commands

    add_roster_commands(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_argparser()
    # `--config` is accepted before or after the subcommand.
    args, rest = ap.parse_known_args(argv)
    if rest:
        extra = argparse.ArgumentParser(add_help=False)
        extra.add_argument("--config")
        more, rest = extra.parse_known_args(rest, namespace=args)
        if rest:
            ap.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"jiaolian: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
