"""`GET /healthz` and `GET /metrics` of the real app on a real database."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import RUNTIME, SCHEDULER, create_app
from bot.config import settings_from_dict
from bot.metrics import Metrics
from handlers.clock import FixedClock
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.chat_harness import at
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import ENCODING_AES_KEY, signed_callback, text_message
from tests.ops_support import AwayFactory, refuse_connections, until
from tests.test_wecom_callback import CHAT, TOKEN, USER, make_settings, prepare_database

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def health(client: TestClient) -> tuple[int, dict[str, Any]]:
    resp = await client.get("/healthz")
    return resp.status, await resp.json()


@pytest.fixture
async def app_client(db_url: str, aiohttp_client: ClientFactory) -> TestClient:
    settings = settings_from_dict({"database": {"url": db_url},
                                   "scheduler": {"enabled": False}})
    return await aiohttp_client(create_app(settings, clock=FixedClock(at("2026-11-26T10:00"))))


async def test_healthy_with_a_backlog_that_is_reported_not_failed(app_client: TestClient) -> None:
    runtime = app_client.app[RUNTIME]
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    # A platform with no channel: its event and message wait, as in a backlog.
    await runtime.inbox.save(platform="nowhere", event_id="e1", payload={})
    async with transaction(runtime.factory) as session:
        await enqueue(session=session, now=clock.now(), message=NewMessage(
            key="k1", platform="nowhere", target_kind="chat", target="c", text="x"))
    clock.advance(timedelta(hours=2))
    status, body = await health(app_client)
    assert status == 200, body
    assert body["status"] == "ok" and body["reasons"] == [] and body["database"] == "ok"
    assert body["inbox"]["pending"] == 1 and body["inbox"]["oldest_pending_age_s"] == 7200
    assert body["outbox"]["pending"] == 1 and body["outbox"]["oldest_pending_age_s"] == 7200
    assert set(body["loops"]) == {"worker", "delivery"}


async def test_database_that_does_not_answer_is_503_with_the_reason(
    app_client: TestClient, db_url: str,
) -> None:
    runtime = app_client.app[RUNTIME]
    if db_url.startswith("postgresql"):
        await refuse_connections(db_url, True)
    else:
        runtime.factory = AwayFactory(runtime.factory, failures=1)  # type: ignore[assignment]
    try:
        status, body = await health(app_client)
    finally:
        if db_url.startswith("postgresql"):
            await refuse_connections(db_url, False)
    assert status == 503
    assert body["status"] == "unavailable" and body["inbox"] is None
    [reason] = body["reasons"]
    assert reason.startswith("database: ")
    assert "accepting connections" in reason or "unable to open database file" in reason
    status, body = await health(app_client)
    assert status == 200, body


async def test_a_loop_without_a_completed_iteration_for_a_minute_is_503(
    app_client: TestClient,
) -> None:
    worker = app_client.app[RUNTIME].worker
    worker.factory = AwayFactory(worker.factory, failures=10**6)  # type: ignore[assignment]
    worker.loop.backoff = lambda failures: 0.01

    async def failing() -> bool:
        return worker.loop.failures >= 2

    await until(worker.loop, failing)  # the app's own worker task, failing in the background
    status, body = await health(app_client)
    assert status == 200  # failing, but not for long yet
    assert body["loops"]["worker"]["failures_in_a_row"] >= 1
    worker.loop.monotonic = lambda: time.monotonic() + 61
    status, body = await health(app_client)
    assert status == 503
    [reason] = body["reasons"]
    assert reason.startswith("worker: no completed iteration for ")
    assert "unable to open database file" in reason


async def test_metrics_count_a_webhook_session(
    sqlite_url: str, aiohttp_client: ClientFactory,
) -> None:
    fake = await FakeWeCom().start()
    try:
        await prepare_database(sqlite_url)
        client = await aiohttp_client(create_app(make_settings(sqlite_url, fake)))
        runtime = client.app[RUNTIME]
        msg = text_message("@教联助手 签到", userid=USER, chatid=CHAT,
                           response_url=fake.response_url(), msgid="m-1")
        query, body = signed_callback(msg, token=TOKEN)
        for _ in range(2):
            assert (await client.post("/wecom/callback", data=body, params=query)).status == 200
        forged = {**query, "msg_signature": "0" * 40}
        assert (await client.post("/wecom/callback", data=body, params=forged)).status == 401

        async def sent() -> bool:  # the app's own loops do the work; we watch them
            async with runtime.factory() as session:
                rows = (await session.execute(select(OutboxMessage))).scalars().all()
            return [r.status for r in rows] == ["sent"]

        await until(runtime.delivery.loop, sent)
        await client.app[SCHEDULER].beat()
        resp = await client.get("/metrics")
        assert resp.status == 200 and resp.content_type == "text/plain"
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(await resp.text())
                   for s in family.samples}
    finally:
        await fake.close()
    wecom = (("platform", "wecom"),)
    assert samples[("jiaolian_events_received_total", wecom)] == 2
    assert samples[("jiaolian_events_deduplicated_total", wecom)] == 1
    assert samples[("jiaolian_events_refused_total", (("reason", "unauthenticated"),))] == 1
    assert samples[("jiaolian_events_processed_total", wecom)] == 1
    assert samples[("jiaolian_replies_queued_total", (("source", "reply"),))] == 1
    assert samples[("jiaolian_replies_sent_total", wecom)] == 1
    assert samples[("jiaolian_ack_seconds_count", wecom)] == 2
    assert samples[("jiaolian_process_seconds_count", wecom)] == 1
    assert samples[("jiaolian_delivery_seconds_count", wecom)] == 1
    assert samples[("jiaolian_parse_seconds_count", ())] >= 1
    assert samples[("jiaolian_scheduler_runs_total", (("outcome", "ok"),))] >= 1  # + the start
    assert ENCODING_AES_KEY not in await resp.text()


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.events_processed.labels("wecom").inc()
    assert b'jiaolian_events_processed_total{platform="wecom"} 1.0' in first.render()
    assert b"jiaolian_events_processed_total{" not in second.render()
