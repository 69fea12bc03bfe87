"""The long connection: the reconnect loop and the ingest at the `Source`/`Sink` seam (fake
sources, an injected wait, no network), the frame codec against golden frames written with
the official SDK (tests/data/feishu_ws), and the native client against a fake Feishu
long-connection service on 127.0.0.1 (tests/fakes/feishu_ws.py)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.feishu import long_connection_sink, start_feishu
from bot.channels.feishu.longconn import (
    FAILED,
    OK,
    Backoff,
    ClientConfig,
    LongConnection,
    Refused,
    WsEvent,
    redacted,
)
from bot.channels.feishu.wsclient import (
    Tuning,
    _Parts,
    ack_frame,
    feishu_ws_source,
    ping_frame,
)
from bot.channels.feishu.wsframe import CONTROL, DATA, Frame, FrameError, decode, encode
from bot.config import DatabaseSettings, FeishuApp, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SystemClock
from storage.models import InboxEvent
from tests.fakes.feishu_signing import card_action_event, text_event
from tests.fakes.feishu_ws import SERVICE_ID, FakeWsFeishu, Refusal, golden

APP = FeishuApp(app_id="cli_ws", app_secret="ws-secret", mode="long_connection")
# Deterministic jitter: random() = 0.5.
HALF = Backoff(base=1.0, fatal_base=300.0, fatal_cap=1800.0, random=lambda: 0.5)
WAIT_S = 15.0


@pytest.fixture
async def runtime(sqlite_url: str) -> AsyncIterator[Runtime]:
    settings = dataclasses.replace(settings_from_dict({}),
                                   database=DatabaseSettings(url=sqlite_url))
    rt = await open_runtime(settings, clock=SystemClock())
    try:
        yield rt
    finally:
        await rt.close()


async def inbox_count(runtime: Runtime) -> int:
    async with runtime.factory() as session:
        return int((await session.execute(
            select(func.count()).select_from(InboxEvent))).scalar_one())


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What the bot logged (the fake server's access log shows the URL's tokens itself)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))


class Waits:
    """The loop's injected wait: records each delay and returns at once; sets `stop` after
    `limit` waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.delays: list[float] = []

    async def __call__(self, stop: asyncio.Event, seconds: float) -> None:
        self.delays.append(seconds)
        if len(self.delays) >= self.limit:
            stop.set()
        await asyncio.sleep(0)


