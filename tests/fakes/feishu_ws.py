"""A fake Feishu long-connection service on 127.0.0.1, port 0: `POST /callback/ws/endpoint`
and the WebSocket. It speaks golden frames (tests/data/feishu_ws, written with the official
SDK's protobuf definition), answers pings with pongs that carry a new ClientConfig, and on
demand refuses the endpoint (`code`/`msg`) or the handshake (`handshake-*` headers), stops
answering pings, or stops answering WebSocket pings (a half-open link). Tests wait on
`until`, never on sleeps.
"""

from __future__ import annotations

import asyncio
import pathlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.feishu.wsframe import CONTROL, Frame, decode, encode

GOLDEN = pathlib.Path(__file__).parent.parent / "data" / "feishu_ws"
WAIT_S = 15.0
SERVICE_ID = 7


def golden(name: str) -> bytes:
    return (GOLDEN / f"{name}.bin").read_bytes()


@dataclass
class Refusal:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeWsFeishu:
    def __init__(self, *, frames: list[bytes] | None = None,
                 config: dict[str, Any] | None = None,
                 pong: bytes | None = None, pongs: bool = True,
                 ws_autoping: bool = True) -> None:
        # Sent on each connection after the first ping was answered.
        self.frames = frames or []
        self.config = config or {"PingInterval": 120, "ReconnectCount": -1,
                                 "ReconnectInterval": 120, "ReconnectNonce": 30}
        # The answer to a ping (default: a pong without a new ClientConfig).
        self.pong = pong or encode(Frame(service=SERVICE_ID, method=CONTROL,
                                         headers=[("type", "pong")]))
        self.pongs = pongs
        self.ws_autoping = ws_autoping
        # Answers of the endpoint, first come first served; then {"code": 0, …}.
        self.endpoint_answers: list[tuple[int, dict[str, Any]]] = []
        self.handshake_refusals: list[Refusal] = []
        self.endpoint_bodies: list[dict[str, Any]] = []
        self.connections = 0
        self.pings: list[Frame] = []
        self.acks: list[Frame] = []
        self.changed = asyncio.Event()
        self.server: TestServer | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws", self._socket)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _changed(self) -> None:
        self.changed.set()

    async def until(self, predicate: Any) -> None:
        async with asyncio.timeout(WAIT_S):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def _endpoint(self, request: web.Request) -> web.Response:
        self.endpoint_bodies.append(await request.json())
        self._changed()
        if self.endpoint_answers:
            status, body = self.endpoint_answers.pop(0)
            return web.json_response(body, status=status)
        assert self.server is not None
        url = str(self.server.make_url("/ws")).replace("http", "ws", 1)
        return web.json_response({"code": 0, "msg": "success", "data": {
            "URL": f"{url}?device_id=d1&service_id={SERVICE_ID}&access_key=SECRETKEY"
                   "&ticket=SECRETTICKET",
            "ClientConfig": self.config}})

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if self.handshake_refusals:
            refusal = self.handshake_refusals.pop(0)
            self._changed()
            return web.Response(status=refusal.status, headers=refusal.headers)
        ws = web.WebSocketResponse(autoping=self.ws_autoping)
        await ws.prepare(request)
        self.connections += 1
        self._changed()
        sent = False
        async for msg in ws:
            if msg.type != web.WSMsgType.BINARY:
                continue
            frame = decode(msg.data)
            if frame.method == CONTROL and frame.header("type") == "ping":
                self.pings.append(frame)
                if self.pongs:
                    await ws.send_bytes(self.pong)
                if not sent:
                    sent = True
                    for data in self.frames:
                        await ws.send_bytes(data)
            else:
                self.acks.append(frame)
            self._changed()
        self._changed()
        return ws
