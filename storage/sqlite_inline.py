"""SQLite for asyncio without a thread hop per call: aiosqlite's API, run on the event loop.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a thread of its own and
back. SQLite answers most of our statements in tens of microseconds; the two wake-ups per
call cost more than that, and an event's ten statements cost about forty of them
(docs/performance.md). Here each call runs at once on the caller's thread.

Blocking the loop is bounded two ways. A task that has run statements for more than SLICE_S
without giving the loop a turn gives it one before its next call, so a burst of database work
(a worker event, a Monday's digests) lets acknowledgements in every few milliseconds, as the
thread hops used to. And a locked database is never waited for inside SQLite:
the busy timeout is 0, and a statement refused with SQLITE_BUSY is tried again after the loop
has had its turn (another task of this process may be the one holding the lock), until the
engine's busy timeout has passed. SQLITE_BUSY_SNAPSHOT (a write in a transaction whose
snapshot is stale) is not retried: only a new transaction can cure it, so it is raised.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiosqlite.core import Connection

GiveWay = Callable[[], Awaitable[None]]

SQLITE_BUSY = 5
# The longest stretch of database calls one task makes before the loop gets a turn.
SLICE_S = 0.002
# Pauses between tries of a locked statement: the first ones only let other tasks run.
_PAUSES = (0.0, 0.0, 0.001, 0.002, 0.005, 0.01)
_LONGEST_PAUSE = 0.02


class _RunNow:
    """aiosqlite's request queue, answered on the spot (SQLAlchemy's adapter posts to it
    directly to change the isolation level)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(Connection):
    """An aiosqlite connection that never starts its thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], *,
                 busy_timeout_s: float, give_way: GiveWay | None = None) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self.busy_timeout_s = busy_timeout_s
        self._turn_given = time.monotonic()
        self.give_way = give_way

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if time.monotonic() - self._turn_given > SLICE_S:
            await asyncio.sleep(0)
            if self.give_way is not None and not self._connection.in_transaction:
                # Never while holding the write lock: what we wait for may need it.
                await self.give_way()
            self._turn_given = time.monotonic()
        deadline: float | None = None
        tries = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) != SQLITE_BUSY:
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.busy_timeout_s
                elif now >= deadline:
                    raise
            pause = _PAUSES[tries] if tries < len(_PAUSES) else _LONGEST_PAUSE
            tries += 1
            await asyncio.sleep(pause)
            self._turn_given = time.monotonic()

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None


def inline_creator(database: str, *, busy_timeout_ms: int,
                   give_way: GiveWay | None = None) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect; `give_way` is awaited at a
    turn outside a write transaction (the server's: until no acknowledgement is in hand,
    for a bounded time), so background work lets urgent work go first."""

    def connect() -> sqlite3.Connection:
        # Busy timeout 0: a locked database is waited for in InlineConnection, not in SQLite.
        return sqlite3.connect(database, timeout=0, check_same_thread=False)

    async def create() -> InlineConnection:
        connection = InlineConnection(connect, busy_timeout_s=busy_timeout_ms / 1000,
                                      give_way=give_way)
        await connection._connect()
        return connection

    return create
