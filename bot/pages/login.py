"""Signing in inside the app, where the platform's web login is configured.

WeCom OAuth2 (网页授权): the app's menu opens /p/login/wecom, WeCom sends the browser back
with a `code`, and `GET /cgi-bin/auth/getuserinfo` turns it into the person's userid.
Feishu web login: /p/login/feishu, back with a `code`, `POST /open-apis/authen/v1/oidc/
access_token` (with the app's token) gives a user token, `GET /open-apis/authen/v1/user_info`
the open_id. Either id is looked up in the roster's identities, like a chat message's sender.
A random `state`, kept in a short-lived cookie, ties the answer to the browser that asked.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.pages import html
from storage.db import transaction
from storage.pages import open_session
from storage.roster import member_by_identity

if TYPE_CHECKING:  # routes builds the logins; they answer through its pages
    from bot.pages.routes import Pages

log = logging.getLogger(__name__)

STATE_COOKIE = "jl_state"
WECOM_AUTHORIZE = "https://open.weixin.qq.com/connect/oauth2/authorize"
TIMEOUT = aiohttp.ClientTimeout(total=10)
NOT_ON_ROSTER = "没有在名册中找到你的账号；请在聊天里给教联助手发“看板”，或联系管理员。"
LOGIN_FAILED = "登录没有成功，请关闭页面后重新打开；也可以在聊天里给教联助手发“看板”。"


class LoginError(Exception):
    """The platform refused the code; the reason, never a token."""


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    data = await response.json(content_type=None)
    if not isinstance(data, dict):
        raise LoginError(f"HTTP {response.status}: not a JSON object")
    return data


async def wecom_userid(settings: Settings, http: aiohttp.ClientSession, code: str) -> str:
    wecom = settings.wecom
    assert wecom is not None
    async with http.get(wecom.api_base + "/cgi-bin/gettoken", timeout=TIMEOUT,
                        params={"corpid": wecom.corp_id, "corpsecret": wecom.app_secret}) as r:
        token = await _json(r)
    if token.get("errcode", 0) != 0 or not token.get("access_token"):
        raise LoginError(f"gettoken errcode {token.get('errcode')}")
    async with http.get(wecom.api_base + "/cgi-bin/auth/getuserinfo", timeout=TIMEOUT,
                        params={"access_token": token["access_token"], "code": code}) as r:
        user = await _json(r)
    if user.get("errcode", 0) != 0 or not user.get("userid"):
        raise LoginError(f"getuserinfo errcode {user.get('errcode')}")
    return str(user["userid"])


async def feishu_open_id(settings: Settings, http: aiohttp.ClientSession, code: str) -> str:
    app = settings.feishu[0]
    async with http.post(app.api_base + "/open-apis/auth/v3/app_access_token/internal",
                         json={"app_id": app.app_id, "app_secret": app.app_secret},
                         timeout=TIMEOUT) as r:
        token = await _json(r)
    if token.get("code") != 0 or not token.get("app_access_token"):
        raise LoginError(f"app_access_token code {token.get('code')}")
    bearer = {"Authorization": f"Bearer {token['app_access_token']}"}
    async with http.post(app.api_base + "/open-apis/authen/v1/oidc/access_token",
                         json={"grant_type": "authorization_code", "code": code},
                         headers=bearer, timeout=TIMEOUT) as r:
        user_token = await _json(r)
    data = user_token.get("data") or {}
    if user_token.get("code") != 0 or not data.get("access_token"):
        raise LoginError(f"oidc access_token code {user_token.get('code')}")
    async with http.get(app.api_base + "/open-apis/authen/v1/user_info", timeout=TIMEOUT,
                        headers={"Authorization": f"Bearer {data['access_token']}"}) as r:
        info = await _json(r)
    open_id = (info.get("data") or {}).get("open_id")
    if info.get("code") != 0 or not open_id:
        raise LoginError(f"user_info code {info.get('code')}")
    return str(open_id)


Exchange = Callable[[Settings, aiohttp.ClientSession, str], Awaitable[str]]


class Login:
    """The two legs of one platform's login: send the browser to the platform, take it back."""

    def __init__(self, pages: Pages, platform: str, exchange: Exchange) -> None:
        self.pages = pages
        self.platform = platform
        self.exchange = exchange
        self.settings: Settings = pages.settings
        self.back = f"{self.settings.pages.public_url}/p/auth/{platform}"

    def authorize_url(self, state: str) -> str:
        if self.platform == "wecom":
            wecom = self.settings.wecom
            assert wecom is not None
            query = urlencode({"appid": wecom.corp_id, "redirect_uri": self.back,
                               "response_type": "code", "scope": "snsapi_base",
                               "state": state, "agentid": wecom.agent_id})
            return f"{WECOM_AUTHORIZE}?{query}#wechat_redirect"
        app = self.settings.feishu[0]
        query = urlencode({"app_id": app.app_id, "redirect_uri": self.back, "state": state})
        return f"{app.api_base}/open-apis/authen/v1/authorize?{query}"

    async def start(self, request: web.Request) -> web.Response:
        state = secrets.token_urlsafe(16)
        response = web.HTTPFound(self.authorize_url(state))
        response.set_cookie(STATE_COOKIE, state, path="/p/auth/", httponly=True,
                            secure=self.pages.secure, samesite="Lax", max_age=600)
        raise response

    async def finish(self, request: web.Request) -> web.Response:
        state = request.cookies.get(STATE_COOKIE, "")
        code = request.query.get("code", "")
        if not state or not code or not secrets.compare_digest(state,
                                                               request.query.get("state", "")):
            return self.pages.page(html.notice("教共体看板", LOGIN_FAILED), status=403)
        try:
            async with aiohttp.ClientSession() as http:
                external_id = await self.exchange(self.settings, http, code)
        except (LoginError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("pages: %s login failed: %s", self.platform, exc)
            return self.pages.page(html.notice("教共体看板", LOGIN_FAILED), status=403)
        runtime = self.pages.runtime(request)
        async with transaction(runtime.factory) as session:
            member = await member_by_identity(session=session, platform=self.platform,
                                              external_id=external_id)
            if member is None or member.id is None or not member.active:
                return self.pages.page(html.notice("教共体看板", NOT_ON_ROSTER), status=403)
            token = await open_session(session=session, member_id=member.id,
                                       now=self.pages.now(request),
                                       lifetime=self.pages.session_lifetime)
        response = self.pages.signed_in(token)
        response.del_cookie(STATE_COOKIE, path="/p/auth/")
        raise response


def add_login_routes(app: web.Application, pages: Any) -> None:
    """Only the platforms whose login is switched on in `[pages]`."""
    settings: Settings = pages.settings
    chosen: list[tuple[str, Exchange]] = []
    if settings.pages.wecom_login:
        chosen.append(("wecom", wecom_userid))
    if settings.pages.feishu_login:
        chosen.append(("feishu", feishu_open_id))
    for platform, exchange in chosen:
        login = Login(pages, platform, exchange)
        app.router.add_get(f"/p/login/{platform}", login.start)
        app.router.add_get(f"/p/auth/{platform}", login.finish)
