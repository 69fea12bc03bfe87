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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import transaction
from storage.models import InboxEvent
from storage.sql import insert_ignore

from .normalise import PLATFORM


class Wakeup(Protocol):
    def set(self) -> None: ...


@dataclass(frozen=True)
class _Pending:
    event_id: str
    payload: dict[str, Any]
    done: asyncio.Future[bool]


class InboxWriter:
    def __init__(self, *, factory: async_sessionmaker[AsyncSession], wakeup: Wakeup) -> None:
        self.factory = factory
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
        table = InboxEvent.__table__  # type: ignore[attr-defined]
        rows = [{"platform": PLATFORM, "event_id": item.event_id, "payload": item.payload,
                 "received_at": now, "status": "pending", "attempts": 0, "error": ""}
                for item in batch]
        try:
            async with transaction(self.factory) as session:
                stmt = insert_ignore(session, table, conflict=["platform", "event_id"])
                # executemany: one cached statement, sent as multi-row INSERTs by SQLAlchemy.
                result = await session.execute(stmt.returning(table.c.event_id), rows)
                inserted = {row.event_id for row in result}
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
