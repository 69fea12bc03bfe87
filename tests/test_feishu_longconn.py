"""The long connection: the reconnect loop and the ingest at the `Source`/`Sink` seam (fake
sources, no network), the frame codec, and the native client against a fake WebSocket
endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.channels.feishu import long_connection_sink
from bot.channels.feishu.longconn import Backoff, LongConnection, WsEvent
from bot.channels.feishu.wsclient import ack_frame, feishu_ws_source
from bot.channels.feishu.wsframe import DATA, Frame, FrameError, decode, encode
from bot.config import DatabaseSettings, FeishuApp, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SystemClock
from storage.models import InboxEvent
from tests.fakes.feishu_signing import card_action_event, text_event

APP = FeishuApp(app_id="cli_ws", app_secret="ws-secret", mode="long_connection")
NO_WAIT = Backoff(base=0.0, cap=0.0)
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


class ScriptedSource:
    """Connection 1 fails at once; connection 2 delivers `events` and drops; later
    connections stay open and silent until cancelled."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.calls = 0
        self.acks: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    async def _ack(self, answer: dict[str, Any]) -> None:
        self.acks.append(answer)
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
                          backoff=NO_WAIT)
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await source.until(lambda: len(source.acks) == 3 and source.calls >= 3)
    stop.set()
    async with asyncio.timeout(WAIT_S):
        await task
    assert await inbox_count(runtime) == 2
    assert source.acks[:2] == [{}, {}]
    assert source.acks[2]["toast"]["content"] == "正在撤销…"
    assert runtime.worker.wakeup.is_set()


async def test_an_event_that_cannot_be_saved_is_not_acknowledged(runtime: Runtime) -> None:
    source = ScriptedSource([text_event("x", app_id="cli_ws", token="", event_id="e1")])
    saved: list[str] = []

    async def failing_sink(event: dict[str, Any]) -> dict[str, Any]:
        saved.append(event["header"]["event_id"])
        raise OSError("database is down")

    conn = LongConnection(name="t", source=source, sink=failing_sink, backoff=NO_WAIT)
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await source.until(lambda: source.calls >= 3)
    stop.set()
    async with asyncio.timeout(WAIT_S):
        await task
    assert saved == ["e1"] and source.acks == []


async def test_events_for_another_app_or_without_id_are_dropped(runtime: Runtime) -> None:
    sink = long_connection_sink(runtime, APP)
    assert await sink(text_event("x", app_id="cli_other", token="")) == {}
    no_id = text_event("x", app_id="cli_ws", token="")
    del no_id["header"]["event_id"]
    assert await sink(no_id) == {}
    assert await inbox_count(runtime) == 0


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


class FakeWsFeishu:
    """/callback/ws/endpoint and the socket: one event split over two frames, then waits."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.endpoint_bodies: list[dict[str, Any]] = []
        self.pings: list[Frame] = []
        self.acks: list[Frame] = []
        self.got_ack = asyncio.Event()
        self.server: TestServer | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws", self._socket)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def _endpoint(self, request: web.Request) -> web.Response:
        self.endpoint_bodies.append(await request.json())
        assert self.server is not None
        url = str(self.server.make_url("/ws")).replace("http", "ws", 1)
        return web.json_response({"code": 0, "data": {
            "URL": f"{url}?device_id=d1&service_id=7",
            "ClientConfig": {"PingInterval": 120, "ReconnectCount": -1}}})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        payload = json.dumps(self.event).encode()
        half = len(payload) // 2
        for seq, part in enumerate((payload[:half], payload[half:])):
            headers = [("type", "event"), ("message_id", "m1"), ("sum", "2"),
                       ("seq", str(seq)), ("trace_id", "t")]
            await ws.send_bytes(encode(Frame(seq_id=seq, service=7, method=DATA,
                                             headers=headers, payload=part)))
        async for msg in ws:
            frame = decode(msg.data)
            if frame.header("type") == "ping":
                self.pings.append(frame)
            else:
                self.acks.append(frame)
                self.got_ack.set()
        return ws


async def test_native_client_reassembles_saves_and_acknowledges(runtime: Runtime) -> None:
    event = text_event("签到" * 50, app_id="cli_ws", token="", event_id="ws-native")
    fake = FakeWsFeishu(event)
    base = await fake.start()
    app = dataclasses.replace(APP, api_base=base)
    async with aiohttp.ClientSession() as session:
        conn = LongConnection(name="native", source=feishu_ws_source(app, session),
                              sink=long_connection_sink(runtime, app), backoff=NO_WAIT)
        stop = asyncio.Event()
        task = asyncio.create_task(conn.run(stop))
        async with asyncio.timeout(WAIT_S):
            await fake.got_ack.wait()
        stop.set()
        async with asyncio.timeout(WAIT_S):
            await task
    assert fake.server is not None
    await fake.server.close()
    assert fake.endpoint_bodies == [{"AppID": "cli_ws", "AppSecret": "ws-secret"}]
    [ack] = fake.acks
    assert json.loads(ack.payload) == {"code": 200}
    assert ack.header("message_id") == "m1" and ack.service == 7
    assert [p.service for p in fake.pings] == [7]
    assert await inbox_count(runtime) == 1


def test_card_answer_travels_base64_encoded_in_the_ack() -> None:
    frame = Frame(seq_id=9, service=7, method=DATA, headers=[("type", "card")])
    ack = ack_frame(frame, {"toast": {"type": "info", "content": "正在撤销…"}})
    body = json.loads(ack.payload)
    assert body["code"] == 200
    assert json.loads(base64.b64decode(body["data"]))["toast"]["content"] == "正在撤销…"
    assert (ack.seq_id, ack.header("type"), ack.header("biz_rt")) == (9, "card", "0")


def test_connection_errors_are_logged_without_the_url_query() -> None:
    from bot.channels.feishu.longconn import redacted

    exc = aiohttp.ClientError("cannot connect to wss://x.feishu.cn/ws?ticket=SECRET&x=1 now")
    assert "SECRET" not in redacted(exc) and "wss://x.feishu.cn/ws?…" in redacted(exc)
