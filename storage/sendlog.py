"""Send limits kept in the database, so that several instances keep under a platform's
limits together (each instance's own windows only see its own sends).

A sliding window per key: at most `limit` sends recorded in the last `period` seconds. On
PostgreSQL a transaction-scoped advisory lock per key makes check-and-record atomic across
instances; on SQLite (one instance) the caller serialises its reservations. A batch locks
all its keys in one order (sorted), so two instances never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import SendLog

_TABLE = SendLog.__table__  # type: ignore[attr-defined]
_KEYS: Any = bindparam("keys", expanding=True)
# Built once: statements for a whole batch of keys, each window's start a parameter.
_FORGET = delete(_TABLE).where(_TABLE.c.key.in_(_KEYS), _TABLE.c.at <= bindparam("start"))
_COUNT = (select(_TABLE.c.key, func.count()).where(_TABLE.c.key.in_(_KEYS),
                                                    _TABLE.c.at > bindparam("start"))
          .group_by(_TABLE.c.key))
_LEAVES = (select(_TABLE.c.at)
           .where(_TABLE.c.key == bindparam("key"), _TABLE.c.at > bindparam("start"))
           .order_by(_TABLE.c.at.desc()).offset(bindparam("skip")).limit(1))
# Locked in the order of the keys (a sorted subquery), so two instances never wait in a circle.
_LOCK_ALL = text("SELECT pg_advisory_xact_lock(hashtext('jl-send:' || k)) "
                 "FROM (SELECT unnest(CAST(:keys AS TEXT[])) AS k ORDER BY 1) AS sorted")


class Reservations:
    """Several rows' sends reserved in one transaction. `open` locks every key of the batch
    (PostgreSQL), forgets sends older than each window and counts the rest, in a few
    statements whatever the number of keys; each row asks `wait` and, when it fits, is
    `admit`ted; `record` writes what was admitted. What this batch admitted counts at once: it
    is the newest in every window."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self._held: dict[str, int] = {}
        self._added: dict[str, int] = {}

    async def open(self, windows: Mapping[str, float]) -> None:
        """`windows`: each key with its period in seconds."""
        keys = sorted(windows)
        if self.session.get_bind().dialect.name == "postgresql" and keys:
            await self.session.execute(_LOCK_ALL, {"keys": keys})
        by_period: dict[float, list[str]] = {}
        for key in keys:
            by_period.setdefault(windows[key], []).append(key)
            self._held[key] = 0
        for period, same in by_period.items():
            start = self.now - timedelta(seconds=period)
            await self.session.execute(_FORGET, {"keys": same, "start": start})
            for key, count in await self.session.execute(_COUNT, {"keys": same, "start": start}):
                self._held[key] = int(count)

    async def wait(self, *, key: str, limit: int, period: float, n: int = 1) -> float:
        """Seconds until `n` more sends fit `key`'s window (0.0: now); `key` was opened."""
        held = min(limit, self._held[key])
        over = held + min(n, limit) - limit
        if over <= 0:
            return 0.0
        # The `over` oldest of the last `limit` sends must leave the window first: the wait
        # ends when the newest of those does. This batch's own are the newest of all.
        offset, added = held - over, self._added.get(key, 0)
        if offset < added:
            return period
        window_start = self.now - timedelta(seconds=period)
        leaves = (await self.session.execute(
            _LEAVES, {"key": key, "start": window_start, "skip": offset - added})).scalar_one()
        return max(0.001, float((leaves - window_start).total_seconds()))

    def admit(self, key: str, n: int = 1) -> None:
        self._held[key] = self._held.get(key, 0) + n
        self._added[key] = self._added.get(key, 0) + n

    async def record(self) -> None:
        """The admitted sends, in one statement."""
        rows = [{"key": key[:200], "at": self.now}
                for key, n in sorted(self._added.items()) for _ in range(n)]
        if rows:
            await self.session.execute(insert(SendLog), rows)


async def record(*, session: AsyncSession, key: str, now: datetime, n: int = 1) -> None:
    await session.execute(insert(SendLog), [{"key": key[:200], "at": now}] * n)


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Forget sends older than every window (keys of chats that went quiet keep theirs until
    this runs; `Reservations.open` forgets only the keys of its batch)."""
    result = await session.execute(
        delete(SendLog).where(col(SendLog.at) < before)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
