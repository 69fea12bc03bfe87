"""What every `jiaolian` subcommand shares: settings from the arguments, a ready database,
and moments typed by people. Imported by the command modules, never by handlers or storage.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from bot.config import DEMO_DB_URL, ConfigError, DatabaseSettings, Settings, load_settings


def settings_for(args: argparse.Namespace) -> Settings:
    """Settings from `--config`; `--demo` swaps in the demo database."""
    settings = load_settings(getattr(args, "config", None))
    if getattr(args, "demo", False):
        settings = dataclasses.replace(settings, database=DatabaseSettings(url=DEMO_DB_URL))
    return settings


async def ensure_database(settings: Settings, *, demo: bool, if_missing: bool = True) -> str:
    """Migrate the database; with `demo`, write the demo county unless it is there."""
    from storage.db import migrated_transaction
    from storage.seed_demo import has_roster, seed_demo

    async with migrated_transaction(settings.database.url) as session:
        if not demo:
            return "database ready"
        if await has_roster(session=session):
            if if_missing:
                return "demo county already there"
            raise ConfigError("the database already has a roster; use a fresh database")
        n = await seed_demo(session=session)
    return f"demo county written: {n} members"


def parse_moment(text: str, timezone: str = "Asia/Shanghai") -> dt.datetime:
    """`2026-11-26 10:00`, `2026-11-26T10:00` or `2026-11-26`, in the bot's time zone."""
    text = text.strip().replace("T", " ")
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    try:
        return dt.datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(timezone))
    except ValueError as exc:
        raise ConfigError(f'expected "YYYY-MM-DD HH:MM", got {text!r}') from exc
