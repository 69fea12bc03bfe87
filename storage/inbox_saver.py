"""The acknowledgements' one writer of the inbox: a batch of events in one statement.

On SQLite it keeps a connection of its own in autocommit and runs the statement's text
directly: the insert is the only database work of an acknowledgement, and SQLAlchemy's pool
checkout, transaction and statement machinery cost more than the insert itself
(docs/performance.md). On PostgreSQL it is storage.inbox.insert_events on the engine. Both
store the same row: the columns, the JSON text and the UTC timestamps as the models do.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import BUSY_TIMEOUT_MS
from storage.inbox import insert_events
from storage.sqlite_inline import InlineConnection, urgent_connection

_COLUMNS = ("platform", "event_id", "payload", "received_at", "status", "attempts", "error")
_ROW = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
# Rows a statement: seven parameters each, far below SQLite's limit of 32,766.
MAX_ROWS = 500


@functools.cache
def _insert_sql(rows: int) -> str:
    values = ", ".join([_ROW] * rows)
    return (f"INSERT INTO inboxevent ({', '.join(_COLUMNS)}) VALUES {values} "
            "ON CONFLICT (platform, event_id) DO NOTHING RETURNING event_id")


def _stored_moment(moment: datetime) -> str:
    """As storage.models.UTCDateTime stores it on SQLite: naive UTC, microseconds."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(payload: dict[str, Any] | str) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


class InboxSaver:
    """Saves batches of (event_id, payload) and says which were new (bot.ingest batches the
    concurrent acknowledgements into it)."""

    def __init__(self, engine: AsyncEngine, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.engine = engine
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        # An in-memory database is one connection's own: it goes through the engine.
        self._file = database if database and database != ":memory:" else None
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: InlineConnection | None = None

    async def insert(self, *, platform: str, events: Sequence[tuple[str, dict[str, Any] | str]],
                     received_at: datetime) -> set[str]:
        if self._file is None:
            return await insert_events(engine=self.engine, platform=platform, events=events,
                                       received_at=received_at)
        moment = _stored_moment(received_at)
        new: set[str] = set()
        try:
            if self._connection is None:
                self._connection = await urgent_connection(
                    self._file, busy_timeout_ms=self._busy_timeout_ms)
            for start in range(0, len(events), MAX_ROWS):
                chunk = events[start:start + MAX_ROWS]
                params: list[Any] = []
                for event_id, payload in chunk:
                    params += (platform, event_id, _json(payload), moment, "pending", 0, "")
                rows = await self._connection.execute_fetchall(_insert_sql(len(chunk)), params)
                new.update(row[0] for row in rows)
        except sqlite3.Error as exc:
            # A connection that failed is opened again next time (the file may have moved).
            await self._drop()
            # As the engine reports it, without the parameters (payloads hold tokens).
            raise DBAPIError.instance("INSERT INTO inboxevent", None, exc, sqlite3.Error,
                                      hide_parameters=True) from exc
        return new

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        await self._drop()
        await self.engine.dispose()
