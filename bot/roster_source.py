"""The parser's gazetteer from the configured database (schools and their aliases)."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from storage.db import migrated_transaction
from storage.roster import all_schools


async def load_schools(url: str) -> list[tuple[str, tuple[str, ...]]]:
    """Never creates a database: `jiaolian parse` only reads one."""
    from bot.command_support import require_database

    await require_database(url)
    async with migrated_transaction(url) as session:
        return [(s.name, tuple(s.aliases or ())) for s in await all_schools(session=session)]


def schools_from_database(settings: Settings) -> list[tuple[str, tuple[str, ...]]]:
    return asyncio.run(load_schools(settings.database.url))
