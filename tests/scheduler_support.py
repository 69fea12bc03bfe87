"""Helpers for the scheduler tests: the demo county on a fresh database, rows written directly.

No sleeping anywhere: every moment is passed in explicitly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from handlers.clock import SHANGHAI
from handlers.nlu.lexicon import activity_names
from scheduler.config import SchedulerConfig, scheduler_config
from scheduler.due import run_due
from storage.blobs import BlobStorage
from storage.db import session_factory, transaction
from storage.models import (
    Activity,
    Attendance,
    ChatGroup,
    Identity,
    Member,
    OutboxMessage,
    School,
)
from storage.outbox import NewMessage
from storage.seed_demo import seed_demo

SHIYAN = "融安县实验小学教共体"  # community 2 of the demo: 县实小 (lead) + 泗顶
SHIYAN_GROUP = "融安县实验小学教共体群"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def config(raw: dict[str, Any] | None = None) -> SchedulerConfig:
    return scheduler_config(raw or {}, activity_names=activity_names())


async def demo(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    factory = session_factory(engine)
    async with transaction(factory) as session:
        await seed_demo(session=session)
    return factory


async def school(session: AsyncSession, name: str) -> School:
    return (await session.execute(select(School).where(col(School.name) == name))).scalar_one()


async def member(session: AsyncSession, name: str) -> Member:
    return (await session.execute(select(Member).where(col(Member.name) == name))).scalar_one()


async def add_activity(
    factory: async_sessionmaker[AsyncSession], *, activity: str, day: str, school_name: str,
    status: str = "done", subject: str | None = None, start: str | None = None,
    reporter: str = "张丽", withdrawn: bool = False,
) -> int:
    async with transaction(factory) as session:
        where = await school(session, school_name)
        who = await member(session, reporter)
        starts = at(f"{day}T{start}") if start else None
        row = Activity(status=status, activity=activity, date=dt.date.fromisoformat(day),
                       time=start, starts_at=starts, subject=subject, school_id=where.id,
                       community_id=where.community_id, reporter_id=who.id or 0,
                       withdrawn=withdrawn, created_at=at(f"{day}T07:00"))
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def add_attendance(
    factory: async_sessionmaker[AsyncSession], *, name: str, type_: str, when: str,
    activity_id: int | None = None, late: bool = False,
) -> None:
    async with transaction(factory) as session:
        who = await member(session, name)
        moment = at(when)
        session.add(Attendance(member_id=who.id or 0, type=type_, date=moment.date(), at=moment,
                               activity_id=activity_id, late=late, created_at=moment))


async def drop_identity(factory: async_sessionmaker[AsyncSession], name: str) -> None:
    async with transaction(factory) as session:
        who = await member(session, name)
        await session.execute(delete(Identity).where(col(Identity.member_id) == who.id))


async def outbox(factory: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with factory() as session:
        stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await session.execute(stmt)).scalars())


async def outbox_count(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        stmt = select(func.count()).select_from(OutboxMessage)
        return int((await session.execute(stmt)).scalar_one())


async def group_chat_ids(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with factory() as session:
        stmt = select(col(ChatGroup.chat_id)).order_by(col(ChatGroup.id))
        return list((await session.execute(stmt)).scalars())


def to(messages: list[Any], name: str) -> list[Any]:
    """The messages addressed to a group or person by the name people know."""
    return [m for m in messages if (m.extra or {}).get("to_name") == name]


def kinds(messages: list[Any]) -> list[str]:
    return sorted({(m.extra or {}).get("kind", "") for m in messages})


async def run_due_between(factory: async_sessionmaker[AsyncSession], now: str, since: str,
                          raw: dict[str, Any] | None = None,
                          files: BlobStorage | None = None) -> list[NewMessage]:
    """What the scheduler queues for (since, now], local times as written."""
    return await run_due(factory=factory, now=at(now), last_run=at(since), config=config(raw),
                         files=files)
