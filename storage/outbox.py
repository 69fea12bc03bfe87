"""The outbox: every message leaves through here, once per key, with retries."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Integer, any_, bindparam, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import OutboxMessage
from storage.sql import insert_ignore, plan_each_time

MAX_ATTEMPTS = 12
# In `extra`: how many steps (text parts, then attachments) a platform already accepted.
PROGRESS = "progress"


@dataclass(frozen=True)
class NewMessage:
    key: str
    platform: str
    target_kind: str
    target: str
    text: str
    app_id: str = ""
    reply_to: str | None = None
    # The ways back to the message replied to (OutboxMessage.reply_url and the next two).
    reply_url: str | None = None
    reply_url_until: datetime | None = None
    reply_person: str = ""
    extra: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] | None = None


def _row(message: NewMessage, now: datetime, due: datetime | None) -> dict[str, Any]:
    return {"key": message.key[:200], "platform": message.platform, "app_id": message.app_id,
            "target_kind": message.target_kind, "target": message.target,
            "reply_to": message.reply_to, "reply_url": message.reply_url,
            "reply_url_until": message.reply_url_until, "reply_person": message.reply_person,
            "text": message.text, "extra": message.extra,
            "attachments": message.attachments, "status": "pending", "attempts": 0,
            "next_attempt_at": due or now, "created_at": now, "error": ""}


async def enqueue(*, session: AsyncSession, message: NewMessage, now: datetime,
                  due: datetime | None = None) -> bool:
    """Queue a message (to go at `due`, default now); False when its key was already queued
    (nothing is sent twice)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    stmt = insert_ignore(session, table, conflict=["key"])
    return (await session.execute(stmt, _row(message, now, due))).scalar_one_or_none() \
        is not None


async def enqueue_all(*, session: AsyncSession, messages: list[NewMessage],
                      now: datetime) -> None:
    """Queue several messages to go now, in this order, in one statement (the worker's
    replies to a batch of events); a key already queued is skipped, as in `enqueue`."""
    if not messages:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    stmt = insert_ignore(session, table, conflict=["key"], returning=False)
    await session.execute(stmt, [_row(m, now, None) for m in messages])


async def enqueue_burst(*, session: AsyncSession, prefix: str, message: NewMessage,
                        now: datetime, due: datetime) -> bool:
    """One answer for a burst (several pictures in a row): a message queued under `prefix`
    and not yet picked up by delivery takes this one's text, reply target (with its ways
    back) and due time; only when there is none is `message` queued. True when a row was
    queued or updated."""
    free = or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now)
    updated = await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.key).startswith(prefix, autoescape=True),
               col(OutboxMessage.status) == "pending", free)
        .values(text=message.text, reply_to=message.reply_to, reply_url=message.reply_url,
                reply_url_until=message.reply_url_until, reply_person=message.reply_person,
                next_attempt_at=due)
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    )
    if updated.first() is not None:
        return True
    return await enqueue(session=session, message=message, now=now, due=due)


async def claim_due(
    *, session: AsyncSession, now: datetime, limit: int = 20,
    lease: timedelta = timedelta(seconds=30), platforms: list[str] | None = None,
) -> list[OutboxMessage]:
    """Lease the oldest due row of up to `limit` targets (a chat or a person), oldest first.

    A row is never taken while an earlier row of its target is still pending (waiting for its
    retry, or leased by a sender here or in another instance): a chat reads its replies in
    the order they were queued. One statement; on PostgreSQL rows another instance is
    claiming are skipped (`SKIP LOCKED`), not waited for."""
    params: dict[str, Any] = {"now": now, "until": now + lease, "limit": limit}
    if platforms is not None:
        params["platforms"] = platforms
    claim = _claim_statement(session.get_bind().dialect.name, platforms is not None)
    await plan_each_time(session)
    claimed = list((await session.execute(claim, params)).scalars())
    if not claimed:
        return []
    rows = await session.execute(_ROWS_BY_ID, {"ids": claimed})
    return list(rows.scalars())


