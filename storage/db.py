"""Engine and session factory from a database URL; migrations to head.

Plain `sqlite:///…` and `postgresql://…` URLs are mapped to their async drivers. SQLite runs
in WAL mode, its calls on the event loop (storage.sqlite_inline), a locked database tried
again for the busy timeout, so the web server, the worker and a command can share it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import GiveWay, inline_creator

MIGRATIONS = Path(__file__).with_name("migrations")


def async_url(url: str) -> str:
    """Map plain URLs to the async drivers we ship (aiosqlite, asyncpg)."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).drivername.startswith("sqlite")


BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    return on_connect


class JSONText(str):
    """A value already encoded as JSON text: a JSON column stores it as it is, not as a string
    (the inbox encodes each payload once, while cleaning it: bot.ingest)."""


def _json_serializer(value: Any) -> str:
    return value if isinstance(value, JSONText) else json.dumps(value)


def create_engine(url: str, *, echo: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                  give_way: GiveWay | None = None, pre_ping: bool = True) -> AsyncEngine:
    """`busy_timeout_ms` only matters for SQLite: how long a statement keeps being tried
    while another connection holds the lock before it reports "database is locked";
    `give_way` too (storage.sqlite_inline.inline_creator). `pre_ping` (PostgreSQL) tests a
    pooled connection before each use: a round trip, spared where the caller tries again
    after finding a connection closed (the server's loops and acknowledgements).

    SQL parameters (message text, payloads with platform tokens) stay out of error messages,
    and so out of logs, unless `echo` is on, which logs every statement anyway."""
    full = async_url(url)
    if is_sqlite(full):
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Calls run on the loop, not in aiosqlite's thread (storage.sqlite_inline).
        creator = inline_creator(database or ":memory:", busy_timeout_ms=busy_timeout_ms,
                                 give_way=give_way)
        engine = create_async_engine(full, echo=echo, hide_parameters=not echo,
                                     async_creator=creator, json_serializer=_json_serializer)
        if not echo:
            # aiosqlite logs every statement with its parameters at DEBUG.
            logging.getLogger("aiosqlite").setLevel(logging.INFO)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(0))
        return engine
    return create_async_engine(full, echo=echo, hide_parameters=not echo,
                               pool_pre_ping=pre_ping, pool_size=10,
                               json_serializer=_json_serializer)


def is_database_fault(exc: BaseException) -> bool:
    """The database is away or refusing (locked, unreachable, dropped, restarted): nothing
    that retrying the same work later would not cure."""
    if isinstance(exc, DBAPIError):
        # PostgreSQL: connection exceptions (08…), an administrator's or a crash's shutdown,
        # "not accepting connections", a dropped database (57P…), no such database (3D000).
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        if exc.connection_invalidated or state.startswith(("08", "57P", "3D")):
            return True
    return isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError)


async def once_more_if_closed(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work`, and once more if it found its pooled connection closed (engines here do
    not ping before use: a restarted server is met by a statement, and the pool renews its
    connections on that error). Only for work that may safely run twice."""
    try:
        return await work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return await work()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session


@asynccontextmanager
async def migrated_transaction(url: str) -> AsyncIterator[AsyncSession]:
    """For one-shot commands: migrate the database at `url`, run one transaction, dispose."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


T = TypeVar("T")

_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*['\"]?(\w+)", re.MULTILINE)


def head_revision() -> str:
    """The newest migration, read from the files: the one no other migration follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if name == "revision":
                revisions.add(value)
            elif value != "None":
                followed.add(value)
    [head] = revisions - followed
    return head


async def _at_head(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version")))
            return [row[0] for row in found] == [head_revision()]
    except DBAPIError:  # no alembic_version table yet: a new database
        return False


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` on this engine. A database already at the
    head is left alone without importing Alembic (11 MiB of a server's memory)."""
    if revision == "head" and await _at_head(engine):
        return
    from alembic import command

    def _run(conn: Connection) -> None:
        command.upgrade(_alembic_config(conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)
