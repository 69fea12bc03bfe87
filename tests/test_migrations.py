"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.db import MIGRATIONS, create_engine, head_revision, upgrade


async def current_revision(engine: AsyncEngine) -> str | None:
    def revision(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(revision)


def _head() -> str:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


async def test_upgrade_on_empty_database_reaches_head_and_matches_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == _head()

        def diff(conn: Connection) -> list[object]:
            return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))

        def tables(conn: Connection) -> set[str]:
            return set(inspect(conn).get_table_names())

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            assert set(SQLModel.metadata.tables) <= await conn.run_sync(tables)
    finally:
        await engine.dispose()


async def test_upgrade_twice_is_harmless(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)
        assert await current_revision(engine) == _head()
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    from sqlalchemy import text

    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
    finally:
        await engine.dispose()


async def test_identity_claims_migration_goes_down_and_up(db_url: str) -> None:
    """0005 adds the claim table and takes it away again, leaving 0004's schema intact."""
    from alembic import command

    from storage.db import _alembic_config

    engine = create_engine(db_url)

    def tables(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    def downgrade(conn: Connection) -> None:
        command.downgrade(_alembic_config(conn), "0004")

    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            assert "identityclaim" in await conn.run_sync(tables)
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        assert await current_revision(engine) == "0004"
        async with engine.connect() as conn:
            left = await conn.run_sync(tables)
        assert "identityclaim" not in left and {"identity", "photo"} <= left
        await upgrade(engine)
        assert await current_revision(engine) == _head()
    finally:
        await engine.dispose()


async def test_reply_routes_migration_goes_down_and_up_keeping_queued_rows(db_url: str) -> None:
    """0008 adds the reply route to outbox rows (a row queued before it has none) and the
    spent mark to inbox rows, and takes them away again."""
    from alembic import command
    from sqlalchemy import text

    from storage.db import _alembic_config

    engine = create_engine(db_url)

    def columns(conn: Connection, table: str) -> set[str]:
        return {c["name"] for c in inspect(conn).get_columns(table)}

    def to(revision: str) -> Callable[[Connection], None]:
        def run(conn: Connection) -> None:
            if revision == "0007":
                command.downgrade(_alembic_config(conn), revision)
            else:
                command.upgrade(_alembic_config(conn), revision)
        return run

    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(to("0007"))
            assert "reply_url" not in await conn.run_sync(columns, "outboxmessage")
            assert "reply_url_spent_at" not in await conn.run_sync(columns, "inboxevent")
            await conn.execute(text(
                "INSERT INTO outboxmessage (key, platform, app_id, target_kind, target, "
                "reply_to, text, status, attempts, next_attempt_at, created_at, error) VALUES "
                "('reply:wecom:m1:0', 'wecom', '', 'chat', 'wrk', 'm1', '好', 'pending', 0, "
                "'2026-11-26 02:00:00', '2026-11-26 02:00:00', '')"))
        async with engine.begin() as conn:
            await conn.run_sync(to("head"))
            row = (await conn.execute(text(
                "SELECT reply_url, reply_url_until, reply_person FROM outboxmessage"))).one()
        assert tuple(row) == (None, None, "")
        assert await current_revision(engine) == _head()
    finally:
        await engine.dispose()


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_revision() == _head()


def test_a_database_at_the_head_is_opened_without_alembic(tmp_path: Path) -> None:
    """`serve` on a migrated database keeps Alembic (11 MiB) out of its memory; a database
    behind the head is still migrated."""
    url = f"sqlite:///{tmp_path}/head.sqlite3"
    script = f"""
import asyncio, sys
from storage.db import create_engine, upgrade
async def main(step):
    engine = create_engine({url!r})
    await upgrade(engine, step)
    await engine.dispose()
asyncio.run(main(sys.argv[1]))
print("alembic" in sys.modules)
"""
    root = Path(__file__).resolve().parent.parent

    def run(step: str) -> str:
        done = subprocess.run([sys.executable, "-c", script, step], cwd=root, text=True,
                              capture_output=True, timeout=120, check=True)
        return done.stdout.strip()

    assert run("0007") == "True"
    assert run("head") == "True"  # one migration to run: Alembic is needed
    assert run("head") == "False"
