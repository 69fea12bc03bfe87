"""The parser's gazetteer from the configured database (schools and their aliases)."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.roster import all_schools


async def load_schools(factory_url: str) -> list[tuple[str, tuple[str, ...]]]:
    engine = create_engine(factory_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            return [(s.name, tuple(s.aliases or ())) for s in await all_schools(session=session)]
    finally:
        await engine.dispose()


def schools_from_database(settings: Settings) -> list[tuple[str, tuple[str, ...]]]:
    return asyncio.run(load_schools(settings.database.url))
