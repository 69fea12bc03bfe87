"""The real `Source` for the long connection, spoken natively over aiohttp.

Protocol (from lark-oapi's ws client, which we do not use: its client blocks and binds an
event loop at import): `POST {api_base}/callback/ws/endpoint {"AppID", "AppSecret"}` →
`{code, msg, data: {URL, ClientConfig}}` (`service_id` and `device_id` in the URL's query);
then a WebSocket of binary `pbbp2.Frame`s. We send a control frame `type=ping` every
PingInterval and Feishu answers `type=pong`, its payload the current `ClientConfig` (JSON).
Data frames carry `type` (event/card), `message_id`, `sum`/`seq` (a payload split in parts),
`trace_id` and a JSON payload, already decrypted. Each is answered by the same frame (all
headers, `payload_encoding` and `payload_type` echoed) with `biz_rt` (ms we took) added and
payload `{"code": 200|500, "data": base64(JSON answer)}`.

A dead link is noticed twice over: WebSocket pings (aiohttp's heartbeat; a missing pong
closes the socket) and a watchdog on Feishu's own pongs. Refusals become `Refused` with
Feishu's reason; the reconnect loop decides how long to wait. Imports nothing of ours but
the frame codec, the seam types and bot.config.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.config import FeishuApp

from .longconn import FAILED, OK, Ack, Answer, ClientConfig, Refused, WsEvent
from .wsframe import CONTROL, DATA, Frame, FrameError, decode, encode

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/callback/ws/endpoint"
# Endpoint codes (lark-oapi ws/const.py): 1 system busy and 1000040343 internal error are
# worth retrying; any other non-zero code is Feishu saying no (credentials, app state).
ENDPOINT_RETRY = frozenset({1, 1000040343})
# Handshake refusals: 403 forbidden; 514 with auth error 1000040350 = too many connections.
FORBIDDEN = 403
AUTH_FAILED = 514
EXCEED_CONN_LIMIT = "1000040350"
HANDSHAKE_STATUS = "handshake-status"
HANDSHAKE_MSG = "handshake-msg"
HANDSHAKE_AUTH_ERRCODE = "handshake-autherrcode"


@dataclass(frozen=True)
class Tuning:
    """Our side of connection management (Feishu's side is `ClientConfig`)."""

    # WebSocket-level ping every this many seconds; no pong within half of it closes.
    heartbeat_s: float = 30.0
    # Feishu-level pings left without a pong, in a row, before the link is declared dead.
    missed_pongs: int = 2
    # Parts of a split payload older than this (since the last part) are dropped (the SDK: 5).
    parts_ttl_s: float = 5.0
    close_s: float = 5.0
    endpoint_s: float = 15.0
    monotonic: Callable[[], float] = dataclasses.field(default=time.monotonic, compare=False)


def _endpoint_refusal(status: int, body: Any) -> Refused | None:
    data = body if isinstance(body, dict) else {}
    code, msg = data.get("code"), str(data.get("msg") or "")
    if status != 200:
        return Refused("endpoint", code if code is not None else status,
                       msg or f"HTTP {status}", fatal=False, detail=f"HTTP {status}")
    if code == 0:
        return None
    if not isinstance(code, int):  # a garbled answer (a proxy's page?), not Feishu's no
        return Refused("endpoint", None, "answer without a code", fatal=False)
    return Refused("endpoint", code, msg, fatal=code not in ENDPOINT_RETRY)


async def fetch_endpoint(session: aiohttp.ClientSession, app: FeishuApp,
                         config: ClientConfig, *, timeout_s: float = 15.0) -> str:
    """The connection URL; `config` takes Feishu's ClientConfig. Raises `Refused`."""
    body = {"AppID": app.app_id, "AppSecret": app.app_secret}
    async with session.post(app.api_base + ENDPOINT_PATH, json=body, headers={"locale": "zh"},
                            timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
        status = resp.status
        try:
            data = await resp.json(content_type=None)
        except ValueError:
            data = None
    refusal = _endpoint_refusal(status, data)
    if refusal is not None:
        raise refusal
    endpoint = data.get("data") if isinstance(data.get("data"), dict) else {}
    url = endpoint.get("URL")
    if not isinstance(url, str) or not url:
        raise Refused("endpoint", 0, "answer without a URL", fatal=False)
    if isinstance(endpoint.get("ClientConfig"), dict):
        config.apply(endpoint["ClientConfig"])
    return url


def handshake_refusal(exc: aiohttp.WSServerHandshakeError) -> Refused | None:
    """Feishu's reason for refusing the WebSocket upgrade, from its `handshake-*` headers."""
    headers: Mapping[str, str] = exc.headers or {}
    status, msg = headers.get(HANDSHAKE_STATUS), headers.get(HANDSHAKE_MSG)
    if status is None:
        return None
    auth = headers.get(HANDSHAKE_AUTH_ERRCODE)
    try:
        code: int | str = int(status)
    except ValueError:
        code = status
    fatal = code == FORBIDDEN or (code == AUTH_FAILED and auth == EXCEED_CONN_LIMIT)
    return Refused("handshake", code, msg or "", fatal=fatal,
                   detail=f"autherrcode {auth}" if auth else f"HTTP {exc.status}")


def ping_frame(service_id: int) -> Frame:
    return Frame(service=service_id, method=CONTROL, headers=[("type", "ping")])


def ack_frame(frame: Frame, answer: Answer, *, code: int = OK, biz_rt_ms: int = 0) -> Frame:
    """The frame itself answered, as the official SDK does: every field echoed; `biz_rt`
    added to a handled event (the SDK's 500 goes without it)."""
    response: dict[str, Any] = {"code": code}
    if answer and code == OK:
        data = json.dumps(answer, ensure_ascii=False).encode()
        response["data"] = base64.b64encode(data).decode()
    headers = [*frame.headers, ("biz_rt", str(biz_rt_ms))] if code == OK else [*frame.headers]
    return dataclasses.replace(frame, headers=headers, payload=json.dumps(response).encode())


class _Parts:
    """Reassembles payloads Feishu split over several frames (`sum` > 1); a payload whose
    parts stop coming is dropped after `ttl` seconds (Feishu pushes the event again)."""

    def __init__(self, ttl: float, monotonic: Callable[[], float]) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self.pending: dict[str, tuple[float, list[bytes | None]]] = {}

    def expire(self) -> list[str]:
        now = self.monotonic()
        gone = [msg_id for msg_id, (seen, _) in self.pending.items() if now - seen > self.ttl]
        for msg_id in gone:
            del self.pending[msg_id]
        return gone

    def add(self, frame: Frame) -> bytes | None:
        """The whole payload once complete, else None; ValueError for impossible parts."""
        total = int(frame.header("sum", "1") or 1)
        if total <= 1:
            return frame.payload
        msg_id = frame.header("message_id")
        seq = int(frame.header("seq", "0") or 0)
        _, parts = self.pending.get(msg_id, (0.0, [None] * total))
        if len(parts) != total or not 0 <= seq < total:
            self.pending.pop(msg_id, None)
            raise ValueError(f"part {seq} of {total} does not fit")
        parts[seq] = frame.payload
        if any(p is None for p in parts):
            self.pending[msg_id] = (self.monotonic(), parts)
            return None
        self.pending.pop(msg_id, None)
        return b"".join(p for p in parts if p is not None)


_END = object()


class FeishuWsSource:
    """A `Source` that opens one Feishu long connection per call. `config` is Feishu's
    ClientConfig as last heard (share it with the `LongConnection`)."""

    def __init__(self, app: FeishuApp, session: aiohttp.ClientSession, *,
                 config: ClientConfig | None = None, tuning: Tuning | None = None) -> None:
        self.app = app
        self.session = session
        self.config = config or ClientConfig()
        self.tuning = tuning or Tuning()
        self.bad_frames = 0
        self.half_open = 0  # connections closed for want of pongs

    def __call__(self) -> AsyncGenerator[WsEvent, None]:
        return self._connect()

    async def _connect(self) -> AsyncGenerator[WsEvent, None]:
        name, tuning = self.app.app_id, self.tuning
        url = await fetch_endpoint(self.session, self.app, self.config,
                                   timeout_s=tuning.endpoint_s)
        query = parse_qs(urlparse(url).query)
        service_id = int(query.get("service_id", ["0"])[0])
        conn_id = query.get("device_id", [""])[0]
        try:
            ws = await self.session.ws_connect(
                url, heartbeat=tuning.heartbeat_s,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=tuning.close_s))
        except aiohttp.WSServerHandshakeError as exc:
            raise (handshake_refusal(exc) or exc) from None
        log.info("feishu long connection %s: connected (conn_id %s, ping every %.0f s)",
                 name, conn_id, self.config.ping_interval)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        pongs = asyncio.Event()
        tasks = [asyncio.create_task(self._read(ws, queue, pongs)),
                 asyncio.create_task(self._keepalive(ws, service_id, pongs))]
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await ws.close()
        log.info("feishu long connection %s: socket closed (code %s)", name, ws.close_code)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, queue: asyncio.Queue[Any],
                    pongs: asyncio.Event) -> None:
        """Receives every frame at once (pongs too, while an event is being saved) and queues
        the complete events."""
        parts = _Parts(self.tuning.parts_ttl_s, self.tuning.monotonic)
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    await self._frame(ws, msg.data, queue, pongs, parts)
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    log.warning("feishu long connection %s: socket error: %s",
                                self.app.app_id, type(ws.exception()).__name__)
                    break
        except Exception as exc:
            queue.put_nowait(exc)
        finally:
            queue.put_nowait(_END)

    async def _frame(self, ws: aiohttp.ClientWebSocketResponse, data: bytes,
                     queue: asyncio.Queue[Any], pongs: asyncio.Event, parts: _Parts) -> None:
        name = self.app.app_id
        for msg_id in parts.expire():
            log.warning("feishu long connection %s: parts of %s expired incomplete", name,
                        msg_id)
        try:
            frame = decode(data)
        except FrameError as exc:
            self.bad_frames += 1
            log.warning("feishu long connection %s: undecodable frame (%d bytes): %s", name,
                        len(data), exc)
            return
        kind = frame.header("type")
        if frame.method == CONTROL:
            if kind == "pong":
                pongs.set()
                self._configure(frame.payload)
            return
        if frame.method != DATA or kind not in ("event", "card"):
            return
        try:
            payload = parts.add(frame)
            if payload is None:
                return
            event = json.loads(payload)
            if not isinstance(event, dict):
                raise ValueError("payload is not a JSON object")
        except ValueError as exc:  # json and UTF-8 errors included
            self.bad_frames += 1
            log.warning("feishu long connection %s: bad %s frame %s (trace %s): %s; "
                        "answered 500", name, kind, frame.header("message_id"),
                        frame.header("trace_id"), exc)
            await ws.send_bytes(encode(ack_frame(frame, {}, code=FAILED)))
            return
        queue.put_nowait(WsEvent(event=event, ack=self._acker(ws, frame)))

    def _configure(self, payload: bytes) -> None:
        if not payload:
            return
        try:
            raw = json.loads(payload)
        except ValueError:
            log.warning("feishu long connection %s: pong with a payload that is not JSON",
                        self.app.app_id)
            return
        if isinstance(raw, dict) and self.config.apply(raw):
            c = self.config
            log.info("feishu long connection %s: Feishu's settings now: ping every %.0f s, "
                     "reconnect count %d, interval %.0f s, nonce %.0f s", self.app.app_id,
                     c.ping_interval, c.reconnect_count, c.reconnect_interval,
                     c.reconnect_nonce)

    async def _keepalive(self, ws: aiohttp.ClientWebSocketResponse, service_id: int,
                         pongs: asyncio.Event) -> None:
        """Pings every PingInterval (as Feishu last said); closes the socket when pongs
        stop coming, which ends the connection and lets the loop reconnect."""
        missed = 0
        ping = encode(ping_frame(service_id))
        while not ws.closed:
            pongs.clear()
            interval = self.config.ping_interval
            started = self.tuning.monotonic()
            try:
                await ws.send_bytes(ping)
            except (aiohttp.ClientError, ConnectionError):
                break
            try:
                await asyncio.wait_for(pongs.wait(), timeout=interval)
            except TimeoutError:
                missed += 1
                if missed >= self.tuning.missed_pongs:
                    self.half_open += 1
                    log.warning("feishu long connection %s: no pong for %d pings (%.0f s): "
                                "the link is half-open; reconnecting", self.app.app_id,
                                missed, missed * interval)
                    break
                continue
            missed = 0
            await asyncio.sleep(max(interval - (self.tuning.monotonic() - started), 0.0))
        await ws.close()

    def _acker(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> Ack:
        received = self.tuning.monotonic()

        async def ack(answer: Answer, *, code: int = OK) -> None:
            biz_rt = round((self.tuning.monotonic() - received) * 1000)
            await ws.send_bytes(encode(ack_frame(frame, answer, code=code, biz_rt_ms=biz_rt)))

        return ack


def feishu_ws_source(app: FeishuApp, session: aiohttp.ClientSession, *,
                     config: ClientConfig | None = None,
                     tuning: Tuning | None = None) -> FeishuWsSource:
    return FeishuWsSource(app, session, config=config, tuning=tuning)
