"""Send limits kept in the database, so that several instances keep under a platform's
limits together (each instance's own windows only see its own sends).

A sliding window per key: at most `limit` sends recorded in the last `period` seconds. On
PostgreSQL a transaction-scoped advisory lock per key makes check-and-record atomic across
instances; on SQLite (one instance) the caller serialises its reservations. Callers lock
several keys in one order (sorted), so two instances never wait on each other in a circle.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import SendLog


class Reservations:
    """Several rows' sends reserved in one transaction: the keys are locked up front in one
    order (`lock`), each window is pruned and counted once, each row asks `wait` and, when it
    fits, is `admit`ted; `record` writes what was admitted. What this batch admitted counts at
    once: it is the newest in every window."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self._held: dict[str, int] = {}
        self._added: dict[str, int] = {}

    async def lock(self, keys: set[str]) -> None:
        """On PostgreSQL, every key until the transaction ends, in sorted order."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for key in sorted(keys):
            await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                       {"key": "jl-send:" + key})

    async def wait(self, *, key: str, limit: int, period: float, n: int = 1) -> float:
        """Seconds until `n` more sends fit `key`'s window (0.0: now)."""
        window_start = self.now - timedelta(seconds=period)
        in_window = (col(SendLog.key) == key, col(SendLog.at) > window_start)
        if key not in self._held:
            await self.session.execute(
                delete(SendLog).where(col(SendLog.key) == key, col(SendLog.at) <= window_start)
                .execution_options(synchronize_session=False))
            # Counted, not fetched: an app's minute window holds thousands of sends.
            self._held[key] = int((await self.session.execute(
                select(func.count()).select_from(SendLog).where(*in_window))).scalar_one())
        held = min(limit, self._held[key])
        over = held + min(n, limit) - limit
        if over <= 0:
            return 0.0
        # The `over` oldest of the last `limit` sends must leave the window first: the wait
        # ends when the newest of those does. This batch's own are the newest of all.
        offset, added = held - over, self._added.get(key, 0)
        if offset < added:
            return period
        leaves = (await self.session.execute(
            select(col(SendLog.at)).where(*in_window).order_by(col(SendLog.at).desc())
            .offset(offset - added).limit(1))).scalar_one()
        return max(0.001, (leaves - window_start).total_seconds())

    def admit(self, key: str, n: int = 1) -> None:
        self._held[key] = self._held.get(key, 0) + n
        self._added[key] = self._added.get(key, 0) + n

    async def record(self) -> None:
        """The admitted sends, in one statement."""
        rows = [{"key": key[:200], "at": self.now}
                for key, n in sorted(self._added.items()) for _ in range(n)]
        if rows:
            await self.session.execute(insert(SendLog), rows)


async def wait_for_room(*, session: AsyncSession, key: str, limit: int, period: float,
                        now: datetime, n: int = 1) -> float:
    """Seconds until `n` more sends fit `key`'s window (0.0: now), for one key. On
    PostgreSQL the key stays locked until the transaction ends, so check-then-`record` is
    atomic."""
    reservations = Reservations(session, now)
    await reservations.lock({key})
    return await reservations.wait(key=key, limit=limit, period=period, n=n)


async def record(*, session: AsyncSession, key: str, now: datetime, n: int = 1) -> None:
    await session.execute(insert(SendLog), [{"key": key[:200], "at": now}] * n)


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Forget sends older than every window (keys of chats that went quiet keep theirs until
    this runs; `wait_for_room` prunes only the key it looks at)."""
    result = await session.execute(
        delete(SendLog).where(col(SendLog.at) < before)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
