"""Feishu's open API for one app: tenant token cache, send, reply, update a card.

Every call returns an `ApiResult` that says whether to retry, after how long, or to give up;
nothing here raises for platform errors. Error codes are from the platform notes
(docs/feishu.md and the platforms' own pages); the token-error codes are the SDKs' and were not
confirmed in official pages. Imports only bot.config; the secret never appears in a log line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.channels.base import ApiResult, Attempt, with_token
from bot.channels.download import ImageGone, ImageUnavailable, read_limited
from bot.channels.tokens import CachedToken
from bot.config import FeishuApp

log = logging.getLogger(__name__)

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
RATE_LIMITED = {99991400, 230020}
PERMANENT = {
    230002: "bot is not in the chat",
    230013: "user is outside the app's availability scope",
    230025: "message content too long",
    230035: "no permission to send (muted?)",
    232009: "chat has been dissolved",
}
TOKEN_INVALID = {99991661, 99991663, 99991664, 99991668, 99991677}
# Refresh this long before Feishu says the token expires, so no request carries a dying one.
TIMEOUT = aiohttp.ClientTimeout(total=10)


class TokenError(Exception):
    """The token endpoint refused or failed; the reason, never the secret."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class TenantToken(CachedToken):
    """One app's tenant_access_token, refreshed ahead of expiry, one refresh at a time."""

    def __init__(self, app: FeishuApp, session: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.app = app
        self.session = session

    async def request(self) -> tuple[str, float]:
        url = self.app.api_base + TOKEN_PATH
        body = {"app_id": self.app.app_id, "app_secret": self.app.app_secret}
        try:
            async with self.session.post(url, json=body, timeout=TIMEOUT) as resp:
                data = await resp.json(content_type=None)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise TokenError(f"token request failed: {type(exc).__name__}") from exc
        if not isinstance(data, dict) or data.get("code") != 0:
            code = data.get("code") if isinstance(data, dict) else None
            raise TokenError(f"token refused: HTTP {status}, code {code}",
                             permanent=status < 500 and code not in RATE_LIMITED)
        return str(data["tenant_access_token"]), float(data.get("expire", 7200))


def _reset_after(headers: Any) -> float | None:
    try:
        return max(0.0, float(headers.get("x-ogw-ratelimit-reset", "")))
    except (TypeError, ValueError):
        return None


def classify(status: int, data: Any, headers: Any) -> ApiResult:
    """One HTTP answer of the message API → what delivery should do."""
    code = data.get("code") if isinstance(data, dict) else None
    if status == 200 and code == 0:
        return ApiResult(ok=True, data=data.get("data") or {})
    where = f"HTTP {status}, code {code}"
    if status == 429 or code in RATE_LIMITED:
        return ApiResult(ok=False, retry=True, retry_after=_reset_after(headers) or 1.0,
                         error=f"rate limited ({where})")
    if code in PERMANENT:
        return ApiResult(ok=False, error=f"{PERMANENT[code]} ({where})")
    if code in TOKEN_INVALID:
        return ApiResult(ok=False, retry=True, token_invalid=True, error=f"token ({where})")
    if status >= 500 or code is None:
        return ApiResult(ok=False, retry=True, error=f"server error ({where})")
    msg = str(data.get("msg", ""))[:200] if isinstance(data, dict) else ""
    # A 4xx with a code we do not know is a request Feishu will keep refusing.
    return ApiResult(ok=False, error=f"refused ({where}): {msg}")


class FeishuApi:
    def __init__(self, app: FeishuApp, session: aiohttp.ClientSession,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.session = session
        self.token = TenantToken(app, session, clock)

    async def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: dict[str, Any]) -> ApiResult:
        """One authorised call; an invalid token is dropped and the call made once more."""
        return await self.authorised(
            lambda token: self._once(method, path, params, body, token))

    async def authorised(self, attempt: Attempt) -> ApiResult:
        """`attempt(token)` with this app's token (bot.channels.base.with_token)."""
        return await with_token(self._token, self.token.drop, attempt, failed=TokenError)

    async def _token(self) -> str:
        try:
            return await self.token.get()
        except TokenError as exc:
            # Even a refused secret is retried: once the operator fixes the config and
            # restarts, the queued messages still go out (delivery gives up eventually).
            if exc.permanent:
                log.error("feishu app %s: %s", self.app.app_id, exc)
            raise

    async def _once(self, method: str, path: str, params: dict[str, str] | None,
                    body: dict[str, Any], token: str) -> ApiResult:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self.session.request(method, self.app.api_base + path, params=params,
                                            json=body, headers=headers,
                                            timeout=TIMEOUT) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                return classify(resp.status, data, resp.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")

    async def send(self, *, receive_id_type: str, receive_id: str, msg_type: str,
                   content: dict[str, Any], uuid: str) -> ApiResult:
        return await self.call(
            "POST", "/open-apis/im/v1/messages", params={"receive_id_type": receive_id_type},
            body={"receive_id": receive_id, "msg_type": msg_type,
                  "content": json.dumps(content, ensure_ascii=False), "uuid": uuid},
        )

    async def reply(self, *, message_id: str, msg_type: str, content: dict[str, Any],
                    uuid: str) -> ApiResult:
        return await self.call(
            "POST", f"/open-apis/im/v1/messages/{message_id}/reply",
            body={"msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False),
                  "uuid": uuid},
        )

    async def update_card(self, *, message_id: str, card: dict[str, Any]) -> ApiResult:
        return await self.call(
            "PATCH", f"/open-apis/im/v1/messages/{message_id}",
            body={"content": json.dumps(card, ensure_ascii=False)},
        )


# --- pictures in received messages (获取消息中的资源文件) -------------------------------------

RESOURCE_PATH = "/open-apis/im/v1/messages/{message_id}/resources/{file_key}"


async def fetch_message_image(api: FeishuApi, message_id: str, image_key: str,
                              limit: int) -> bytes:
    """The bytes of a picture someone sent, by its message and image key (scope
    `im:resource`). An invalid token is dropped and the call made once more; a refusal for
    good raises ImageGone, anything that may pass ImageUnavailable."""
    path = RESOURCE_PATH.format(message_id=message_id, file_key=image_key)
    for _ in range(2):
        try:
            token = await api.token.get()
        except TokenError as exc:
            raise ImageUnavailable(str(exc)) from exc
        try:
            async with api.session.get(api.app.api_base + path, params={"type": "image"},
                                       headers={"Authorization": f"Bearer {token}"},
                                       timeout=TIMEOUT) as resp:
                if resp.status == 200 and "json" not in (resp.content_type or ""):
                    return await read_limited(resp, limit)
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                result = classify(resp.status, data, resp.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ImageUnavailable(f"network: {type(exc).__name__}") from exc
        if result.token_invalid:
            api.token.drop(token)
            continue
        if result.retry:
            raise ImageUnavailable(result.error)
        raise ImageGone(result.error or "refused")
    raise ImageUnavailable("token refused twice")


# --- files and images out (POST /open-apis/im/v1/files and /images, scope im:resource) -------

# A 30 MB file over a school's uplink needs longer than a message's 10 s.
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120)
# Feishu's file_type for an upload, by the name's extension; anything else is a "stream".
FILE_TYPES = {".xls": "xls", ".xlsx": "xls", ".doc": "doc", ".docx": "doc", ".ppt": "ppt",
              ".pptx": "ppt", ".pdf": "pdf", ".mp4": "mp4", ".opus": "opus"}
# Upload refusals that no retry cures. 234006/234010 were not confirmed in official pages
# (our channel checks the documented limits — file ≤ 30 MB, image ≤ 10 MB, never empty —
# before uploading, so these are a second line).
UPLOAD_PERMANENT = {
    234006: "file too large for Feishu",
    234010: "empty file",
    234011: "not an image Feishu can read",
}


def file_type_for(name: str) -> str:
    dot = name.rfind(".")
    return FILE_TYPES.get(name[dot:].lower(), "stream") if dot >= 0 else "stream"


def upload_form(kind: str, name: str, data: bytes) -> aiohttp.FormData:
    """The multipart body of one upload; names stay UTF-8 (Feishu shows them as sent)."""
    form = aiohttp.FormData(quote_fields=False)
    if kind == "image":
        form.add_field("image_type", "message")
        form.add_field("image", data, filename=name, content_type="application/octet-stream")
    else:
        form.add_field("file_type", file_type_for(name))
        form.add_field("file_name", name)
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


class FeishuUploads:
    """Uploads for one app, sharing its token cache; a separate class so the incoming-file
    side can grow next to it without the two touching."""

    def __init__(self, api: FeishuApi) -> None:
        self.api = api

    async def upload(self, kind: str, name: str, data: bytes) -> ApiResult:
        """File → `data.file_key`, image → `data.image_key`; an invalid token is dropped and
        the upload made once more, like every other call."""
        path = "/open-apis/im/v1/images" if kind == "image" else "/open-apis/im/v1/files"
        return await self.api.authorised(
            lambda token: self._once(path, upload_form(kind, name, data), token))

    async def _once(self, path: str, form: aiohttp.FormData, token: str) -> ApiResult:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self.api.session.post(self.api.app.api_base + path, data=form,
                                             headers=headers, timeout=UPLOAD_TIMEOUT) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                result = classify(resp.status, data, resp.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")
        code = data.get("code") if isinstance(data, dict) else None
        if not result.ok and code in UPLOAD_PERMANENT:
            return ApiResult(ok=False, error=f"upload refused: {UPLOAD_PERMANENT[code]} "
                                             f"(HTTP {resp.status}, code {code})")
        if not result.ok:
            return ApiResult(ok=False, retry=result.retry, retry_after=result.retry_after,
                             token_invalid=result.token_invalid,
                             error=f"upload: {result.error}")
        return result



# --- who is this: GET /open-apis/contact/v3/users/:user_id (bot.identify) -------------------
# Scopes: contact:user.base:readonly (name), contact:user.phone:readonly (mobile),
# contact:user.employee_id:readonly (user_id); a field whose scope is missing is left out.

CONTACT_USER_PATH = "/open-apis/contact/v3/users/"


async def get_contact_user(api: FeishuApi, open_id: str) -> ApiResult:
    """The contact record of the user behind an open_id → `data` = the `user` object; a user
    outside the app's contact scope, or unknown, is a refusal (not retried). The answer holds
    a mobile: callers never log `data`."""
    return await api.authorised(lambda token: _get_user_once(api, open_id, token))


async def _get_user_once(api: FeishuApi, open_id: str, token: str) -> ApiResult:
    from urllib.parse import quote

    headers = {"Authorization": f"Bearer {token}"}
    params = {"user_id_type": "open_id"}
    try:
        async with api.session.get(api.app.api_base + CONTACT_USER_PATH + quote(open_id, safe=""),
                                   params=params, headers=headers, timeout=TIMEOUT) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            result = classify(resp.status, data, resp.headers)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return ApiResult(ok=False, retry=True, error=f"network: {type(exc).__name__}")
    if not result.ok:
        code = data.get("code") if isinstance(data, dict) else None
        # Only the status and code: a refusal's message may echo what was asked.
        return ApiResult(ok=False, retry=result.retry, token_invalid=result.token_invalid,
                         error=f"contact user: HTTP {resp.status}, code {code}")
    user = (result.data or {}).get("user")
    return ApiResult(ok=True, data=user if isinstance(user, dict) else {})
