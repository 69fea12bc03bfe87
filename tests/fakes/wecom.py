"""A fake WeCom server on 127.0.0.1, port 0: gettoken with expiry, message/send (checks the
token, 42001 once revoked; text, and file/image messages naming a media_id it handed out),
media/upload (token, type, size limits), webhook/send by key (93000 for a key it does not
know: a robot removed from its group), response_url endpoints (one POST each; on demand one
that hangs, refuses or answers 200 with an empty body), message/send to members without a
licence (`unlicenseduser`), the intelligent robot's picture files (encrypted with the
EncodingAESKey, by URL), user/get and user/getuserid (token checked; 60111 / 46004 for
unknown ones), and errcodes on demand. Tests wait on `wait_for`, never on sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer

WAIT_S = 15.0
FILE_MAX = 20 * 1024 * 1024
IMAGE_MAX = 10 * 1024 * 1024
MIN_BYTES = 6  # "more than 5 bytes"


@dataclass
class Sent:
    kind: str  # "app", "webhook" or "response"
    target: str  # touser, webhook key, or response_url code
    msgtype: str
    content: str  # the text, or the media_id of a file or image


@dataclass
class Media:
    kind: str  # "file" or "image"
    name: str
    data: bytes
    media_id: str


class FakeWeCom(FakeServer):
    client_max_size = FILE_MAX + 1024 * 1024

    def __init__(self, *, corp_id: str = "ww_corp", secret: str = "app-secret",
                 agent_id: int = 1000002, hook_keys: tuple[str, ...] = ("hook-key",),
                 token_expire: int = 7200) -> None:
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.hook_keys = set(hook_keys)
        self.token_expire = token_expire
        self.token_requests = 0
        self.valid_tokens: set[str] = set()
        self.sent: list[Sent] = []
        self.used_responses: set[str] = set()
        # Every POST to a response_url, by code (a used URL posted again shows up here twice).
        self.response_posts: list[str] = []
        # How to answer the next response_url POSTs, in order: "hang" (never answers: the
        # client times out), "refuse" (a non-zero errcode), "empty" (200, no body).
        self.response_faults: list[str] = []
        self._hang = asyncio.Event()
        # Members without a WeCom licence: message/send answers errcode 0 and unlicenseduser.
        self.unlicensed: set[str] = set()
        # The bodies message/send was given, as sent.
        self.send_bodies: list[dict[str, Any]] = []
        # Errcodes to answer, in order, before behaving again (message/send and webhook/send).
        self.faults: list[int] = []
        self.calls = 0
        self.media: list[Media] = []
        self.upload_calls = 0
        # HTTP statuses to answer media/upload with, in order, before behaving again.
        self.upload_faults: list[int] = []
        # The corp's members, by userid: {"name", "mobile"}. user/get leaves the mobile out
        # (apps created after mid-2022) unless `legacy_mobiles`.
        self.users: dict[str, dict[str, str]] = {}
        self.legacy_mobiles = False
        self.user_get_calls = 0
        self.mobiles_asked: list[str] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        # The robot's picture files (already encrypted), by path; downloads and HTTP faults.
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.download_faults: list[int] = []
        self.login_codes: dict[str, str] = {}


    def response_url(self) -> str:
        return f"{self.url}/cgi-bin/aibot/response?response_code=rc{next(self._ids)}"

    def serve_file(self, encrypted: bytes) -> str:
        """Serve encrypted bytes the way a robot picture is served; its signed-looking URL."""
        name = f"img{next(self._ids)}"
        self.files[name] = encrypted
        return f"{self.url}/media/{name}?sign=secret-{name}"

    async def close(self) -> None:
        self._hang.set()
        await super().close()

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/gettoken", self._token)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_post("/cgi-bin/webhook/send", self._webhook)
        app.router.add_post("/cgi-bin/aibot/response", self._response)
        app.router.add_get("/media/{name}", self._file)
        app.router.add_get("/cgi-bin/user/get", self._user_get)
        app.router.add_post("/cgi-bin/user/getuserid", self._getuserid)
        app.router.add_get("/cgi-bin/auth/getuserinfo", self._oauth_user)

    def texts(self) -> list[str]:
        return [s.content for s in self.sent if s.msgtype in ("text", "markdown")]

    def media_by_id(self, media_id: str) -> Media:
        return next(m for m in self.media if m.media_id == media_id)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            async with self._changed:
                await self._changed.wait_for(predicate)

    async def _answer(self, body: dict[str, Any]) -> web.Response:
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(body)

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        q = request.query
        if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.secret:
            return await self._answer({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"at-{self.token_requests}"
        self.valid_tokens.add(token)
        return await self._answer({"errcode": 0, "errmsg": "ok", "access_token": token,
                                   "expires_in": self.token_expire})

    def _fault(self) -> dict[str, Any] | None:
        self.calls += 1
        if self.faults:
            return {"errcode": self.faults.pop(0), "errmsg": "fault, hint: [x]"}
        return None

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            self.calls += 1
            return await self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        if (fault := self._fault()) is not None:
            return await self._answer(fault)
        body = await request.json()
        self.send_bodies.append(body)
        if body.get("agentid") != self.agent_id:
            return await self._answer({"errcode": 40056, "errmsg": "invalid agentid"})
        kind = body["msgtype"]
        if body.get("touser") in self.unlicensed:
            return await self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": "",
                                       "unlicenseduser": body["touser"]})
        if kind in ("file", "image"):
            media_id = body[kind]["media_id"]
            if not any(m.media_id == media_id and m.kind == kind for m in self.media):
                return await self._answer({"errcode": 40007, "errmsg": "invalid media_id"})
            self.sent.append(Sent("app", body["touser"], kind, media_id))
        else:
            self.sent.append(Sent("app", body["touser"], kind, body["text"]["content"]))
        return await self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

    async def _upload(self, request: web.Request) -> web.Response:
        self.upload_calls += 1
        if request.query.get("access_token") not in self.valid_tokens:
            return await self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        if self.upload_faults:
            async with self._changed:
                self._changed.notify_all()
            return web.Response(status=self.upload_faults.pop(0), text="bad gateway")
        kind = request.query.get("type", "")
        if kind not in ("file", "image", "voice", "video"):
            return await self._answer({"errcode": 40004, "errmsg": "invalid media type"})
        form = await request.post()
        part = form.get("media")
        if not isinstance(part, web.FileField):
            return await self._answer({"errcode": 41005, "errmsg": "media data missing"})
        data = part.file.read()
        if kind == "image" and not MIN_BYTES <= len(data) <= IMAGE_MAX:
            return await self._answer({"errcode": 40009, "errmsg": "invalid image size"})
        if not MIN_BYTES <= len(data) <= FILE_MAX:
            return await self._answer({"errcode": 40006, "errmsg": "invalid file size"})
        media_id = f"media-{next(self._ids)}"
        self.media.append(Media(kind=kind, name=part.filename, data=data, media_id=media_id))
        return await self._answer({"errcode": 0, "errmsg": "", "type": kind,
                                   "media_id": media_id, "created_at": "1380000000"})

    async def _webhook(self, request: web.Request) -> web.Response:
        if request.query.get("key") not in self.hook_keys:
            return await self._answer({"errcode": 93000, "errmsg": "invalid webhook url"})
        if (fault := self._fault()) is not None:
            return await self._answer(fault)
        body = await request.json()
        kind = body["msgtype"]
        self.sent.append(Sent("webhook", request.query["key"], kind, body[kind]["content"]))
        return await self._answer({"errcode": 0, "errmsg": "ok"})

    async def _response(self, request: web.Request) -> web.Response:
        code = request.query.get("response_code", "")
        self.response_posts.append(code)
        fault = self.response_faults.pop(0) if self.response_faults else ""
        if fault == "hang":
            self.used_responses.add(code)  # WeCom may well have shown it
            async with self._changed:
                self._changed.notify_all()
            await self._hang.wait()
        if fault == "refuse":
            return await self._answer({"errcode": 40008, "errmsg": "invalid message type"})
        if code in self.used_responses:
            # The real errcode for a used response_url was not found documented; any non-zero.
            return await self._answer({"errcode": 600039, "errmsg": "response_url used"})
        self.used_responses.add(code)
        body = await request.json()
        kind = body["msgtype"]
        self.sent.append(Sent("response", code, kind, body[kind]["content"]))
        if fault == "empty":
            async with self._changed:
                self._changed.notify_all()
            return web.Response(status=200, body=b"")
        return await self._answer({"errcode": 0, "errmsg": "ok"})

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        async with self._changed:
            self._changed.notify_all()
        if self.download_faults:
            return web.Response(status=self.download_faults.pop(0), text="fault")
        if name not in self.files or request.query.get("sign") != f"secret-{name}":
            return web.Response(status=404, text="not found")
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _user_get(self, request: web.Request) -> web.Response:
        self.user_get_calls += 1
        if request.query.get("access_token") not in self.valid_tokens:
            return await self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        userid = request.query.get("userid", "")
        user = self.users.get(userid)
        if user is None:
            return await self._answer({"errcode": 60111, "errmsg": "userid not found"})
        body: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "userid": userid,
                                "name": user["name"]}
        if self.legacy_mobiles:
            body["mobile"] = user.get("mobile", "")
        return await self._answer(body)

    async def _getuserid(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return await self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        mobile = str((await request.json()).get("mobile", ""))
        self.mobiles_asked.append(mobile)
        for userid, user in self.users.items():
            if user.get("mobile") == mobile:
                return await self._answer({"errcode": 0, "errmsg": "ok", "userid": userid})
        return await self._answer({"errcode": 46004, "errmsg": "user no exist"})

    # --- OAuth2 (网页授权登录): a code the test issued → the person's userid, once ----------

    def issue_login_code(self, userid: str) -> str:
        code = f"wc-code-{next(self._ids)}"
        self.login_codes[code] = userid
        return code

    async def _oauth_user(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return await self._answer({"errcode": 40014, "errmsg": "invalid access_token"})
        userid = self.login_codes.pop(request.query.get("code", ""), None)
        if userid is None:
            return await self._answer({"errcode": 40029, "errmsg": "invalid code"})
        return await self._answer({"errcode": 0, "errmsg": "ok", "userid": userid,
                                   "user_ticket": "ticket"})
