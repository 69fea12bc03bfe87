"""Database fixtures for tests to import: a fresh migrated SQLite file and PostgreSQL database.

PostgreSQL runs when $JIAOLIAN_TEST_PG_URL names a reachable server (a fresh database is
created for each test and dropped afterwards); otherwise those cases are skipped, or fail
when $JIAOLIAN_REQUIRE_PG=1. Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, upgrade


def _pg_url() -> str:
    return os.environ.get("JIAOLIAN_TEST_PG_URL", "")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("JIAOLIAN_REQUIRE_PG") == "1":
        pytest.fail(f"{reason} (JIAOLIAN_REQUIRE_PG=1 makes PostgreSQL tests mandatory)")
    pytest.skip(reason)


async def _admin_execute(sql: str) -> None:
    import asyncpg

    url = make_url(_pg_url())
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
        password=url.password, database=url.database or "test",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on exit."""
    if not _pg_url():
        _skip_or_fail("JIAOLIAN_TEST_PG_URL is not set: PostgreSQL tests skipped")
    name = f"jl_{uuid.uuid4().hex[:12]}"
    try:
        await _admin_execute(f'CREATE DATABASE "{name}"')
    except (OSError, ConnectionError) as exc:
        _skip_or_fail(f"PostgreSQL at JIAOLIAN_TEST_PG_URL is not reachable: {exc}")
    try:
        yield make_url(_pg_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file in tmp_path, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite3"
        return
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture
async def migrated_engine(fresh_db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `fresh_db_url`, migrated to head, disposed afterwards."""
    engine = create_engine(fresh_db_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
