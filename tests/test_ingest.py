"""The inbox writer behind every acknowledgement: group commit, duplicates inside and across
batches, and failures that reach every waiting request (so none of them is acknowledged)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ingest import REPLY_SOON, Acks, InboxWriter
from handlers.clock import FixedClock, SystemClock
from storage.db import create_engine, upgrade
from storage.inbox import insert_events
from storage.models import InboxEvent


class Flag:
    def __init__(self) -> None:
        self.times = 0

    def set(self) -> None:
        self.times += 1


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(InboxEvent)
        return int((await conn.execute(stmt)).scalar_one())


def event(event_id: str) -> dict[str, object]:
    return {"schema": "2.0", "header": {"event_id": event_id}}


async def test_concurrent_saves_share_batches_and_each_event_is_new_once(
        engine: AsyncEngine) -> None:
    flag = Flag()
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=flag)
    ids = [f"e{n % 30}" for n in range(90)]  # each id three times, some in the same batch
    results = await asyncio.gather(*(
        writer.save(platform="feishu", event_id=i, payload=event(i)) for i in ids))
    assert sum(results) == 30
    assert {i for i, new in zip(ids, results, strict=True) if new} == set(ids)
    assert await count(engine) == 30
    assert writer.batches < 90 and flag.times >= 1
    again = await writer.save(platform="feishu", event_id="e1", payload=event("e1"))
    assert again is False


async def test_a_failed_write_fails_every_request_in_the_batch(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=Flag())
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inboxevent RENAME TO inboxevent_gone"))
    results = await asyncio.gather(*(
        writer.save(platform="feishu", event_id=f"x{n}", payload=event("x"))
        for n in range(5)), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)


async def test_the_same_event_id_on_two_platforms_is_two_events(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=Flag())
    results = await asyncio.gather(
        writer.save(platform="feishu", event_id="m1", payload=event("m1")),
        writer.save(platform="console", event_id="m1", payload=event("m1")),
        writer.save(platform="feishu", event_id="m1", payload=event("m1")),
    )
    assert sorted(results) == [False, True, True]
    assert await count(engine) == 2


T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def test_young_work_waits_for_the_acknowledgements_in_hand() -> None:
    acks = Acks(FixedClock(T0))
    with acks.in_hand():
        waiting = asyncio.create_task(acks.let_through(T0))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()
    await waiting  # answered: the work goes on


async def test_work_older_than_a_prompt_reply_goes_at_once_and_its_queries_do_not_wait() -> None:
    """Under a steady stream of acknowledgements one is nearly always in hand: work that
    waited would never catch up. Past REPLY_SOON it neither waits nor gives way."""
    acks = Acks(FixedClock(T0 + REPLY_SOON + timedelta(milliseconds=1)))

    async def old_work() -> None:
        await acks.let_through(T0)
        await acks.give_way()

    with acks.in_hand():
        work = asyncio.create_task(old_work())
        for _ in range(3):
            await asyncio.sleep(0)
        assert work.done()
    await work


@pytest.mark.postgres
async def test_an_acknowledgement_survives_a_connection_the_server_closed(pg_url: str) -> None:
    """The acknowledgements' engine does not ping before each insert (a round trip each):
    an insert that finds its pooled connection closed is tried again on a new one."""
    engine = create_engine(pg_url, pre_ping=False)
    await upgrade(engine)
    try:
        saved = await insert_events(engine=engine, platform="feishu", events=[("a", {})],
                                    received_at=T0)
        assert saved == {"a"}
        killer = create_engine(pg_url)
        async with killer.connect() as conn:
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        await killer.dispose()
        saved = await insert_events(engine=engine, platform="feishu", events=[("b", {})],
                                    received_at=T0)
        assert saved == {"b"}
    finally:
        await engine.dispose()
