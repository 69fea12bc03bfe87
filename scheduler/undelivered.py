"""The admins' daily note on messages that delivery gave up on (a permanent platform error,
or too many tries): without it, a broken group robot is noticed only when people complain.

Once a day, from `reminder_time` and outside the quiet hours, the previous day's given-up
messages are summed up to each admin privately; the key names the day, so a restart or a
second instance queues the note once. Imports handlers, storage and scheduler modules only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from handlers import texts
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.queries import load_roster
from scheduler.recipients import to_person
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue

KIND = "undelivered_note"
MAX_LINES = 5


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


async def undelivered_note(
    *, session: AsyncSession, now: dt.datetime, config: SchedulerConfig,
) -> list[NewMessage]:
    """Yesterday's given-up messages as one note per admin; nothing when there were none, or
    before `reminder_time`, or in the quiet hours."""
    local = now.astimezone(config.timezone)
    if local.time() < config.reminder_time or SchoolCalendar(config).is_quiet(now):
        return []
    day = local.date() - dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=config.timezone)
    failed = list((await session.execute(
        select(OutboxMessage).where(col(OutboxMessage.status) == "failed",
                                    col(OutboxMessage.created_at) >= start,
                                    col(OutboxMessage.created_at) < start + dt.timedelta(days=1),
                                    ~col(OutboxMessage.key).startswith(f"{KIND}:"))
        .order_by(col(OutboxMessage.id))
    )).scalars())
    if not failed:
        return []
    lines = [texts.UNDELIVERED_LINE.format(
        to=(m.extra or {}).get("to_name") or f"{m.platform}:{m.target}", text=_short(m.text, 20),
        error=_short(m.error, 60)) for m in failed[:MAX_LINES]]
    if len(failed) > MAX_LINES:
        lines.append(texts.UNDELIVERED_MORE.format(n=len(failed) - MAX_LINES))
    text = texts.UNDELIVERED_NOTE.format(day=f"{day.month}月{day.day}日", count=len(failed),
                                         lines="\n".join(lines))
    roster = await load_roster(session=session)
    return [message for admin in roster.admins
            for message in to_person(roster, admin, key=f"{KIND}:{day.isoformat()}", kind=KIND,
                                     text=text)]


async def queue_undelivered_note(
    *, factory: async_sessionmaker[AsyncSession], now: dt.datetime, config: SchedulerConfig,
) -> int:
    """Queue the note (once per day and admin); returns how many were newly queued."""
    async with transaction(factory) as session:
        queued = 0
        for message in await undelivered_note(session=session, now=now, config=config):
            queued += await enqueue(session=session, message=message, now=now)
    return queued
