"""Save verified Feishu events to the inbox, then wake the worker: the only write that
happens before Feishu gets its answer, shared by the webhook and the long connection.

Group commit: requests that arrive while a batch is being written wait for the writer and
then go together: one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING event_id` (the
batched twin of storage.inbox.insert_event), one commit, no reads. Every event is still
committed before its own answer; what changes is that SQLite sees one writer, one statement
and one commit per batch instead of dozens of connections fighting for its write lock (whose
busy handler sleeps up to 100 ms at a time). Imports storage only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import InboxEvent

from .normalise import PLATFORM

# SQLite's busy handler waits 1, 2, 5, 10 ms … then 25–100 ms between tries; cutting it off
# after 5 ms and trying again keeps it at the short steps.
SHORT_BUSY_TIMEOUT_MS = 5


class Wakeup(Protocol):
    def set(self) -> None: ...


@dataclass(frozen=True)
class _Pending:
    event_id: str
    payload: dict[str, Any]
    done: asyncio.Future[bool]


class InboxWriter:
    def __init__(self, *, engine: AsyncEngine, wakeup: Wakeup) -> None:
        self.engine = engine
        self.wakeup = wakeup
        self._queue: list[_Pending] = []
        self._writer = asyncio.Lock()
        self.batches = 0

    async def save(self, *, app_id: str, event_id: str, event: dict[str, Any],
                   via: str) -> bool:
        """True when the event is new; False for a redelivery (already saved, nothing to do).
        Raises if it could not be saved: the caller must then not acknowledge it."""
        item = _Pending(event_id=event_id,
                        payload={"app_id": app_id, "via": via, "event": event},
                        done=asyncio.get_running_loop().create_future())
        self._queue.append(item)
        async with self._writer:
            if not item.done.done():  # no earlier writer took it along: write what waits
                batch, self._queue = self._queue, []
                await self._write(batch)
        return item.done.result()

    async def _write(self, batch: list[_Pending]) -> None:
        now = datetime.now(UTC)
        rows = [{"platform": PLATFORM, "event_id": item.event_id, "payload": item.payload,
                 "received_at": now, "status": "pending", "attempts": 0, "error": ""}
                for item in batch]
        try:
            inserted = await self._insert(rows)
        except BaseException as exc:  # each waiting request answers an error; Feishu retries
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(exc if isinstance(exc, Exception)
                                            else RuntimeError("inbox write interrupted"))
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        for item in batch:
            # The same event twice in one batch: the first copy is the new one.
            item.done.set_result(item.event_id in inserted)
            inserted.discard(item.event_id)
        if any(item.done.result() for item in batch):
            self.wakeup.set()

    async def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        """The event ids that were new. One statement: SQLAlchemy sends the executemany as
        multi-row INSERTs from one cached statement."""
        table = InboxEvent.__table__  # type: ignore[attr-defined]
        async with self.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                async with conn.begin():
                    return await self._run(conn, table, rows)
            # The worker holds the write lock for a few ms at a time; the default busy
            # handler would often sleep far longer than that before trying again.
            saved = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            await conn.exec_driver_sql(f"PRAGMA busy_timeout = {SHORT_BUSY_TIMEOUT_MS}")
            await conn.commit()  # SQLAlchemy autobegan around the pragmas; end that first
            deadline = time.monotonic() + float(saved or 0) / 1000
            try:
                while True:
                    try:
                        async with conn.begin():
                            return await self._run(conn, table, rows)
                    except OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() > deadline:
                            raise
                    await asyncio.sleep(0)
            finally:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(saved or 0)}")
                await conn.commit()

    @staticmethod
    async def _run(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> set[str]:
        # storage.sql.insert_ignore wants a session; this is the same statement for a
        # connection, returning the event ids instead of the row ids.
        module = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = module.insert(table).on_conflict_do_nothing(
            index_elements=["platform", "event_id"])
        result = await conn.execute(stmt.returning(table.c.event_id), rows)
        return {row.event_id for row in result}
