"""The acknowledgements' one writer of the inbox: a batch of events in one statement.

It keeps a connection of its own, in autocommit, and runs the statement's text directly: the
insert is the only database work of an acknowledgement, and SQLAlchemy's pool checkout,
transaction and statement machinery cost more than the insert itself (docs/performance.md).
SQLite gets a multi-row INSERT per batch size; PostgreSQL one statement for any size (arrays
unnested), prepared once on the connection. Both store the row as the models do: the
columns, the JSON text, naive UTC timestamps (a test reads it back through them). A database
without a file of its own (SQLite in memory) goes through storage.inbox.insert_events.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import BUSY_TIMEOUT_MS
from storage.inbox import insert_events
from storage.sqlite_inline import InlineConnection, urgent_connection

_COLUMNS = ("platform", "event_id", "payload", "received_at", "status", "attempts", "error")
_ROW = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
# Query parameters of a PostgreSQL URL that SQLAlchemy's asyncpg dialect keeps for itself.
_DIALECT_SETTINGS = ("prepared_statement_cache_size", "prepared_statement_name_func")
# An acknowledgement must not wait a minute (asyncpg's default) for a database that is away.
CONNECT_TIMEOUT_S = 5.0
# Rows a statement: seven parameters each, far below SQLite's limit of 32,766.
MAX_ROWS = 500


@functools.cache
def _insert_sql(rows: int) -> str:
    values = ", ".join([_ROW] * rows)
    return (f"INSERT INTO inboxevent ({', '.join(_COLUMNS)}) VALUES {values} "
            "ON CONFLICT (platform, event_id) DO NOTHING RETURNING event_id")


# PostgreSQL: the batch as two arrays, whatever its size.
_PG_INSERT = (
    f"INSERT INTO inboxevent ({', '.join(_COLUMNS)}) "
    "SELECT $1::varchar, e, p::json, $4::timestamp, 'pending', 0, '' "
    "FROM unnest($2::text[], $3::text[]) AS t(e, p) "
    "ON CONFLICT (platform, event_id) DO NOTHING RETURNING event_id")
# A statement that met these found its connection gone: it is tried once more on a new one.
# An administrator's or a restart's termination may surface as the protocol's confusion.
_PG_CONNECTION_LOST = (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError,
                       asyncpg.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
                       asyncpg.exceptions.InternalClientError, ConnectionError)


def _naive_utc(moment: datetime) -> datetime:
    """As storage.models.UTCDateTime stores it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _stored_moment(moment: datetime) -> str:
    """SQLite's text of it, as SQLAlchemy writes it: microseconds always."""
    return _naive_utc(moment).isoformat(" ", "microseconds")


def _json(payload: dict[str, Any] | str) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


class InboxSaver:
    """Saves batches of (event_id, payload) and says which were new (bot.ingest batches the
    concurrent acknowledgements into it)."""

    def __init__(self, engine: AsyncEngine, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.engine = engine
        self._busy_timeout_ms = busy_timeout_ms
        self._file: str | None = None
        self.pg_connect_args: dict[str, Any] | None = None
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            self._file = database if database and database != ":memory:" else None
        elif engine.dialect.name == "postgresql":
            # What the engine's own dialect hands asyncpg (host, port, ssl … from the URL),
            # less the settings that are the dialect's, not asyncpg's.
            _, connect_args = engine.dialect.create_connect_args(engine.url)
            for own in _DIALECT_SETTINGS:
                connect_args.pop(own, None)
            self.pg_connect_args = dict(connect_args)
        self._sqlite: InlineConnection | None = None
        self._pg: asyncpg.Connection | None = None

    async def insert(self, *, platform: str, events: Sequence[tuple[str, dict[str, Any] | str]],
                     received_at: datetime) -> set[str]:
        if self._file is not None:
            return await self._insert_sqlite(platform, events, received_at)
        if self.pg_connect_args is not None:
            return await self._insert_pg(platform, events, received_at)
        return await insert_events(engine=self.engine, platform=platform, events=events,
                                   received_at=received_at)

    async def _insert_sqlite(self, platform: str,
                             events: Sequence[tuple[str, dict[str, Any] | str]],
                             received_at: datetime) -> set[str]:
        assert self._file is not None
        moment = _stored_moment(received_at)
        new: set[str] = set()
        try:
            if self._sqlite is None:
                self._sqlite = await urgent_connection(self._file,
                                                       busy_timeout_ms=self._busy_timeout_ms)
            for start in range(0, len(events), MAX_ROWS):
                chunk = events[start:start + MAX_ROWS]
                params: list[Any] = []
                for event_id, payload in chunk:
                    params += (platform, event_id, _json(payload), moment, "pending", 0, "")
                rows = await self._sqlite.execute_fetchall(_insert_sql(len(chunk)), params)
                new.update(row[0] for row in rows)
        except sqlite3.Error as exc:
            # A connection that failed is opened again next time (the file may have moved).
            await self._drop()
            # As the engine reports it, without the parameters (payloads hold tokens).
            raise DBAPIError.instance("INSERT INTO inboxevent", None, exc, sqlite3.Error,
                                      hide_parameters=True) from exc
        return new

    async def _insert_pg(self, platform: str, events: Sequence[tuple[str, dict[str, Any] | str]],
                         received_at: datetime) -> set[str]:
        args = (platform, [event_id for event_id, _ in events],
                [_json(payload) for _, payload in events], _naive_utc(received_at))
        try:
            try:
                return await self._pg_fetch(args)
            except _PG_CONNECTION_LOST:
                # Restarted or dropped: safe to run again (a saved event is kept once).
                await self._drop()
                return await self._pg_fetch(args)
        except (asyncpg.PostgresError, *_PG_CONNECTION_LOST, OSError, TimeoutError) as exc:
            await self._drop()
            # As the engine reports it, without the parameters (payloads hold tokens).
            raise OperationalError("INSERT INTO inboxevent", None, exc,
                                   hide_parameters=True) from exc

    async def _pg_fetch(self, args: tuple[Any, ...]) -> set[str]:
        if self._pg is None or self._pg.is_closed():
            assert self.pg_connect_args is not None
            self._pg = await asyncpg.connect(**self.pg_connect_args, timeout=CONNECT_TIMEOUT_S)
        return {row[0] for row in await self._pg.fetch(_PG_INSERT, *args)}

    async def _drop(self) -> None:
        """Forget a connection that failed (the next insert opens a new one)."""
        sqlite, self._sqlite = self._sqlite, None
        if sqlite is not None:
            await sqlite.close()
        pg, self._pg = self._pg, None
        if pg is not None:
            pg.terminate()

    async def close(self) -> None:
        if self._pg is not None:
            pg, self._pg = self._pg, None
            try:
                await pg.close(timeout=CONNECT_TIMEOUT_S)
            except (asyncpg.PostgresError, *_PG_CONNECTION_LOST, OSError, TimeoutError):
                pg.terminate()
        await self._drop()
        await self.engine.dispose()
