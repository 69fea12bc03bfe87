"""The real `Source` for the long connection, spoken natively over aiohttp.

Protocol (from lark-oapi's ws client, which we do not use: its client blocks and binds an
event loop at import): `POST {api_base}/callback/ws/endpoint {"AppID", "AppSecret"}` →
`data.URL` (with `service_id` in its query) and `data.ClientConfig.PingInterval`; then a
WebSocket of binary `pbbp2.Frame`s. We send a control frame `type=ping` every PingInterval;
data frames carry `type` (event/card), `message_id`, `sum`/`seq` (a payload split in parts)
and a JSON payload, already decrypted. Each is answered by the same frame with payload
`{"code": 200, "data": base64(JSON answer)}`. Imports nothing of ours but the frame codec,
the seam types and bot.config.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.config import FeishuApp

from .longconn import Answer, Source, WsEvent
from .wsframe import CONTROL, DATA, Frame, decode, encode

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/callback/ws/endpoint"
DEFAULT_PING_S = 120.0
TIMEOUT = aiohttp.ClientTimeout(total=15)


class EndpointError(Exception):
    """Feishu would not hand out a connection URL (the reason, never the secret)."""


async def fetch_endpoint(session: aiohttp.ClientSession, app: FeishuApp) -> tuple[str, float]:
    body = {"AppID": app.app_id, "AppSecret": app.app_secret}
    async with session.post(app.api_base + ENDPOINT_PATH, json=body, headers={"locale": "zh"},
                            timeout=TIMEOUT) as resp:
        data = await resp.json(content_type=None)
        status = resp.status
    if status != 200 or not isinstance(data, dict) or data.get("code") != 0:
        code = data.get("code") if isinstance(data, dict) else None
        raise EndpointError(f"endpoint refused: HTTP {status}, code {code}")
    endpoint = data.get("data") or {}
    config = endpoint.get("ClientConfig") or {}
    return str(endpoint["URL"]), float(config.get("PingInterval") or DEFAULT_PING_S)


def ping_frame(service_id: int) -> Frame:
    return Frame(service=service_id, method=CONTROL, headers=[("type", "ping")])


def ack_frame(frame: Frame, answer: Answer) -> Frame:
    response: dict[str, Any] = {"code": 200}
    if answer:
        response["data"] = base64.b64encode(json.dumps(answer).encode()).decode()
    return Frame(seq_id=frame.seq_id, log_id=frame.log_id, service=frame.service,
                 method=frame.method, headers=[*frame.headers, ("biz_rt", "0")],
                 payload=json.dumps(response).encode(), log_id_new=frame.log_id_new)


class _Parts:
    """Reassembles payloads Feishu split over several frames (`sum` > 1)."""

    def __init__(self) -> None:
        self.pending: dict[str, list[bytes | None]] = {}

    def add(self, frame: Frame) -> bytes | None:
        total = int(frame.header("sum", "1") or 1)
        if total <= 1:
            return frame.payload
        msg_id = frame.header("message_id")
        parts = self.pending.setdefault(msg_id, [None] * total)
        parts[int(frame.header("seq", "0"))] = frame.payload
        if any(p is None for p in parts):
            return None
        del self.pending[msg_id]
        return b"".join(p for p in parts if p is not None)


async def _pinger(ws: aiohttp.ClientWebSocketResponse, service_id: int, every: float) -> None:
    try:
        while not ws.closed:
            await ws.send_bytes(encode(ping_frame(service_id)))
            await asyncio.sleep(every)
    except (aiohttp.ClientError, ConnectionError):
        # A ping that cannot be sent means a dead link: closing it ends the receive loop,
        # and the reconnect loop takes over.
        await ws.close()


def feishu_ws_source(app: FeishuApp, session: aiohttp.ClientSession) -> Source:
    """A `Source` that opens one Feishu long connection per call."""

    async def connect() -> AsyncGenerator[WsEvent, None]:
        url, ping_s = await fetch_endpoint(session, app)
        service_id = int(parse_qs(urlparse(url).query).get("service_id", ["0"])[0])
        async with session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            log.info("feishu long connection %s: connected", app.app_id)
            pinger = asyncio.create_task(_pinger(ws, service_id, ping_s))
            parts = _Parts()
            try:
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.BINARY:
                        continue
                    frame = decode(msg.data)
                    if frame.method != DATA or frame.header("type") not in ("event", "card"):
                        continue
                    payload = parts.add(frame)
                    if payload is None:
                        continue
                    event = json.loads(payload)
                    if isinstance(event, dict):
                        yield WsEvent(event=event, ack=_acker(ws, frame))
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pinger

    return connect


def _acker(ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> Any:
    async def ack(answer: Answer) -> None:
        await ws.send_bytes(encode(ack_frame(frame, answer)))

    return ack
