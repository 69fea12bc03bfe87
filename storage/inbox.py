"""The durable inbox: save first, acknowledge after, dedupe on the platform's event id."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import col

from storage.db import once_more_if_closed
from storage.models import InboxEvent
from storage.sql import plan_each_time

MAX_ATTEMPTS = 5
# Short, so that events a killed worker held are taken up again soon; a worker that outlives
# its lease cannot commit twice (mark_done), it only wastes its work.
LEASE = timedelta(seconds=10)


async def insert_events(
    *, engine: AsyncEngine, platform: str, events: Sequence[tuple[str, dict[str, Any] | str]],
    received_at: datetime,
) -> set[str]:
    """Store a batch of (event_id, payload) in one statement and one commit; returns the ids
    that were new; bot.ingest.InboxWriter batches concurrent acknowledgements into it (its
    payloads already encoded: storage.db.JSONText)."""
    rows = [{"platform": platform, "event_id": event_id, "payload": payload,
             "received_at": received_at, "status": "pending", "attempts": 0, "error": ""}
            for event_id, payload in events]
    if engine.dialect.name == "postgresql":
        # Safe to run twice: a saved event is kept once.
        return await once_more_if_closed(lambda: _insert_autocommit(engine, rows))
    async with engine.begin() as conn:
        return await _insert_rows(conn, rows)


async def _insert_autocommit(engine: AsyncEngine, rows: list[dict[str, Any]]) -> set[str]:
    """One statement needs no transaction of its own: BEGIN and COMMIT would be two more
    round trips on every acknowledgement, and a ping before it a third."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await _insert_rows(auto, rows)


@functools.cache
def _insert_statement(dialect: str) -> Any:
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).on_conflict_do_nothing(index_elements=["platform", "event_id"])
    return stmt.returning(table.c.event_id)


async def _insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
    result = await conn.execute(_insert_statement(conn.dialect.name), rows)
    return {row.event_id for row in result}


async def claim_events(
    *, session: AsyncSession, now: datetime, limit: int = 1,
    lease: timedelta = LEASE,
) -> list[InboxEvent]:
    """Lease the oldest pending events; no other worker (of this instance or another) takes
    them until the lease ends."""
    free = or_(col(InboxEvent.claimed_until).is_(None), col(InboxEvent.claimed_until) < now)
    candidates = (
        select(col(InboxEvent.id))
        .where(col(InboxEvent.status) == "pending", free)
        .order_by(col(InboxEvent.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several instances: rows another one is claiming are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE is evaluated once: a locking subquery with LIMIT may be run again per row.
    chosen = candidates.cte("chosen")
    stmt = (
        update(InboxEvent)
        .where(col(InboxEvent.id).in_(select(chosen.c.id)), col(InboxEvent.status) == "pending",
               free)
        .values(claimed_until=now + lease, attempts=col(InboxEvent.attempts) + 1)
        .returning(col(InboxEvent.id))
    )
    await plan_each_time(session)
    claimed = list((await session.execute(stmt)).scalars())
    if not claimed:
        return []
    rows = await session.execute(
        select(InboxEvent).where(col(InboxEvent.id).in_(claimed)).order_by(col(InboxEvent.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


# Run for every batch: built once (building a statement costs more than running it).
_MARK_DONE = (
    update(InboxEvent)
    .where(col(InboxEvent.id).in_(bindparam("done_ids", expanding=True)),
           col(InboxEvent.status) == "pending")
    .values(status="done", claimed_until=None, error="")
    .execution_options(synchronize_session=False)
)


async def mark_done(*, session: AsyncSession, event_ids: list[int]) -> bool:
    """Mark the events done in one statement; False when another worker finished any of them
    first (its lease had run out): the caller must then roll back, so an event's effects are
    committed only once."""
    result = await session.execute(_MARK_DONE, {"done_ids": event_ids})
    return bool(result.rowcount == len(event_ids))  # type: ignore[attr-defined]


async def mark_error(
    *, session: AsyncSession, event_id: int, error: str, attempts: int, retry_at: datetime,
) -> None:
    """Leave it pending for another try from `retry_at`, or give up after MAX_ATTEMPTS."""
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    await session.execute(
        update(InboxEvent).where(col(InboxEvent.id) == event_id)
        .values(status=status, claimed_until=retry_at, error=error[:1000])
    )


async def spend_reply_url(*, session: AsyncSession, platform: str, event_id: str,
                          now: datetime) -> bool:
    """Take the one answer an event's reply URL allows: True for the caller that marked it
    (one conditional UPDATE, so of several replies or instances exactly one wins); False when
    it was spent already or the event is unknown."""
    result = await session.execute(
        update(InboxEvent)
        .where(col(InboxEvent.platform) == platform, col(InboxEvent.event_id) == event_id,
               col(InboxEvent.reply_url_spent_at).is_(None))
        .values(reply_url_spent_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
