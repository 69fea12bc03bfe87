"""Real database faults for the ops tests: a session factory whose database is away for a
while, and a PostgreSQL database that refuses connections until it is let back in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.loops import Loop
from tests.conftest import _pg_admin_execute


class AwayFactory:
    """Stands in for a session factory: the first `failures` sessions cannot be opened (the
    driver's "unable to open database file"), then the real factory answers again."""

    def __init__(self, real: async_sessionmaker[AsyncSession], failures: int) -> None:
        self.real = real
        self.failures = failures
        self.refused = 0

    def __call__(self, **kw: Any) -> AsyncSession:
        if self.refused < self.failures:
            self.refused += 1
            raise OperationalError("connect", {}, Exception("unable to open database file"))
        return self.real(**kw)


async def refuse_connections(url: str, refuse: bool) -> None:
    """PostgreSQL: no new connections to the database at `url`, and its open ones ended
    (what a restart or an administrator's lock-out looks like to the bot); or allowed again."""
    name = make_url(url).database
    await _pg_admin_execute(
        f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"false" if refuse else "true"}')
    if refuse:
        await _pg_admin_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")


async def until(loop: Loop, done: Callable[[], Awaitable[bool]], *, within: float = 20.0,
                ) -> None:
    """Wait, iteration by iteration of a running `loop`, until `done()` (no sleeping)."""
    async with asyncio.timeout(within):
        while not await done():
            loop.iterated.clear()
            await loop.iterated.wait()
