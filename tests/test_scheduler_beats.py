"""Scheduler beats across instances (issue 12): the window (last run, now] is claimed by one
beat; on PostgreSQL concurrent beats take turns, so a due moment is computed once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.state import claim_beat, last_run
from storage.db import create_engine, session_factory, transaction, upgrade

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def test_a_window_is_claimed_once_and_the_next_starts_where_it_ended(
        db_url: str) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    factory = session_factory(engine)
    try:
        async with transaction(factory) as session:
            assert await claim_beat(session=session, now=T0) == T0  # a fresh install
        async with transaction(factory) as session:
            assert await claim_beat(session=session, now=T0) is None
        later = T0 + timedelta(minutes=1)
        async with transaction(factory) as session:
            assert await claim_beat(session=session, now=later) == T0
        async with factory() as session:
            assert await last_run(session=session) == later
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_concurrent_beats_of_two_instances_claim_a_moment_once(pg_url: str) -> None:
    engines = [create_engine(pg_url) for _ in range(2)]
    await upgrade(engines[0])
    factories = [session_factory(e) for e in engines]
    try:
        async with transaction(factories[0]) as session:
            await claim_beat(session=session, now=T0)

        async def beat(n: int, now: datetime) -> datetime | None:
            async with transaction(factories[n]) as session:
                return await claim_beat(session=session, now=now)

        for minute in range(1, 21):
            now = T0 + timedelta(minutes=minute)
            claimed = await asyncio.gather(beat(0, now), beat(1, now))
            assert sorted(claimed, key=lambda c: c is None) == [now - timedelta(minutes=1),
                                                                None]
    finally:
        for e in engines:
            await e.dispose()