_ROWS_BY_ID = (
    select(OutboxMessage).where(col(OutboxMessage.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(OutboxMessage.id)).execution_options(populate_existing=True)
)


@functools.cache
def _claim_statement(dialect: str, by_platform: bool) -> Any:
    """claim_due's statement, built once per dialect (building it took longer than SQLite
    takes to run it, on every round of delivery).

    Each target's head is the smallest id among its pending rows, found in one grouped pass.
    On PostgreSQL the heads, and then the chosen rows, are handed on as one array each
    (`id = ANY(…)`: a primary-key look-up per id whatever the planner believes): without
    statistics (autovacuum off, or a queue that grew by thousands in a minute) its plans for
    an anti-join or a join against the heads compared every waiting row with every other,
    3–18 s a claim at a few thousand rows."""
    o = OutboxMessage
    now: Any = bindparam("now")
    pending = col(o.status) == "pending"
    free = or_(col(o.claimed_until).is_(None), col(o.claimed_until) < now)
    heads: Any = select(func.min(col(o.id)).label("id")).where(pending)
    if by_platform:
        heads = heads.where(col(o.platform).in_(bindparam("platforms", expanding=True)))
    heads = heads.group_by(col(o.platform), col(o.app_id), col(o.target_kind), col(o.target))
    due = [pending, col(o.next_attempt_at) <= now, free]
    postgres = dialect == "postgresql"
    candidates = (select(col(o.id)).where(_among(o, heads, postgres), *due)
                  .order_by(col(o.id)).limit(bindparam("limit")))
    if postgres:
        # Several instances: rows another one is claiming are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE is evaluated once: a locking subquery with LIMIT may be run again per row.
    chosen = candidates.cte("chosen")
    return (
        update(o).where(_among(o, select(chosen.c.id), postgres), *due)
        .values(claimed_until=bindparam("until"))
        .returning(col(o.id))
        .execution_options(synchronize_session=False)
    )


def _among(o: Any, ids: Any, postgres: bool) -> Any:
    """`o.id IN (ids)`; on PostgreSQL `o.id = ANY(array of ids)`, computed once."""
    if not postgres:
        return col(o.id).in_(ids)
    listed = ids.subquery()
    # A cast makes it an expression: `= ANY (SELECT …)` would compare with each row instead.
    array = cast(select(func.array_agg(listed.c.id)).scalar_subquery(), ARRAY(Integer))
    return col(o.id) == any_(array)


# Run for every reply sent: built once (building a statement costs more than running it).
_MARK_SENT = (
    update(OutboxMessage).where(col(OutboxMessage.id).in_(bindparam("sent_ids", expanding=True)))
    .values(status="sent", sent_at=bindparam("sent_now"), claimed_until=None,
            attempts=col(OutboxMessage.attempts) + 1)
    .execution_options(synchronize_session=False)
)


async def mark_sent(*, session: AsyncSession, message_ids: list[int], now: datetime) -> None:
    """The platform accepted these: one statement for a round of sends."""
    if message_ids:
        await session.execute(_MARK_SENT, {"sent_ids": message_ids, "sent_now": now})


async def mark_retry(
    *, session: AsyncSession, message_id: int, attempts: int, at: datetime, error: str,
) -> bool:
    """Try again at `at`; after MAX_ATTEMPTS counted tries the row is given up on (True)."""
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
        .values(status=status, attempts=attempts, next_attempt_at=at, claimed_until=None,
                error=error[:1000])
    )
    return status == "failed"


async def mark_failed(*, session: AsyncSession, message_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
        .values(status="failed", claimed_until=None, error=error[:1000],
                attempts=col(OutboxMessage.attempts) + 1)
    )


def progress_of(message: OutboxMessage) -> int:
    """Steps of the row already accepted by the platform (0: start from the beginning)."""
    try:
        return max(0, int((message.extra or {}).get(PROGRESS, 0)))
    except (TypeError, ValueError):
        return 0


async def mark_progress(*, session: AsyncSession, message_id: int, done: int) -> None:
    """Remember how far a partly sent row got, so a retry (even after a restart) resumes
    there; kept in `extra` (no column of its own). Only the row's leaseholder writes it."""
    extra = (await session.execute(
        select(col(OutboxMessage.extra)).where(col(OutboxMessage.id) == message_id)
    )).scalar_one_or_none()
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
        .values(extra={**(extra or {}), PROGRESS: done})
    )


async def withdraw_pending(*, session: AsyncSession, key_prefix: str) -> int:
    """Withdraw messages queued under `key_prefix` and not sent yet (a cancelled or moved
    event's reminders); their keys stay taken, so nothing re-queues them under that key."""
    result = await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.key).startswith(key_prefix, autoescape=True),
               col(OutboxMessage.status) == "pending")
        .values(status="withdrawn", claimed_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_attachments(*, session: AsyncSession, message_id: int,
                          attachments: list[dict[str, Any]]) -> None:
    """The row's attachments once delivery has made them (a chart drawn, its blob kept), so
    a retry sends the same bytes and draws nothing again."""
    await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
        .values(attachments=attachments)
    )
