"""WeCom (企业微信): the intelligent robot's callback route and the channel, wired by two calls.

`add_wecom_routes(app, settings)` at app construction adds `GET/POST /wecom/callback` when
the robot's token and EncodingAESKey are configured, and `GET/POST /wecom/app/callback` when
the self-built app's `app_token` and `app_encoding_aes_key` (and `corp_id`) are.
`start_wecom(runtime)` after the runtime is open registers the `WeComChannel`; it returns the
closer. Modules: crypto
(WXBizMsgCrypt), verify (one request → verified message), webhook (aiohttp handlers),
normalise (payload → IncomingMessage), app_message (the app's XML callback), api (token,
message/send, webhook/send, response_url), limits (splitting), markdown (escaping),
responses (delivery facts kept in the database), channel. See docs/wecom.md.
Must not import handlers beyond handlers.messages (and handlers.texts, for the one note the
channel itself writes: a webhook removed from its group, to the admins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.base import Adapter
from bot.config import ConfigError, Settings

from .channel import WeComChannel
from .crypto import DecryptError, aes_key
from .normalise import PLATFORM
from .webhook import make_app_handlers, make_handlers

if TYPE_CHECKING:  # the runtime imports the worker and handlers; we only need its type
    from bot.runtime import Runtime

__all__ = ["ADAPTER", "PLATFORM", "WeComChannel", "add_wecom_routes", "start_wecom"]

CALLBACK_PATH = "/wecom/callback"
APP_CALLBACK_PATH = "/wecom/app/callback"


def add_wecom_routes(app: web.Application, settings: Settings) -> None:
    wecom = settings.wecom
    if wecom is None:
        return
    if wecom.app_token and wecom.app_encoding_aes_key:
        if not wecom.corp_id:
            raise ConfigError("[wecom] app_token needs corp_id (the app's ReceiveId)")
        try:
            aes_key(wecom.app_encoding_aes_key)
        except DecryptError as exc:
            raise ConfigError(f"[wecom] app_encoding_aes_key: {exc}") from exc
        app_check, app_callback = make_app_handlers(wecom, settings.server.max_body_bytes)
        app.router.add_get(APP_CALLBACK_PATH, app_check)
        app.router.add_post(APP_CALLBACK_PATH, app_callback)
    if not (wecom.token and wecom.encoding_aes_key):
        return
    try:
        aes_key(wecom.encoding_aes_key)
    except DecryptError as exc:
        raise ConfigError(f"[wecom] encoding_aes_key: {exc}") from exc
    url_check, callback = make_handlers(wecom, settings.server.max_body_bytes)
    app.router.add_get(CALLBACK_PATH, url_check)
    app.router.add_post(CALLBACK_PATH, callback)


async def start_wecom(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    wecom = runtime.settings.wecom
    if wecom is None:
        async def nothing() -> None:
            return None
        return nothing
    channel = WeComChannel(wecom, factory=runtime.factory, now=runtime.clock.now,
                           bot_name=runtime.settings.bot.name,
                           timezone=runtime.settings.bot.timezone,
                           blobs=runtime.blobs)
    runtime.add_channel(channel)
    return channel.close


ADAPTER = Adapter(name=PLATFORM, add_routes=add_wecom_routes, start=start_wecom)
