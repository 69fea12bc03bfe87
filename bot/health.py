"""`GET /healthz`: can the bot do its work right now?

503 with the reasons when the database does not answer or a background loop has not
completed an iteration for STALE_AFTER_S; otherwise 200. Backlogs and the ages of the oldest
unprocessed event and undelivered reply are in the body either way: a backlog after an
outage is the bot catching up, not a reason to restart it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bot.loops import describe
from storage.db import once_more_if_closed
from storage.models import InboxEvent, OutboxMessage

STALE_AFTER_S = 60.0
DATABASE_TIMEOUT_S = 5.0


class LoopState(Protocol):
    """What a background loop tells the health check (bot.loops.Loop, the scheduler)."""

    name: str
    failures: int
    last_error: str

    def stale_for(self) -> float: ...


async def _backlog(session: AsyncSession, model: Any, since: Any, now: datetime,
                   ) -> dict[str, Any]:
    status = col(model.status)
    pending, oldest = (await session.execute(
        select(func.count(), func.min(since)).where(status == "pending"))).one()
    failed = (await session.execute(
        select(func.count()).select_from(model).where(status == "failed"))).scalar_one()
    if oldest is not None and oldest.tzinfo is None:  # min() bypasses the UTC column type
        oldest = oldest.replace(tzinfo=UTC)
    age = round((now - oldest).total_seconds(), 1) if oldest is not None else None
    return {"pending": int(pending), "oldest_pending_age_s": age, "failed": int(failed)}


async def _backlogs(factory: async_sessionmaker[AsyncSession], now: datetime,
                    ) -> dict[str, Any]:
    async with factory() as session:
        await session.execute(text("SELECT 1"))
        return {
            "inbox": await _backlog(session, InboxEvent, col(InboxEvent.received_at), now),
            "outbox": await _backlog(session, OutboxMessage, col(OutboxMessage.created_at),
                                     now),
        }


async def health_report(
    *, factory: async_sessionmaker[AsyncSession], loops: Sequence[tuple[LoopState, float]],
    now: datetime,
) -> tuple[bool, dict[str, Any]]:
    """(healthy, body); `loops` pairs each loop with the seconds after which it is stale."""
    reasons: list[str] = []
    body: dict[str, Any] = {"inbox": None, "outbox": None}
    try:
        # Asked again if a pooled connection was found closed: the second answer says what
        # the database itself says (down, refusing) rather than "connection is closed".
        backlogs = once_more_if_closed(lambda: _backlogs(factory, now))
        body |= await asyncio.wait_for(backlogs, timeout=DATABASE_TIMEOUT_S)
        body["database"] = "ok"
    except Exception as exc:  # any failure to answer is the reason, whatever its kind
        cause = (f"no answer in {DATABASE_TIMEOUT_S:.0f} s" if isinstance(exc, TimeoutError)
                 else describe(exc))
        body["database"] = cause
        reasons.append(f"database: {cause}")
    body["loops"] = {}
    for loop, stale_after in loops:
        idle = loop.stale_for()
        body["loops"][loop.name] = {"since_last_iteration_s": round(idle, 1),
                                    "failures_in_a_row": loop.failures,
                                    "last_error": loop.last_error}
        if idle > stale_after:
            why = f": {loop.last_error}" if loop.last_error else ""
            reasons.append(f"{loop.name}: no completed iteration for {idle:.0f} s{why}")
    body["status"] = "unavailable" if reasons else "ok"
    body["reasons"] = reasons
    return not reasons, body
