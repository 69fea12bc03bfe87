"""Send limits kept in the database, so that several instances keep under a platform's
limits together (each instance's own windows only see its own sends).

A sliding window per key: at most `limit` sends recorded in the last `period` seconds. On
PostgreSQL a transaction-scoped advisory lock per key makes check-and-record atomic across
instances; on SQLite (one instance) the caller serialises its reservations. Callers lock
several keys in one order (sorted), so two instances never wait on each other in a circle.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import SendLog


async def wait_for_room(*, session: AsyncSession, key: str, limit: int, period: float,
                        now: datetime, n: int = 1) -> float:
    """Seconds until `n` more sends fit `key`'s window (0.0: now). On PostgreSQL the key
    stays locked until the transaction ends, so check-then-`record` is atomic."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                              {"key": "jl-send:" + key})
    window_start = now - timedelta(seconds=period)
    await session.execute(
        delete(SendLog).where(col(SendLog.key) == key, col(SendLog.at) <= window_start)
        .execution_options(synchronize_session=False))
    n = min(n, limit)
    recent = list((await session.execute(
        select(col(SendLog.at)).where(col(SendLog.key) == key, col(SendLog.at) > window_start)
        .order_by(col(SendLog.at).desc()).limit(limit)
    )).scalars())
    over = len(recent) + n - limit
    if over <= 0:
        return 0.0
    # The `over` oldest of the last `limit` sends must leave the window first.
    return max(0.001, (recent[len(recent) - over] - window_start).total_seconds())


async def record(*, session: AsyncSession, key: str, now: datetime, n: int = 1) -> None:
    await session.execute(insert(SendLog), [{"key": key[:200], "at": now}] * n)


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Forget sends older than every window (keys of chats that went quiet keep theirs until
    this runs; `wait_for_room` prunes only the key it looks at)."""
    result = await session.execute(
        delete(SendLog).where(col(SendLog.at) < before)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
