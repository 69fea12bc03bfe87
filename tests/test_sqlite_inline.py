"""SQLite calls run on the event loop (storage.sqlite_inline): a locked database is waited for
without blocking the loop, a stale snapshot is refused at once, and the wait has an end."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import create_engine


async def _table(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    await engine.dispose()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/inline.sqlite3"


async def test_no_thread_per_connection(url: str) -> None:
    await _table(url)
    engine = create_engine(url)
    before = threading.active_count()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert threading.active_count() == before
    await engine.dispose()


async def test_a_writer_of_the_same_loop_finishes_while_another_waits(url: str) -> None:
    """Task A holds the write lock and awaits something; task B's write must let the loop run
    (so A can commit) and then succeed: with SQLite's own busy wait, B would block the loop
    and A could never finish."""
    await _table(url)
    engine = create_engine(url)
    holding, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            await release.wait()

    async def second() -> None:
        await holding.wait()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))

    async def let_go() -> None:
        await holding.wait()
        await asyncio.sleep(0)
        release.set()

    await asyncio.wait_for(asyncio.gather(first(), second(), let_go()), timeout=5)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all()
    assert rows == [1, 2]
    await engine.dispose()


async def test_a_lock_held_elsewhere_is_waited_for_then_written(url: str, tmp_path: Path) -> None:
    await _table(url)
    engine = create_engine(url)
    other = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0
    ticked = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 20:
                ticked.set()
            await asyncio.sleep(0.001)

    async def release_soon() -> None:
        await ticked.wait()
        other.execute("COMMIT")

    tick = asyncio.create_task(ticker())
    releaser = asyncio.create_task(release_soon())
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (3)"))
    await releaser
    tick.cancel()
    assert ticks >= 20  # the loop kept running while the statement waited
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [3]
    other.close()
    await engine.dispose()


async def test_the_wait_ends_with_database_is_locked(url: str, tmp_path: Path) -> None:
    await _table(url)
    engine = create_engine(url, busy_timeout_ms=50)
    other = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (4)"))
    assert 0.05 <= time.monotonic() - started < 2
    other.execute("ROLLBACK")
    other.close()
    await engine.dispose()


async def test_a_stale_snapshot_is_refused_at_once(url: str, tmp_path: Path) -> None:
    """A transaction that read before another connection wrote cannot write: retrying cannot
    help, so it is not retried (the caller starts a new transaction)."""
    await _table(url)
    engine = create_engine(url, busy_timeout_ms=5_000)
    other = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    async with engine.connect() as conn:
        await conn.execute(text("BEGIN"))
        await conn.execute(text("SELECT count(*) FROM t"))
        other.execute("INSERT INTO t VALUES (5)")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            await conn.execute(text("INSERT INTO t VALUES (6)"))
        assert time.monotonic() - started < 1
    other.close()
    await engine.dispose()


class Urgent:
    """Acknowledgements in hand, as the server's `bot.ingest.Acks` reports them."""

    def __init__(self, busy: bool) -> None:
        self.waiting = busy
        self.asked: list[float] = []

    def busy(self) -> bool:
        return self.waiting

    async def give_way(self) -> None:
        self.asked.append(time.monotonic())


async def _reads(conn: object, seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        await conn.execute(text("SELECT count(*) FROM t"))  # type: ignore[attr-defined]


async def test_database_work_gives_way_to_urgent_work_but_never_holding_the_write_lock(
    url: str,
) -> None:
    """While urgent work waits, each call outside a write transaction awaits `give_way`;
    inside one, never: what it waits for might need the lock it holds."""
    await _table(url)
    urgent = Urgent(busy=True)
    engine = create_engine(url, give_way=urgent)
    async with engine.connect() as conn:
        await _reads(conn, 0.02)
    assert urgent.asked, "reads while an acknowledgement waited never gave way"
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (7)"))  # the write lock is held now
        urgent.asked.clear()
        await _reads(conn, 0.02)
        assert not urgent.asked
    await engine.dispose()


async def test_database_work_does_not_wait_when_nothing_is_urgent(url: str) -> None:
    await _table(url)
    urgent = Urgent(busy=False)
    engine = create_engine(url, give_way=urgent)
    async with engine.connect() as conn:
        await _reads(conn, 0.02)
    assert urgent.asked == []
    await engine.dispose()


class LockProbe(Urgent):
    """Urgent work that, whenever it is waited for, checks whether the database's write lock
    is free (a writer of another connection would get it)."""

    def __init__(self, path: str) -> None:
        super().__init__(busy=True)
        self.path = path
        self.locked_while_waited_for = 0

    async def give_way(self) -> None:
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError:
            self.locked_while_waited_for += 1
        finally:
            other.close()
        await super().give_way()


async def test_a_write_returning_rows_outside_a_transaction_never_gives_way_holding_the_lock(
    url: str, tmp_path: Path,
) -> None:
    """sqlite3 runs `WITH … UPDATE … RETURNING` in autocommit, holding the write lock until
    its rows are read: reading them is no turn to give away (the claims are such statements;
    an acknowledgement waiting for the lock would wait for the turn)."""
    await _table(url)
    probe = LockProbe(str(tmp_path / "inline.sqlite3"))
    engine = create_engine(url, give_way=probe)
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
        await conn.commit()
        rows = await conn.execute(text(
            "WITH c AS (SELECT x FROM t) UPDATE t SET x = x + 10 WHERE x IN (SELECT x FROM c) "
            "RETURNING x"))
        assert sorted(rows.scalars()) == [11, 12]
        await conn.commit()
    await engine.dispose()
    assert probe.asked, "the probe was never consulted"
    assert probe.locked_while_waited_for == 0


async def test_closing_connections_is_quiet(url: str, caplog: pytest.LogCaptureFixture) -> None:
    await _table(url)
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT count(*) FROM t"))
    with caplog.at_level(logging.ERROR):
        await engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
