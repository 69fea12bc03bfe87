"""Background loops survive: a database that is away for a while is logged with its cause,
backed off and outlived; every acknowledged event is answered exactly once afterwards; one
failing loop never stops another; shutdown closes everything after failures."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import RUNTIME, _close_all, create_app
from bot.channels.console import PLATFORM
from bot.loops import LOOP_MAX_BACKOFF_S, Loop, loop_backoff
from handlers.nlu import Parser
from storage.db import transaction
from storage.models import InboxEvent, OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.chat_harness import GROUP, Chat, open_chat
from tests.fakes.wecom import FakeWeCom
from tests.ops_support import AwayFactory, refuse_connections, until
from tests.test_wecom_callback import make_settings as wecom_settings


@pytest.fixture
async def quiet_chat(db_url: str, demo_parser: Parser) -> AsyncIterator[Chat]:
    c = await open_chat(db_url, parser=demo_parser)
    try:
        yield c
    finally:
        await c.runtime.close()


async def acknowledge(chat: Chat, texts: list[str]) -> list[str]:
    """Save events as a webhook does before its 200; returns their ids."""
    ids = []
    for text in texts:
        event_id = uuid.uuid4().hex
        payload = {"chat_id": GROUP, "chat_type": "group", "sender": "张丽", "text": text,
                   "message_id": event_id, "received_at": chat.clock.now().isoformat()}
        assert await chat.runtime.inbox.save(platform=PLATFORM, event_id=event_id,
                                             payload=payload)
        ids.append(event_id)
    return ids


TEXTS = ["签到", "帮助", "昨天下午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"]


async def assert_each_answered_once(chat: Chat, n: int) -> None:
    events = await chat.rows(InboxEvent)
    assert [e.status for e in events] == ["done"] * n
    replies = await chat.rows(OutboxMessage)
    assert sorted(m.key.split(":")[2] for m in replies) == sorted(e.event_id for e in events)
    assert [m.status for m in replies] == ["sent"] * n
    assert len(chat.channel.sent) == n
    # Running the loops again sends nothing more.
    assert await chat.runtime.worker.drain() == 0
    assert await chat.runtime.delivery.drain() == 0
    assert len(chat.channel.sent) == n


async def test_iterations_fail_while_the_database_is_away_then_everything_is_answered_once(
    quiet_chat: Chat, caplog: pytest.LogCaptureFixture,
) -> None:
    chat, runtime = quiet_chat, quiet_chat.runtime
    await acknowledge(chat, TEXTS)
    worker, delivery = runtime.worker, runtime.delivery
    worker.factory = away = AwayFactory(worker.factory, failures=3)  # type: ignore[assignment]
    delivery.factory = AwayFactory(delivery.factory, failures=2)  # type: ignore[assignment]
    caplog.set_level(logging.ERROR, logger="bot.loops")
    for n in (1, 2, 3):
        assert await worker.loop.run_once() is None
        assert worker.loop.failures == n
    assert away.refused == 3 and worker.loop.last_ok is None
    assert "worker: iteration failed (3 in a row): OperationalError" in caplog.text
    assert "unable to open database file" in caplog.text
    # The database is back: the loop goes on where it stopped.
    assert await worker.loop.run_once() == 3
    assert worker.loop.failures == 0 and worker.loop.last_ok is not None
    assert await delivery.loop.run_once() is None
    assert await delivery.loop.run_once() is None
    # One chat's replies leave one after another: the first now, the others behind it.
    assert await delivery.loop.run_once() == 1
    assert await delivery.drain() == 2
    await assert_each_answered_once(chat, 3)


async def test_running_loops_outlive_a_postgresql_that_refuses_connections(
    pg_url: str, demo_parser: Parser,
) -> None:
    chat = await open_chat(pg_url, parser=demo_parser)
    runtime = chat.runtime
    try:
        await acknowledge(chat, TEXTS)
        for loop in (runtime.worker.loop, runtime.delivery.loop):
            loop.backoff = lambda failures: 0.01
        await refuse_connections(pg_url, True)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(runtime.worker.run(stop)),
                 asyncio.create_task(runtime.delivery.run(stop))]

        async def failed_twice() -> bool:
            return runtime.worker.loop.failures >= 2

        await until(runtime.worker.loop, failed_twice)
        assert "not currently accepting connections" in runtime.worker.loop.last_error
        await refuse_connections(pg_url, False)

        async def all_sent() -> bool:
            return len(chat.channel.sent) == len(TEXTS)

        runtime.worker.wakeup.set()
        await until(runtime.delivery.loop, all_sent)
        stop.set()
        await asyncio.gather(*tasks)
        assert all(t.exception() is None for t in tasks)
        await assert_each_answered_once(chat, len(TEXTS))
    finally:
        await refuse_connections(pg_url, False)
        await runtime.close()


async def test_a_failing_worker_does_not_stop_delivery(quiet_chat: Chat) -> None:
    runtime = quiet_chat.runtime
    await acknowledge(quiet_chat, ["签到"])
    async with transaction(runtime.factory) as session:
        await enqueue(session=session, now=quiet_chat.clock.now(), message=NewMessage(
            key="note:1", platform=PLATFORM, target_kind="chat", target=GROUP, text="通知"))
    runtime.worker.factory = AwayFactory(  # type: ignore[assignment]
        runtime.worker.factory, failures=10**6)
    for loop in (runtime.worker.loop, runtime.delivery.loop):
        loop.backoff = lambda failures: 0.01
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runtime.worker.run(stop)),
             asyncio.create_task(runtime.delivery.run(stop))]

    async def delivered_while_worker_fails() -> bool:
        return bool(quiet_chat.channel.sent) and runtime.worker.loop.failures >= 3

    async with asyncio.timeout(20):
        while not await delivered_while_worker_fails():
            runtime.worker.loop.iterated.clear()
            await runtime.worker.loop.iterated.wait()
    stop.set()
    await asyncio.gather(*tasks)
    assert [m.text for m in quiet_chat.channel.sent] == ["通知"]
    [event] = await quiet_chat.rows(InboxEvent)
    assert event.status == "pending"  # still there for when the database is back


def test_backoff_grows_and_is_capped() -> None:
    waits = [loop_backoff(n) for n in range(1, 30)]
    assert waits[0] < 1.0 < waits[4]
    assert max(waits) <= LOOP_MAX_BACKOFF_S * 1.2


async def test_a_loop_waits_its_backoff_after_a_failure_and_stops_at_once() -> None:
    asked: list[int] = []

    async def step() -> int:
        raise OSError("disk I/O error")

    def long_backoff(failures: int) -> float:
        asked.append(failures)
        return 3600.0

    loop = Loop("probe", step, backoff=long_backoff)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(loop.iterated.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)  # the hour's wait ends with the stop
    assert asked == [1] and loop.iterations == 1
    assert loop.last_error == "OSError: disk I/O error"


async def test_shutdown_runs_every_closing_step_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []

    async def broken() -> None:
        raise RuntimeError("channel close failed")

    async def ok(name: str) -> None:
        closed.append(name)

    await _close_all([("feishu", broken), ("wecom", lambda: ok("wecom")),
                      ("runtime", lambda: ok("runtime"))])
    assert closed == ["wecom", "runtime"]
    assert "shutdown: feishu failed" in caplog.text


async def test_the_app_closes_its_channels_after_its_loops_failed(
    sqlite_url: str, aiohttp_client: Any,
) -> None:
    fake = await FakeWeCom().start()
    try:
        client = await aiohttp_client(create_app(wecom_settings(sqlite_url, fake)))
        runtime = client.app[RUNTIME]
        for loop_owner in (runtime.worker, runtime.delivery):
            loop_owner.factory = AwayFactory(  # type: ignore[assignment]
                loop_owner.factory, failures=10**6)
            loop_owner.loop.backoff = lambda failures: 0.01

        async def both_failing() -> bool:
            return runtime.worker.loop.failures >= 2 and runtime.delivery.loop.failures >= 2

        await until(runtime.delivery.loop, both_failing)
        channel = runtime.channels["wecom"]
        await client.close()
        assert channel.session.closed  # type: ignore[attr-defined]
        assert runtime.engine.pool.checkedout() == 0
    finally:
        await fake.close()


async def test_serve_freezes_what_start_up_made(sqlite_url: str, aiohttp_client: Any) -> None:
    """A long-lived server keeps its start-up objects out of every full collection."""
    import gc

    fake = await FakeWeCom().start()
    before = gc.get_freeze_count()
    try:
        client = await aiohttp_client(create_app(wecom_settings(sqlite_url, fake),
                                                 freeze_heap=True))
        assert gc.get_freeze_count() > before
        await client.close()
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
        await fake.close()
