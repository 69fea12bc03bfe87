"""A scratch PostgreSQL database for one benchmark run: created, handed over, dropped.

Shared by the benches (they put the project root on sys.path and import `bench.scratch`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url


async def pg_admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE, VACUUM)."""
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username,
                                 password=u.password, database=u.database or "postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(admin_url: str, prefix: str = "jl_bench") -> AsyncIterator[str]:
    """The URL of a fresh database on the server of `admin_url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
