"""WeCom's server API as the bot uses it: the self-built app's access token and message/send,
a group robot's webhook/send, and the one POST to an intelligent robot's response_url.

Every call returns an `ApiResult` that says whether to retry or give up; nothing here raises
for platform errors. Error codes are from WeCom's published pages (see docs/wecom.md).
Imports only bot.config; secrets, webhook keys, tokens and response_urls never appear in a log
line or an error (response_urls carry a credential in their query).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.channels.base import ApiResult, Attempt, with_token
from bot.channels.download import ImageGone, ImageUnavailable, read_limited
from bot.channels.tokens import CachedToken
from bot.config import WeComSettings

log = logging.getLogger(__name__)

TOKEN_INVALID = {40014, 42001}
BUSY = {45009: "frequency limit", 45033: "too many concurrent calls", -1: "system busy"}
# Fixed by the operator, not by waiting; retried anyway so the queue drains after the fix.
OPERATOR = {60020: "server IP is not on the app's trusted IP list",
            40001: "app secret is wrong", 40013: "corp_id is wrong"}
# Refresh this long before WeCom says the token expires, so no request carries a dying one.
# 45009 says nothing about when to come back; the limits are per minute.
BUSY_RETRY_S = 60.0
TIMEOUT = aiohttp.ClientTimeout(total=10)
# webhook/send: the group robot (消息推送) was removed from its group; only people fix that.
WEBHOOK_REMOVED = 93000
# message/send drops a part identical to one sent to the same person within this window; short,
# so that a reminder repeated on purpose (the same words a day later) still arrives.
DUPLICATE_CHECK_S = 60


def classify(status: int, data: Any) -> ApiResult:
    """One HTTP answer → what delivery should do."""
    code = data.get("errcode") if isinstance(data, dict) else None
    if status == 200 and code == 0:
        bad = [data.get(k) for k in ("invaliduser", "invalidparty", "invalidtag")]
        if any(bad):
            return ApiResult(ok=False, error="recipient unknown or outside the app's scope")
        if data.get("unlicenseduser"):
            # Accepted by the API but never shown: the person has no WeCom interface licence.
            return ApiResult(ok=False, error="recipient has no WeCom licence for apps "
                                             "(unlicenseduser); ask the admin to assign one")
        return ApiResult(ok=True)
    where = f"HTTP {status}, errcode {code}"
    if code == WEBHOOK_REMOVED:
        return ApiResult(ok=False, data={"errcode": code},
                         error=f"the group robot webhook was removed from its group ({where})")
    if code in BUSY:
        return ApiResult(ok=False, retry=True, retry_after=BUSY_RETRY_S,
                         error=f"{BUSY[code]} ({where})")
    if code in TOKEN_INVALID:
        return ApiResult(ok=False, retry=True, token_invalid=True, error=f"token ({where})")
    if code in OPERATOR:
        log.error("wecom: %s (%s)", OPERATOR[code], where)
        return ApiResult(ok=False, retry=True, error=f"{OPERATOR[code]} ({where})")
    if status >= 500 or code is None:
        return ApiResult(ok=False, retry=True, error=f"server error ({where})")
    msg = str(data.get("errmsg", ""))[:120] if isinstance(data, dict) else ""
    # Cut at the first comma: WeCom appends a hint URL and request ids after it.
    return ApiResult(ok=False, error=f"refused ({where}): {msg.split(',')[0]}")


class TokenError(Exception):
    """gettoken refused or failed; the reason, never the secret."""


class AccessToken(CachedToken):
    """The self-built app's access_token, refreshed ahead of expiry, one refresh at a time."""

    def __init__(self, wecom: WeComSettings, session: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.wecom = wecom
        self.session = session

    async def request(self) -> tuple[str, float]:
        params = {"corpid": self.wecom.corp_id, "corpsecret": self.wecom.app_secret}
        try:
            async with self.session.get(self.wecom.api_base + "/cgi-bin/gettoken",
                                        params=params, timeout=TIMEOUT) as resp:
                data = await resp.json(content_type=None)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise TokenError(f"gettoken failed: {type(exc).__name__}") from exc
        if not isinstance(data, dict) or data.get("errcode", 0) != 0 or not data.get(
                "access_token"):
            code = data.get("errcode") if isinstance(data, dict) else None
            raise TokenError(f"gettoken refused: HTTP {status}, errcode {code}")
        return str(data["access_token"]), float(data.get("expires_in", 7200))


async def post_json(session: aiohttp.ClientSession, url: str, body: dict[str, Any], *,
                    params: dict[str, str] | None = None) -> ApiResult:
    try:
        async with session.post(url, params=params, json=body, timeout=TIMEOUT) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            return classify(resp.status, data)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")


class WeComApi:
    def __init__(self, wecom: WeComSettings, session: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wecom = wecom
        self.session = session
        self.token = AccessToken(wecom, session, clock)

    async def send_to_user(self, userid: str, text: str) -> ApiResult:
        """message/send as the self-built app; an invalid token is dropped, fetched once and
        the call made once more."""
        body = {"touser": userid, "msgtype": "text", "agentid": self.wecom.agent_id,
                "text": {"content": text},
                # A re-sent part after a crash or a partial failure is dropped by WeCom.
                "enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_CHECK_S}
        return await self.authorised(lambda token: post_json(
            self.session, self.wecom.api_base + "/cgi-bin/message/send", body,
            params={"access_token": token}))

    async def authorised(self, attempt: Attempt) -> ApiResult:
        """`attempt(token)` with the app's token (bot.channels.base.with_token)."""
        return await with_token(self.token.get, self.token.drop, attempt, failed=TokenError)

    async def send_to_webhook(self, key: str, text: str) -> ApiResult:
        return await post_json(self.session, self.wecom.api_base + "/cgi-bin/webhook/send",
                               {"msgtype": "text", "text": {"content": text}},
                               params={"key": key})

    async def respond(self, response_url: str, markdown: str,
                      within: aiohttp.ClientTimeout = TIMEOUT) -> ApiResult:
        """The one POST a response_url takes. Its answers are not documented: a 200 whose
        body has no errcode (or errcode 0) counts as sent. Never retried by the caller: after
        a timeout the URL may well have been used."""
        body = {"msgtype": "markdown", "markdown": {"content": markdown}}
        try:
            async with self.session.post(response_url, json=body, timeout=within) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")
        code = data.get("errcode") if isinstance(data, dict) else None
        if status == 200 and code in (None, 0):
            return ApiResult(ok=True)
        return ApiResult(ok=False, error=f"response_url refused (HTTP {status}, errcode {code})")


# --- pictures the robot received ------------------------------------------------------------


async def fetch_file(session: aiohttp.ClientSession, url: str, limit: int) -> bytes:
    """The (still encrypted) bytes behind a robot message's picture URL. The URL carries a
    signature in its query, so it never appears in an error or a log line."""
    if not url.startswith(("https://", "http://")):
        raise ImageGone("not an http(s) URL")
    try:
        async with session.get(url, timeout=TIMEOUT) as resp:
            if resp.status == 429 or resp.status >= 500:
                raise ImageUnavailable(f"HTTP {resp.status}")
            if resp.status != 200:
                # 403/404: the link expired (WeCom's links are short-lived) or never was.
                raise ImageGone(f"HTTP {resp.status}")
            return await read_limited(resp, limit)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise ImageUnavailable(f"network: {type(exc).__name__}") from exc


# --- files and images out: media/upload, then message/send (the self-built app) -------------

# A 20 MB file over a school's uplink needs longer than a message's 10 s.
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120)


def media_form(name: str, data: bytes) -> aiohttp.FormData:
    """The multipart body of media/upload: field `media`, the filename people will see (kept
    UTF-8, not percent-encoded) and its length."""
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("media", data, filename=name, content_type="application/octet-stream")
    return form


class WeComMedia:
    """Temporary media of the self-built app (media_id valid three days) and the file and image
    messages that carry them; shares the app's token cache, separate from incoming media."""

    def __init__(self, api: WeComApi) -> None:
        self.api = api

    async def _as_app(self, attempt: Callable[[str], Awaitable[ApiResult]]) -> ApiResult:
        """One call with the app's token; an invalid token is dropped, fetched once more and
        the call repeated once."""
        return await self.api.authorised(attempt)

    async def upload(self, kind: str, name: str, data: bytes) -> ApiResult:
        """media/upload?type=file|image → `data.media_id`."""
        url = self.api.wecom.api_base + "/cgi-bin/media/upload"

        async def attempt(token: str) -> ApiResult:
            try:
                async with self.api.session.post(
                        url, params={"access_token": token, "type": kind},
                        data=media_form(name, data), timeout=UPLOAD_TIMEOUT) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    result = classify(resp.status, body)
            except (TimeoutError, aiohttp.ClientError) as exc:
                return ApiResult(ok=False, retry=True,
                                 error=f"upload network: {type(exc).__name__}")
            if result.ok:
                return ApiResult(ok=True, data=body if isinstance(body, dict) else {})
            return ApiResult(ok=False, retry=result.retry, retry_after=result.retry_after,
                             token_invalid=result.token_invalid, error=f"upload: {result.error}")

        return await self._as_app(attempt)

    async def send(self, userid: str, kind: str, media_id: str) -> ApiResult:
        """message/send of a file or image to one person."""
        body = {"touser": userid, "msgtype": kind, "agentid": self.api.wecom.agent_id,
                kind: {"media_id": media_id},
                "enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_CHECK_S}
        url = self.api.wecom.api_base + "/cgi-bin/message/send"

        async def attempt(token: str) -> ApiResult:
            return await post_json(self.api.session, url, body, params={"access_token": token})

        return await self._as_app(attempt)


# --- who is this: user/get and user/getuserid of the self-built app (bot.identify) ----------
# user/get gives the name (apps created after mid-2022 get no mobile from it); getuserid
# turns a mobile into a userid. Both need the members in the app's visible range. Mistaken
# getuserid calls count against the app (too many and it is refused for a day), so the
# caller asks only for the roster's candidates. Answers hold mobiles: never logged.

UNKNOWN_USER = {60111: "userid not found", 46004: "no member with that mobile"}


def _answer(status: int, data: Any) -> ApiResult:
    code = data.get("errcode") if isinstance(data, dict) else None
    if code in UNKNOWN_USER:
        return ApiResult(ok=False, error=f"{UNKNOWN_USER[code]} (errcode {code})")
    result = classify(status, data)
    if not result.ok:
        # The errcode, never the errmsg: it may echo the mobile that was asked for.
        return ApiResult(ok=False, retry=result.retry, retry_after=result.retry_after,
                         token_invalid=result.token_invalid,
                         error=f"user lookup: HTTP {status}, errcode {code}")
    return ApiResult(ok=True, data=data if isinstance(data, dict) else {})


async def _as_app(api: WeComApi, method: str, path: str, *, params: dict[str, str],
                  body: dict[str, Any] | None = None) -> ApiResult:
    """One call with the app's token; an invalid token is dropped and the call made once
    more."""
    async def attempt(token: str) -> ApiResult:
        try:
            async with api.session.request(method, api.wecom.api_base + path,
                                           params={**params, "access_token": token},
                                           json=body, timeout=TIMEOUT) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                return _answer(resp.status, data)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")

    return await api.authorised(attempt)


async def get_user(api: WeComApi, userid: str) -> ApiResult:
    """user/get → `data` with `name` (and `mobile` only for apps older than mid-2022)."""
    return await _as_app(api, "GET", "/cgi-bin/user/get", params={"userid": userid})


async def get_userid_by_mobile(api: WeComApi, mobile: str) -> ApiResult:
    """user/getuserid → `data.userid` of the member with that mobile."""
    return await _as_app(api, "POST", "/cgi-bin/user/getuserid", params={},
                         body={"mobile": mobile})