class ScriptedSource:
    """Connection 1 fails at once; connection 2 delivers `events` and drops; later
    connections stay open and silent until cancelled."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.calls = 0
        self.acks: list[tuple[int, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    async def _ack(self, answer: dict[str, Any], *, code: int = OK) -> None:
        self.acks.append((code, answer))
        self.changed.set()

    async def __call__(self) -> AsyncGenerator[WsEvent, None]:
        self.calls += 1
        self.changed.set()
        if self.calls == 1:
            raise ConnectionError("refused")
        if self.calls == 2:
            for event in self.events:
                yield WsEvent(event=event, ack=self._ack)
            return
        await asyncio.Event().wait()
        yield WsEvent(event={}, ack=self._ack)  # pragma: no cover - never reached

    async def until(self, predicate: Any) -> None:
        async with asyncio.timeout(WAIT_S):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


async def test_reconnects_saves_then_acknowledges_and_ignores_redeliveries(
        runtime: Runtime) -> None:
    message = text_event("签到", app_id="cli_ws", token="", event_id="ws-1")
    press = card_action_event({"intent": "undo", "undo": "activity:1"}, app_id="cli_ws",
                              token="", open_id="ou_x", message_id="om_c", event_id="ws-2")
    source = ScriptedSource([message, message, press])
    conn = LongConnection(name="t", source=source, sink=long_connection_sink(runtime, APP),
                          backoff=HALF, wait=Waits(limit=99))
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await source.until(lambda: len(source.acks) == 3 and source.calls >= 3)
    stop.set()
    async with asyncio.timeout(WAIT_S):
        await task
    assert await inbox_count(runtime) == 2
    assert source.acks[:2] == [(OK, {}), (OK, {})]
    assert source.acks[2][1]["toast"]["content"] == "正在撤销…"
    assert runtime.worker.wakeup.is_set()


async def test_an_event_that_cannot_be_saved_is_answered_500(runtime: Runtime) -> None:
    source = ScriptedSource([text_event("x", app_id="cli_ws", token="", event_id="e1"),
                             text_event("y", app_id="cli_ws", token="", event_id="e2")])
    saved: list[str] = []

    async def failing_sink(event: dict[str, Any]) -> dict[str, Any]:
        saved.append(event["header"]["event_id"])
        raise OSError("database is down")

    conn = LongConnection(name="t", source=source, sink=failing_sink, backoff=HALF,
                          wait=Waits(limit=99))
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await source.until(lambda: source.calls >= 3)
    stop.set()
    async with asyncio.timeout(WAIT_S):
        await task
    # Both tried, both answered 500 (Feishu pushes them again); the connection carried on.
    assert saved == ["e1", "e2"] and source.acks == [(FAILED, {}), (FAILED, {})]


async def test_events_for_another_app_or_without_id_are_dropped(runtime: Runtime) -> None:
    sink = long_connection_sink(runtime, APP)
    assert await sink(text_event("x", app_id="cli_other", token="")) == {}
    no_id = text_event("x", app_id="cli_ws", token="")
    del no_id["header"]["event_id"]
    assert await sink(no_id) == {}
    assert await inbox_count(runtime) == 0


class FailingSource:
    """Every connection attempt ends with the next of `outcomes` (an exception, or "up": a
    connection that delivered one event and dropped)."""

    def __init__(self, outcomes: list[BaseException | str]) -> None:
        self.outcomes = outcomes
        self.calls = 0

    async def _ack(self, answer: dict[str, Any], *, code: int = OK) -> None:
        return None

    async def __call__(self) -> AsyncGenerator[WsEvent, None]:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        yield WsEvent(event={}, ack=self._ack)


async def run_until_waits(source: Any, waits: Waits, config: ClientConfig | None = None,
                          ) -> LongConnection:
    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    conn = LongConnection(name="t", source=source, sink=sink, backoff=HALF, wait=waits,
                          config=config)
    async with asyncio.timeout(WAIT_S):
        await conn.run(asyncio.Event())
    return conn


async def test_failed_attempts_back_off_up_to_the_servers_interval() -> None:
    waits = Waits(limit=9)
    config = ClientConfig(reconnect_interval=20.0)
    await run_until_waits(FailingSource([ConnectionError("x")]), waits, config)
    # base 1 s doubling, capped at ReconnectInterval, times the jitter 0.75.
    assert waits.delays == [0.75, 1.5, 3.0, 6.0, 12.0, 15.0, 15.0, 15.0, 15.0]


async def test_after_a_drop_the_wait_is_the_servers_nonce_jitter() -> None:
    waits = Waits(limit=3)
    config = ClientConfig(reconnect_nonce=10.0)
    await run_until_waits(FailingSource([ConnectionError("x"), ConnectionError("x"), "up"]),
                          waits, config)
    assert waits.delays == [0.75, 1.5, 5.0]  # 0.5 × ReconnectNonce, failures start afresh


async def test_more_failures_than_the_reconnect_count_wait_minutes() -> None:
    waits = Waits(limit=4)
    config = ClientConfig(reconnect_count=2, reconnect_interval=120.0)
    await run_until_waits(FailingSource([ConnectionError("x")]), waits, config)
    assert waits.delays == [0.75, 300.0, 600.0, 1200.0]


async def test_fatal_refusals_wait_minutes_and_are_logged_with_their_reason(
        caplog: pytest.LogCaptureFixture) -> None:
    waits = Waits(limit=5)
    refusal = Refused("endpoint", 10003, "invalid app_secret", fatal=True)
    with caplog.at_level(logging.INFO, logger="bot.channels.feishu"):
        await run_until_waits(FailingSource([refusal]), waits)
    assert waits.delays == [300.0, 600.0, 1200.0, 1800.0, 1800.0]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "code 10003" in errors[0] and "invalid app_secret" in errors[0]


# -- the wire format, against bytes the official SDK wrote ------------------------------------

def test_ping_is_byte_for_byte_the_sdks() -> None:
    assert encode(ping_frame(SERVICE_ID)) == golden("ping")
    assert decode(golden("ping")) == ping_frame(SERVICE_ID)


def test_golden_data_frames_decode_and_re_encode() -> None:
    for name in ("event_whole", "event_part0", "event_part1", "pong"):
        assert encode(decode(golden(name))) == golden(name)
    frame = decode(golden("event_whole"))
    assert (frame.seq_id, frame.service, frame.method) == (1, SERVICE_ID, DATA)
    assert [k for k, _ in frame.headers] == ["type", "message_id", "sum", "seq", "trace_id"]
    assert (frame.payload_encoding, frame.payload_type, frame.log_id_new) == (
        "none", "json", "log-1")
    assert json.loads(frame.payload)["header"]["event_id"] == "golden-1"
    pong = decode(golden("pong"))
    assert pong.method == CONTROL and pong.header("type") == "pong"


@pytest.mark.parametrize(("answer", "code", "name"), [
    ({}, OK, "ack_ok"),
    ({"toast": {"type": "info", "content": "正在撤销…"}}, OK, "ack_data"),
    ({}, FAILED, "ack_failed"),
])
def test_acks_are_byte_for_byte_the_sdks(answer: dict[str, Any], code: int,
                                         name: str) -> None:
    frame = decode(golden("event_whole"))
    assert encode(ack_frame(frame, answer, code=code, biz_rt_ms=0)) == golden(name)


def test_ack_carries_the_time_taken_and_the_answer_base64() -> None:
    frame = Frame(seq_id=9, service=7, method=DATA, headers=[("type", "card")],
                  payload_encoding="gzip", payload_type="json")
    ack = ack_frame(frame, {"toast": {"type": "info", "content": "正在撤销…"}}, biz_rt_ms=42)
    body = json.loads(ack.payload)
    assert body["code"] == 200
    assert json.loads(base64.b64decode(body["data"]))["toast"]["content"] == "正在撤销…"
    assert (ack.seq_id, ack.header("type"), ack.header("biz_rt")) == (9, "card", "42")
    assert (ack.payload_encoding, ack.payload_type) == ("gzip", "json")


def test_frame_round_trip_and_known_bytes() -> None:
    frame = Frame(seq_id=3, log_id=2**40, service=7, method=DATA,
                  headers=[("type", "event"), ("message_id", "m1")], payload=b'{"a":1}',
                  log_id_new="L")
    assert decode(encode(frame)) == frame
    # Hand-assembled: SeqID=1, LogID=0, service=-1, method=0, header {k: v}.
    raw = bytes([0x08, 1, 0x10, 0, 0x18]) + b"\xff" * 9 + b"\x01" + bytes(
        [0x20, 0, 0x2A, 6, 0x0A, 1]) + b"k" + bytes([0x12, 1]) + b"v"
    assert decode(raw) == Frame(seq_id=1, service=-1, headers=[("k", "v")])
    assert encode(decode(raw)) == raw
    with pytest.raises(FrameError):
        decode(b"\x2a\x10abc")


def test_client_config_takes_what_feishu_sent_and_ignores_nonsense() -> None:
    config = ClientConfig()
    assert config.apply(json.loads(decode(golden("pong")).payload))
    assert config == ClientConfig(ping_interval=30, reconnect_count=5,
                                  reconnect_interval=60, reconnect_nonce=10)
    assert not config.apply({"PingInterval": 0, "ReconnectNonce": "x", "Other": 1})
    assert config.ping_interval == 30 and config.reconnect_nonce == 10


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def part(msg_id: str, total: int, seq: int, payload: bytes) -> Frame:
    return Frame(method=DATA, payload=payload, headers=[
        ("type", "event"), ("message_id", msg_id), ("sum", str(total)), ("seq", str(seq))])


def test_partial_payloads_expire() -> None:
    clock = Clock()
    parts = _Parts(ttl=5.0, monotonic=clock)
    assert parts.add(part("a", 2, 0, b"ab")) is None
    assert parts.add(part("b", 2, 1, b"yz")) is None
    clock.now += 4.0
    assert parts.expire() == []
    assert parts.add(part("b", 2, 0, b"xy")) == b"xyyz"
    clock.now += 2.0
    assert parts.expire() == ["a"] and parts.pending == {}
    assert parts.add(part("a", 2, 1, b"cd")) is None  # its first half is gone
    with pytest.raises(ValueError):
        parts.add(part("a", 3, 0, b"!"))  # a different count for the same message
    with pytest.raises(ValueError):
        parts.add(part("c", 2, 2, b"!"))


# -- the native client against the fake service ----------------------------------------------

@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class Native:
    """The real source and loop against `fake`, with an injected wait (no backoff sleeps)."""

    def __init__(self, fake: FakeWsFeishu, base: str, session: aiohttp.ClientSession,
                 sink: Callable[[dict[str, Any]], Any], *, tuning: Tuning | None = None,
                 waits: Waits | None = None) -> None:
        self.app = dataclasses.replace(APP, api_base=base)
        self.source = feishu_ws_source(self.app, session, tuning=tuning)
        self.waits = waits or Waits(limit=99)
        self.conn = LongConnection(name="native", source=self.source, sink=sink,
                                   backoff=HALF, config=self.source.config, wait=self.waits)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.conn.run(self.stop))

    async def finish(self) -> None:
        self.stop.set()
        async with asyncio.timeout(WAIT_S):
            await self.task


def bad_json_frame() -> bytes:
    return encode(Frame(seq_id=5, service=SERVICE_ID, method=DATA, payload=b"{not json",
                        headers=[("type", "event"), ("message_id", "m-bad"), ("sum", "1"),
                                 ("seq", "0"), ("trace_id", "t-bad")]))


async def test_native_client_survives_bad_frames_saves_acks_and_takes_the_pong_config(
        runtime: Runtime, session: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWsFeishu(pong=golden("pong"), frames=[
        b"\xff\xff\xff", bad_json_frame(), golden("event_part0"), golden("event_part1"),
        golden("event_whole")])
    base = await fake.start()
    sink = long_connection_sink(runtime, dataclasses.replace(APP, api_base=base))
    tries: list[str] = []

    async def flaky_sink(event: dict[str, Any]) -> dict[str, Any]:
        tries.append(event["header"]["event_id"])
        if len(tries) == 1:
            raise OSError("database is down")
        return await sink(event)

    with caplog.at_level(logging.DEBUG, logger="bot.channels.feishu"):
        native = Native(fake, base, session, flaky_sink)
        await fake.until(lambda: len(fake.acks) == 3)
        await native.finish()
    await fake.close()
    assert fake.endpoint_bodies == [{"AppID": "cli_ws", "AppSecret": "ws-secret"}]
    assert fake.connections == 1 and native.conn.connections == 1
    bad, failed, saved = fake.acks
    assert json.loads(bad.payload) == {"code": 500} and bad.header("message_id") == "m-bad"
    # The split event: reassembled, the save failed → 500; its redelivery saved → 200.
    assert json.loads(failed.payload) == {"code": 500}
    assert failed.header("message_id") == "m-split" and failed.header("seq") == "1"
    assert json.loads(saved.payload) == {"code": 200}
    assert (saved.payload_encoding, saved.payload_type, saved.log_id_new) == (
        "none", "json", "log-1")
    assert int(saved.header("biz_rt")) >= 0 and saved.header("trace_id") == "trace-1"
    assert tries == ["golden-1", "golden-1"] and await inbox_count(runtime) == 1
    assert native.source.bad_frames == 2
    assert native.source.config == ClientConfig(ping_interval=30, reconnect_count=5,
                                                reconnect_interval=60, reconnect_nonce=10)
    assert [p.service for p in fake.pings] == [SERVICE_ID]
    logged = ours(caplog)
    assert "SECRET" not in logged and "ws-secret" not in logged
    assert "undecodable frame" in logged and "m-bad" in logged


async def test_missing_pongs_close_the_link_and_reconnect(
        session: aiohttp.ClientSession) -> None:
    fake = FakeWsFeishu(pongs=False, config={"PingInterval": 0.05})
    base = await fake.start()

    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    native = Native(fake, base, session, sink)
    await fake.until(lambda: fake.connections >= 2)
    await native.finish()
    await fake.close()
    assert native.source.half_open >= 1
    assert native.waits.delays[0] < 1.0  # a dropped link: reconnect soon, not minutes


async def test_websocket_heartbeat_notices_a_silent_peer(
        session: aiohttp.ClientSession) -> None:
    # Feishu's pongs keep coming (every 120 s: not within this test) but WebSocket pings go
    # unanswered: only the heartbeat can notice.
    fake = FakeWsFeishu(ws_autoping=False)
    base = await fake.start()

    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    native = Native(fake, base, session, sink, tuning=Tuning(heartbeat_s=0.1))
    await fake.until(lambda: fake.connections >= 2)
    await native.finish()
    await fake.close()
    assert native.source.half_open == 0


@pytest.mark.parametrize(("headers", "fatal"), [
    ({"handshake-status": "403", "handshake-msg": "forbidden"}, True),
    ({"handshake-status": "514", "handshake-msg": "too many connections",
      "handshake-autherrcode": "1000040350"}, True),
    ({"handshake-status": "514", "handshake-msg": "auth failed",
      "handshake-autherrcode": "1000040351"}, False),
    ({"handshake-status": "500", "handshake-msg": "busy"}, False),
])
async def test_handshake_refusals_are_read_and_fatal_ones_wait_minutes(
        session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture,
        headers: dict[str, str], fatal: bool) -> None:
    fake = FakeWsFeishu()
    fake.handshake_refusals.append(Refusal(403 if fatal else 500, headers))
    base = await fake.start()

    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    with caplog.at_level(logging.INFO, logger="bot.channels.feishu"):
        native = Native(fake, base, session, sink, waits=Waits(limit=1))
        async with asyncio.timeout(WAIT_S):
            await native.task
    await fake.close()
    [delay] = native.waits.delays
    assert (delay >= 240) is fatal
    assert headers["handshake-msg"] in ours(caplog)
    assert f"code {headers['handshake-status']}" in ours(caplog)
    assert "SECRET" not in ours(caplog)


@pytest.mark.parametrize(("status", "body", "fatal"), [
    (200, {"code": 10003, "msg": "invalid app_secret"}, True),
    (200, {"code": 1000040344, "msg": "no credential"}, True),
    (200, {"code": 1, "msg": "system busy"}, False),
    (200, {"code": 1000040343, "msg": "internal error"}, False),
    (502, {"code": 502, "msg": "bad gateway"}, False),
    (200, {"msg": "not Feishu's answer"}, False),
])
async def test_endpoint_refusals_are_read_and_fatal_ones_wait_minutes(
        session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, status: int,
        body: dict[str, Any], fatal: bool) -> None:
    fake = FakeWsFeishu()
    fake.endpoint_answers.append((status, body))
    base = await fake.start()

    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    with caplog.at_level(logging.INFO, logger="bot.channels.feishu"):
        native = Native(fake, base, session, sink, waits=Waits(limit=1))
        async with asyncio.timeout(WAIT_S):
            await native.task
    await fake.close()
    [delay] = native.waits.delays
    assert (delay >= 240) is fatal and fake.connections == 0
    assert body["msg"] in ours(caplog) or "answer without a code" in ours(caplog)
    assert f"code {body.get('code')}" in ours(caplog) and "ws-secret" not in ours(caplog)


async def test_a_handshake_refused_without_a_reason_is_retried_soon_and_logged_redacted(
        session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWsFeishu()
    fake.handshake_refusals.append(Refusal(502))
    base = await fake.start()

    async def sink(event: dict[str, Any]) -> dict[str, Any]:
        return {}

    with caplog.at_level(logging.INFO, logger="bot.channels.feishu"):
        native = Native(fake, base, session, sink, waits=Waits(limit=1))
        async with asyncio.timeout(WAIT_S):
            await native.task
    await fake.close()
    assert native.waits.delays[0] < 1.0
    assert "WSServerHandshakeError" in ours(caplog) and "502" in ours(caplog)
    assert "SECRET" not in ours(caplog)


def test_connection_errors_are_logged_without_the_url_query() -> None:
    exc = aiohttp.ClientError("cannot connect to wss://x.feishu.cn/ws?ticket=SECRET&x=1 now")
    assert "SECRET" not in redacted(exc) and "wss://x.feishu.cn/ws?…" in redacted(exc)


async def test_start_feishu_runs_each_long_connection_until_closed(sqlite_url: str) -> None:
    fake = FakeWsFeishu(pong=golden("pong"), frames=[golden("event_whole")])
    base = await fake.start()
    settings = dataclasses.replace(settings_from_dict({"feishu": [
        {"app_id": "cli_ws", "app_secret": "ws-secret", "mode": "long_connection",
         "api_base": base}]}), database=DatabaseSettings(url=sqlite_url))
    rt = await open_runtime(settings, clock=SystemClock())
    try:
        close = await start_feishu(rt)
        await fake.until(lambda: len(fake.acks) == 1)
        async with asyncio.timeout(WAIT_S):
            await close()
        assert await inbox_count(rt) == 1
    finally:
        await rt.close()
        await fake.close()
    assert json.loads(fake.acks[0].payload) == {"code": 200}
    assert fake.connections == 1
