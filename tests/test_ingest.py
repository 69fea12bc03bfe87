"""The inbox writer behind every acknowledgement: group commit, duplicates inside and across
batches, and failures that reach every waiting request (so none of them is acknowledged)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ingest import BURST_IN_HAND, REPLY_SOON, Acks, InboxWriter
from handlers.clock import FixedClock, SystemClock
from storage.db import JSONText, create_engine, session_factory, upgrade
from storage.inbox import insert_events
from storage.inbox_saver import InboxSaver
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
    await writer.saver.close()


async def test_a_failed_write_fails_every_request_in_the_batch(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=Flag())
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE inboxevent RENAME TO inboxevent_gone"))
    results = await asyncio.gather(*(
        writer.save(platform="feishu", event_id=f"x{n}", payload=event("x"))
        for n in range(5)), return_exceptions=True)
    # As the engine reports a database fault (the webhook answers 503), without parameters.
    assert all(isinstance(r, DBAPIError) and "x0" not in str(r) for r in results)
    await writer.saver.close()


async def test_the_same_event_id_on_two_platforms_is_two_events(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=Flag())
    results = await asyncio.gather(
        writer.save(platform="feishu", event_id="m1", payload=event("m1")),
        writer.save(platform="console", event_id="m1", payload=event("m1")),
        writer.save(platform="feishu", event_id="m1", payload=event("m1")),
    )
    assert sorted(results) == [False, True, True]
    assert await count(engine) == 2
    await writer.saver.close()


async def test_the_saver_stores_the_row_the_models_read(engine: AsyncEngine) -> None:
    """On SQLite the saver writes the statement itself: what it stores must be what the
    models would have stored (UTC timestamps, JSON text, defaults)."""
    saver = InboxSaver(engine)
    moment = datetime(2026, 11, 26, 18, 30, 5, 123456, tzinfo=timezone(timedelta(hours=8)))
    try:
        new = await saver.insert(platform="feishu", received_at=moment, events=[
            ("a", JSONText('{"text": "签到"}')), ("b", {"n": 1}), ("a", {"again": True})])
        assert new == {"a", "b"}
        assert await saver.insert(platform="feishu", events=[("b", {})],
                                  received_at=moment) == set()
    finally:
        await saver.close()
    async with session_factory(engine)() as session:
        rows = {r.event_id: r for r in (await session.execute(select(InboxEvent))).scalars()}
    assert rows["a"].payload == {"text": "签到"} and rows["b"].payload == {"n": 1}
    assert rows["a"].received_at == moment and rows["a"].received_at.tzinfo is not None
    assert (rows["a"].status, rows["a"].attempts, rows["a"].error) == ("pending", 0, "")
    assert rows["a"].claimed_until is None


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


async def _close_other_connections(pg_url: str) -> None:
    killer = create_engine(pg_url)
    async with killer.connect() as conn:
        await conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    await killer.dispose()


def test_the_saver_connects_to_postgresql_as_the_engine_does() -> None:
    """Host, port, credentials and ssl come from the URL as the engine's dialect reads them;
    the dialect's own settings are not handed to asyncpg."""
    url = ("postgresql://jl:secret@db.example:6543/county"
           "?ssl=require&prepared_statement_cache_size=100")
    saver = InboxSaver(create_engine(url))
    assert saver.pg_connect_args == {"host": "db.example", "port": 6543, "user": "jl",
                              "password": "secret", "database": "county", "ssl": "require"}


@pytest.mark.postgres
async def test_the_savers_connection_closed_by_the_server_is_opened_again(pg_url: str) -> None:
    """The acknowledgements' own connection (no pool, no ping): an insert that finds it
    closed is tried once more on a new one, and a database that is away is a DBAPIError."""
    engine = create_engine(pg_url)
    await upgrade(engine)
    saver = InboxSaver(engine)
    try:
        assert await saver.insert(platform="feishu", events=[("a", {})], received_at=T0) == {"a"}
        await _close_other_connections(pg_url)
        assert await saver.insert(platform="feishu", events=[("b", {})], received_at=T0) == {"b"}
    finally:
        await saver.close()
    away = InboxSaver(create_engine("postgresql://postgres@127.0.0.1:1/test"))  # no server
    try:
        with pytest.raises(DBAPIError):
            await away.insert(platform="feishu", events=[("c", {})], received_at=T0)
    finally:
        await away.close()


async def test_in_a_burst_even_old_work_waits_for_the_acknowledgements() -> None:
    """A burst (BURST_IN_HAND at once) is saved first, whatever the age of the work; one
    fewer in hand is a steady stream again, and old work goes at once."""
    acks = Acks(FixedClock(T0 + REPLY_SOON + timedelta(milliseconds=1)))
    with contextlib.ExitStack() as stack:
        for _ in range(BURST_IN_HAND - 1):
            stack.enter_context(acks.in_hand())
        steady = asyncio.create_task(acks.let_through(T0))
        await asyncio.sleep(0)
        assert steady.done()  # a steady stream: overdue work does not wait
        stack.enter_context(acks.in_hand())
        assert acks.in_burst()
        waiting = asyncio.create_task(acks.let_through(T0))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()
    await waiting


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
        await _close_other_connections(pg_url)
        saved = await insert_events(engine=engine, platform="feishu", events=[("b", {})],
                                    received_at=T0)
        assert saved == {"b"}
    finally:
        await engine.dispose()


async def test_a_request_that_goes_away_takes_no_other_save_with_it(engine: AsyncEngine) -> None:
    """Saves are written by a task of their own: cancelling one waiting request (a client
    that hung up) neither fails the others in its batch nor leaves its event unsaved."""
    flag = Flag()
    writer = InboxWriter(engine=engine, clock=SystemClock(), wakeup=flag)
    try:
        saves = [asyncio.create_task(writer.save(platform="feishu", event_id=f"c{n}",
                                                 payload=event(f"c{n}"))) for n in range(3)]
        await asyncio.sleep(0)  # all three queued; the write has not run yet
        saves[1].cancel()
        results = await asyncio.gather(*saves, return_exceptions=True)
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], asyncio.CancelledError)
        assert await count(engine) == 3 and writer.batches == 1 and flag.times == 1
    finally:
        await writer.close()


async def test_the_saver_takes_a_batch_larger_than_one_statement(engine: AsyncEngine) -> None:
    saver = InboxSaver(engine)
    events: list[tuple[str, dict[str, Any] | str]] = [(f"big{n}", {"n": n}) for n in range(1200)]
    try:
        new = await saver.insert(platform="feishu", events=events, received_at=T0)
        again = await saver.insert(platform="feishu", events=events[-3:], received_at=T0)
    finally:
        await saver.close()
    assert len(new) == 1200 and again == set()
    assert await count(engine) == 1200
