"""A fake Feishu open platform on 127.0.0.1, port 0: tenant tokens with expiry, message send
and reply with `uuid` dedupe, message update, the resources of received messages (pictures
by message id and image key), and faults on demand (429 with x-ogw-ratelimit-reset, 5xx,
error codes). Tests wait on `wait_for`, never on sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
WAIT_S = 15.0


@dataclass
class Fault:
    status: int
    code: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sent:
    kind: str  # "send" or "reply"
    target: str  # receive_id or the message replied to
    receive_id_type: str
    msg_type: str
    content: dict[str, Any]
    uuid: str
    message_id: str


class FakeFeishu(FakeServer):
    def __init__(self, *, app_id: str = "cli_test", app_secret: str = "secret",
                 token_expire: int = 7200) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.token_expire = token_expire
        self.token_requests = 0
        self.valid_tokens: dict[str, float] = {}
        self.sent: list[Sent] = []
        self.by_uuid: dict[str, Sent] = {}
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.faults: list[Fault] = []
        self.message_calls = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        # Pictures people sent, by (message_id, image_key); downloads made, and their faults.
        self.resources: dict[tuple[str, str], bytes] = {}
        self.downloads: list[tuple[str, str]] = []
        self.download_faults: list[Fault] = []

    # --- control ----------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply)
        app.router.add_patch("/open-apis/im/v1/messages/{message_id}", self._update)
        app.router.add_get("/open-apis/im/v1/messages/{message_id}/resources/{file_key}",
                           self._resource)

    def texts(self) -> list[str]:
        """What people saw: the text of each distinct message (cards: their first block)."""
        out = []
        for s in self.sent:
            if s.msg_type == "text":
                out.append(s.content["text"])
            else:
                out.append(s.content["elements"][0]["text"]["content"])
        return out

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Until `predicate()` holds after some request; fails the test after WAIT_S."""
        async with asyncio.timeout(WAIT_S):
            async with self._changed:
                await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- endpoints --------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_requests += 1
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return web.json_response({"code": 10014, "msg": "app secret invalid"}, status=400)
        token = f"t-{self.token_requests}"
        self.valid_tokens[token] = time.monotonic() + self.token_expire
        await self._notify()
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token,
                                  "expire": self.token_expire})

    def _auth_error(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expires = self.valid_tokens.get(token)
        if expires is None or expires < time.monotonic():
            return web.json_response({"code": 99991663, "msg": "Invalid access token"},
                                     status=400)
        return None

    async def _guard(self, request: web.Request) -> web.Response | None:
        self.message_calls += 1
        refusal = self._auth_error(request)
        if refusal is None and self.faults:
            fault = self.faults.pop(0)
            refusal = web.json_response({"code": fault.code, "msg": "fault"},
                                        status=fault.status, headers=fault.headers)
        if refusal is not None:
            await self._notify()
        return refusal

    async def _record(self, sent: Sent) -> web.Response:
        known = self.by_uuid.get(sent.uuid)
        if known is None:
            self.by_uuid[sent.uuid] = sent
            self.sent.append(sent)
            known = sent
        await self._notify()
        return web.json_response({"code": 0, "msg": "success",
                                  "data": {"message_id": known.message_id}})

    async def _send(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        body = await request.json()
        return await self._record(Sent(
            kind="send", target=body["receive_id"],
            receive_id_type=request.query["receive_id_type"], msg_type=body["msg_type"],
            content=json.loads(body["content"]), uuid=body.get("uuid", ""),
            message_id=f"om_sent_{next(self._ids)}",
        ))

    async def _reply(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        body = await request.json()
        return await self._record(Sent(
            kind="reply", target=request.match_info["message_id"], receive_id_type="",
            msg_type=body["msg_type"], content=json.loads(body["content"]),
            uuid=body.get("uuid", ""), message_id=f"om_sent_{next(self._ids)}",
        ))

    async def _update(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        body = await request.json()
        self.updates.append((request.match_info["message_id"], json.loads(body["content"])))
        await self._notify()
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _resource(self, request: web.Request) -> web.Response:
        """获取消息中的资源文件: the bytes of a picture a user sent, or a JSON error."""
        key = (request.match_info["message_id"], request.match_info["file_key"])
        self.downloads.append(key)
        refusal = self._auth_error(request)
        if refusal is None and self.download_faults:
            fault = self.download_faults.pop(0)
            refusal = web.json_response({"code": fault.code, "msg": "fault"},
                                        status=fault.status, headers=fault.headers)
        if refusal is None and request.query.get("type") != "image":
            refusal = web.json_response({"code": 234001, "msg": "Invalid request param."},
                                        status=400)
        if refusal is None and key not in self.resources:
            refusal = web.json_response({"code": 234003, "msg": "File not in msg."},
                                        status=404)
        await self._notify()
        if refusal is not None:
            return refusal
        return web.Response(body=self.resources[key], content_type="application/octet-stream")
