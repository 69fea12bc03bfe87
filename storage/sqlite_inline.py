"""SQLite for asyncio without a thread hop per call: aiosqlite's API, run on the event loop.

aiosqlite sends every call (cursor, execute, fetch, close, commit) to a thread of its own and
back. SQLite answers most of our statements in tens of microseconds; the two wake-ups per
call cost more than that, and an event's ten statements cost about forty of them
(docs/performance.md). Here each call runs at once on the caller's thread.

Blocking the loop is bounded two ways. A task that has run statements for more than SLICE_S
without giving the loop a turn gives it one before its next call, so a burst of database work
(a worker event, a Monday's digests) lets acknowledgements in every few milliseconds, as the
thread hops used to; while an acknowledgement is in hand (`GiveWay.busy`), every call takes
a turn first and waits for it to be answered. Not while the task holds the write lock: then
whatever waits for the lock is best served by the task finishing, and the loop gets a turn
only every HOLDING_SLICE_S. And a locked
database is never waited for inside SQLite: the busy timeout is 0, and a statement refused
with SQLITE_BUSY is tried again after the loop has had its turn (another task of this process
may be the one holding the lock), until the engine's busy timeout has passed; a connection
of this process that lets the lock go (commits or rolls back) wakes those tries at once, so
an acknowledgement waiting for the worker's write is saved the moment it can be.
SQLITE_BUSY_SNAPSHOT (a write in a transaction whose snapshot is stale) is not retried: only
a new transaction can cure it, so it is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiosqlite.core import Connection


class GiveWay(Protocol):
    """Urgent work elsewhere on the loop (the server's acknowledgements in hand)."""

    def busy(self) -> bool:
        """Whether any is waiting now: then each call takes a turn first."""

    async def give_way(self) -> None:
        """Wait, for a bounded time, until none is waiting."""

SQLITE_BUSY = 5
# The longest stretch of database calls one task makes before the loop gets a turn; while it
# holds the write lock, a longer one (turns would only keep the lock held longer).
SLICE_S = 0.002
HOLDING_SLICE_S = 0.05
# Cursor calls that read (or drop) the rows of a statement already run.
_STATEMENT_RESULTS = frozenset({"fetchone", "fetchmany", "fetchall", "close"})
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


class _Releases:
    """Per database file, the tries of this process waiting for its write lock: woken when a
    connection here lets the lock go. Another process's lock is only seen by trying again,
    so a wait still ends after its pause."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def released(self, database: str) -> None:
        future = self._waiting.pop(database, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def wait(self, database: str, pause: float) -> None:
        loop = asyncio.get_running_loop()
        future = self._waiting.get(database)
        if future is None or future.done() or future.get_loop() is not loop:
            future = self._waiting[database] = loop.create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), pause)


RELEASES = _Releases()


class InlineConnection(Connection):
    """An aiosqlite connection that never starts its thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], *, database: str,
                 busy_timeout_s: float, give_way: GiveWay | None = None,
                 slice_s: float = SLICE_S) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self.database = database
        self.busy_timeout_s = busy_timeout_s
        self._turn_given = time.monotonic()
        self.give_way = give_way
        self.slice_s = slice_s

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if (isinstance(getattr(fn, "__self__", None), sqlite3.Cursor)
                and getattr(fn, "__name__", "") in _STATEMENT_RESULTS):
            # Reading a statement's rows: no turn between running it and reading them. A
            # write that returns rows outside a transaction (`WITH … UPDATE … RETURNING`,
            # which sqlite3 runs in autocommit) holds the write lock until they are read.
            result = fn(*args, **kwargs)
            if not self._connection.in_transaction:
                RELEASES.released(self.database)
            return result
        if self._connection.in_transaction:
            # Holding the write lock: every task that writes waits for it, so the quickest
            # way to let them in is to finish; the loop gets a turn only now and then.
            if time.monotonic() - self._turn_given > HOLDING_SLICE_S:
                await asyncio.sleep(0)
                self._turn_given = time.monotonic()
        else:
            urgent = self.give_way is not None and self.give_way.busy()
            if urgent or time.monotonic() - self._turn_given > self.slice_s:
                await asyncio.sleep(0)
                if urgent and self.give_way is not None:
                    await self.give_way.give_way()
                self._turn_given = time.monotonic()
        deadline: float | None = None
        tries = 0
        while True:
            holding = self._connection.in_transaction
            try:
                result = fn(*args, **kwargs)
                if holding and not self._connection.in_transaction:
                    RELEASES.released(self.database)
                return result
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
            if pause:
                await RELEASES.wait(self.database, pause)
            else:
                await asyncio.sleep(0)
            self._turn_given = time.monotonic()

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None


async def urgent_connection(database: str, *, busy_timeout_ms: int) -> InlineConnection:
    """A connection in autocommit for the one statement of urgent work (the acknowledgements'
    inbox insert): it never takes a turn before a statement, only while the lock is held
    elsewhere. journal_mode=WAL is the file's own; synchronous is the connection's."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(database, timeout=0, check_same_thread=False,
                                     isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    connection = InlineConnection(connect, database=database,
                                  busy_timeout_s=busy_timeout_ms / 1000, slice_s=float("inf"))
    await connection._connect()
    return connection


def inline_creator(database: str, *, busy_timeout_ms: int,
                   give_way: GiveWay | None = None) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect; `give_way` is awaited at a
    turn outside a write transaction (the server's: until no acknowledgement is in hand,
    for a bounded time), so background work lets urgent work go first."""

    def connect() -> sqlite3.Connection:
        # Busy timeout 0: a locked database is waited for in InlineConnection, not in SQLite.
        return sqlite3.connect(database, timeout=0, check_same_thread=False)

    async def create() -> InlineConnection:
        connection = InlineConnection(connect, database=database,
                                      busy_timeout_s=busy_timeout_ms / 1000, give_way=give_way)
        await connection._connect()
        return connection

    return create
