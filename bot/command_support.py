"""What every `jiaolian` subcommand shares: settings from the arguments, a ready database,
and moments typed by people. Imported by the command modules, never by handlers or storage.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path
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


def _missing_sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    from storage.db import async_url

    path = make_url(async_url(url)).database
    return path if path and path != ":memory:" and not Path(path).exists() else None


async def require_database(url: str) -> None:
    """Reading commands never create a database: a missing SQLite file, or a PostgreSQL
    database that cannot be opened, is one clear line (ConfigError), not a new empty one."""
    from storage.db import create_engine, is_sqlite

    if is_sqlite(url):
        if (path := _missing_sqlite_file(url)) is not None:
            raise ConfigError(f"no database at {path}; create it with `jiaolian db upgrade` "
                              "(the demo: `jiaolian db init --demo`)")
        return
    engine = create_engine(url)
    try:
        async with engine.connect():
            pass
    except Exception as exc:  # any driver's "cannot connect" or "no such database"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot open the database: {first}") from exc
    finally:
        await engine.dispose()


def parse_moment(text: str, timezone: str = "Asia/Shanghai") -> dt.datetime:
    """`2026-11-26 10:00`, `2026-11-26T10:00` or `2026-11-26`, in the bot's time zone."""
    text = text.strip().replace("T", " ")
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    try:
        return dt.datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(timezone))
    except ValueError as exc:
        raise ConfigError(f'expected "YYYY-MM-DD HH:MM", got {text!r}') from exc
