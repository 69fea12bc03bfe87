"""A fake Feishu open platform on 127.0.0.1, port 0: tenant tokens with expiry, message send
and reply with `uuid` dedupe, message update, the resources of received messages (pictures
by message id and image key), file and image uploads (multipart, Feishu's
size limits; file and image messages must name a key it handed out), and faults on demand
(429 with x-ogw-ratelimit-reset, 5xx, error codes), and the contact API's user lookup
(token checked, 404 for an unknown user). Tests wait on `wait_for`, never on sleeps.
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
FILE_MAX = 30 * 1024 * 1024
IMAGE_MAX = 10 * 1024 * 1024
# Upload refusals; the codes were not found in official pages (see bot/channels/feishu/api.py).
TOO_LARGE, EMPTY = 234006, 234010


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


@dataclass
class Upload:
    kind: str  # "file" or "image"
    name: str
    file_type: str  # "" for images
    data: bytes
    key: str


class FakeFeishu(FakeServer):
    client_max_size = FILE_MAX + 1024 * 1024

    def __init__(self, *, app_id: str = "cli_test", app_secret: str = "secret",
                 token_expire: int = 7200) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.token_expire = token_expire
        self.token_requests = 0
        self.valid_tokens: dict[str, float] = {}
        self.sent: list[Sent] = []
        self.by_uuid: dict[str, Sent] = {}
        # Every accepted send by uuid, repeats included (Feishu drops them; we count them).
        self.sends_per_uuid: dict[str, int] = {}
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.faults: list[Fault] = []
        # Answered to every message call while set (an outage), after `faults`.
        self.standing: Fault | None = None
        # Sends to these receive_ids wait until their event is set (a chat that hangs).
        self.hold: dict[str, asyncio.Event] = {}
        self.held = 0  # sends that have waited (or wait) at a gate of `hold`
        self.message_calls = 0
        self.uploads: list[Upload] = []
        self.upload_calls = 0
        # Answered to uploads, in order, before behaving again.
        self.upload_faults: list[Fault] = []
        # The tenant's contacts, by open_id: {"name", "mobile", "employee_no"}.
        self.users: dict[str, dict[str, str]] = {}
        self.contact_calls = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        # Pictures people sent, by (message_id, image_key); downloads made, and their faults.
        self.resources: dict[tuple[str, str], bytes] = {}
        self.downloads: list[tuple[str, str]] = []
        self.download_faults: list[Fault] = []
        # Web login: codes the test issued → open_id (spent once); user tokens → open_id.
        self.login_codes: dict[str, str] = {}
        self.user_tokens: dict[str, str] = {}

    # --- control ----------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post("/open-apis/auth/v3/app_access_token/internal", self._app_token)
        app.router.add_post("/open-apis/authen/v1/oidc/access_token", self._user_token)
        app.router.add_get("/open-apis/authen/v1/user_info", self._user_info)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply)
        app.router.add_patch("/open-apis/im/v1/messages/{message_id}", self._update)
        app.router.add_get("/open-apis/im/v1/messages/{message_id}/resources/{file_key}",
                           self._resource)
        app.router.add_post("/open-apis/im/v1/files", self._upload_file)
        app.router.add_post("/open-apis/im/v1/images", self._upload_image)
        app.router.add_get("/open-apis/contact/v3/users/{user_id}", self._contact_user)

    def texts(self) -> list[str]:
        """What people saw: the text of each distinct message (cards: their first block)."""
        out = []
        for s in self.sent:
            if s.msg_type == "text":
                out.append(s.content["text"])
            elif s.msg_type == "interactive":
                out.append(s.content["elements"][0]["text"]["content"])
        return out

    def upload_by_key(self, key: str) -> Upload:
        return next(u for u in self.uploads if u.key == key)

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
        if refusal is None and (self.faults or self.standing):
            fault = self.faults.pop(0) if self.faults else self.standing
            assert fault is not None
            refusal = web.json_response({"code": fault.code, "msg": "fault"},
                                        status=fault.status, headers=fault.headers)
        if refusal is not None:
            await self._notify()
        return refusal

    async def _record(self, sent: Sent) -> web.Response:
        self.sends_per_uuid[sent.uuid] = self.sends_per_uuid.get(sent.uuid, 0) + 1
        known = self.by_uuid.get(sent.uuid)
        if known is None:
            self.by_uuid[sent.uuid] = sent
            self.sent.append(sent)
            known = sent
        await self._notify()
        return web.json_response({"code": 0, "msg": "success",
                                  "data": {"message_id": known.message_id}})

    def _unknown_key(self, msg_type: str, content: dict[str, Any]) -> web.Response | None:
        """File and image messages must carry a key this server handed out."""
        field = {"file": "file_key", "image": "image_key"}.get(msg_type)
        if field is None or any(u.key == content.get(field) for u in self.uploads):
            return None
        return web.json_response({"code": 230001, "msg": f"invalid {field}"}, status=400)

    async def _send(self, request: web.Request) -> web.Response:
        if (refusal := await self._guard(request)) is not None:
            return refusal
        body = await request.json()
        if (gate := self.hold.get(body["receive_id"])) is not None:
            self.held += 1
            await self._notify()
            await gate.wait()
        if (refusal := self._unknown_key(body["msg_type"], json.loads(body["content"]))):
            await self._notify()
            return refusal
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

    async def _upload(self, request: web.Request, kind: str) -> web.Response:
        self.upload_calls += 1
        refusal = self._auth_error(request)
        if refusal is None and self.upload_faults:
            fault = self.upload_faults.pop(0)
            refusal = web.json_response({"code": fault.code, "msg": "fault"},
                                        status=fault.status, headers=fault.headers)
        if refusal is not None:
            await self._notify()
            return refusal
        form = await request.post()
        part = form.get(kind)
        if not isinstance(part, web.FileField):
            return web.json_response({"code": 234001, "msg": "invalid request param"},
                                     status=400)
        data = part.file.read()
        limit = IMAGE_MAX if kind == "image" else FILE_MAX
        if not data or len(data) > limit:
            code = EMPTY if not data else TOO_LARGE
            return web.json_response({"code": code, "msg": "invalid file size"}, status=400)
        if kind == "image" and form.get("image_type") != "message":
            return web.json_response({"code": 234001, "msg": "invalid image_type"}, status=400)
        key = f"{'img' if kind == 'image' else 'file'}_v3_{next(self._ids)}"
        name = str(form.get("file_name") or part.filename)
        self.uploads.append(Upload(kind=kind, name=name, file_type=str(form.get("file_type", "")),
                                   data=data, key=key))
        await self._notify()
        field = "image_key" if kind == "image" else "file_key"
        return web.json_response({"code": 0, "msg": "success", "data": {field: key}})

    async def _upload_file(self, request: web.Request) -> web.Response:
        return await self._upload(request, "file")

    async def _upload_image(self, request: web.Request) -> web.Response:
        return await self._upload(request, "image")

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

    async def _contact_user(self, request: web.Request) -> web.Response:
        """GET contact/v3/users/:user_id?user_id_type=open_id; an unknown user is a 404 (the
        real code for it was not confirmed; any non-zero code is a refusal)."""
        self.contact_calls += 1
        if (refusal := self._auth_error(request)) is not None:
            await self._notify()
            return refusal
        if request.query.get("user_id_type") != "open_id":
            return web.json_response({"code": 99992402, "msg": "field validation failed"},
                                     status=400)
        user = self.users.get(request.match_info["user_id"])
        await self._notify()
        if user is None:
            return web.json_response({"code": 41050, "msg": "no user authority error"},
                                     status=404)
        return web.json_response({"code": 0, "msg": "success", "data": {"user": {
            "open_id": request.match_info["user_id"], **user}}})

    # --- web login (网页应用登录) -------------------------------------------------------------

    def issue_login_code(self, open_id: str) -> str:
        code = f"fs-code-{next(self._ids)}"
        self.login_codes[code] = open_id
        return code

    async def _app_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return web.json_response({"code": 10014, "msg": "app secret invalid"}, status=400)
        self.token_requests += 1
        token = f"a-{self.token_requests}"
        self.valid_tokens[token] = time.monotonic() + self.token_expire
        return web.json_response({"code": 0, "msg": "ok", "app_access_token": token,
                                  "tenant_access_token": token, "expire": self.token_expire})

    async def _user_token(self, request: web.Request) -> web.Response:
        refusal = self._auth_error(request)
        if refusal is not None:
            return refusal
        body = await request.json()
        open_id = self.login_codes.pop(str(body.get("code", "")), None)
        if body.get("grant_type") != "authorization_code" or open_id is None:
            return web.json_response({"code": 20003, "msg": "invalid code"}, status=400)
        token = f"u-{next(self._ids)}"
        self.user_tokens[token] = open_id
        return web.json_response({"code": 0, "msg": "ok", "data": {
            "access_token": token, "token_type": "Bearer", "expires_in": 7200}})

    async def _user_info(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        open_id = self.user_tokens.get(token)
        if open_id is None:
            return web.json_response({"code": 99991668, "msg": "invalid user token"},
                                     status=400)
        return web.json_response({"code": 0, "msg": "ok", "data": {"open_id": open_id,
                                                                   "name": "someone"}})
