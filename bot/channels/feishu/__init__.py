"""Feishu (飞书): webhook routes, the channel, and long connections, wired by two calls.

`add_feishu_routes(app, settings)` at app construction adds `POST /feishu/events` (and the
same handler at `/feishu/card`) for apps in `mode = "webhook"`. `start_feishu(runtime)`
after the runtime is open registers the `FeishuChannel` and starts a long connection for
each app in `mode = "long_connection"`; it returns the closer. Modules: crypto (AES,
signature), verify (one request → verified event), webhook (aiohttp handler), ingest (save to
the inbox), normalise (payload → IncomingMessage), api (token, send, reply, update), limits,
cards, channel, longconn (reconnect loop), wsclient + wsframe (native long connection).
Must not import handlers beyond handlers.messages and handlers.texts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.base import Adapter
from bot.config import ConfigError, FeishuApp, Settings
from handlers import texts

from .cards import toast
from .channel import FeishuChannel
from .longconn import Answer, LongConnection
from .normalise import CARD_ACTION, PLATFORM, inbox_payload
from .webhook import make_handler
from .wsclient import feishu_ws_source

if TYPE_CHECKING:  # the runtime imports the worker and handlers; we only need its type
    from bot.runtime import Runtime

__all__ = ["ADAPTER", "PLATFORM", "FeishuChannel", "add_feishu_routes", "start_feishu"]

MODES = ("webhook", "long_connection")
EVENTS_PATH = "/feishu/events"
CARD_PATH = "/feishu/card"


def _check_modes(settings: Settings) -> None:
    for app in settings.feishu:
        if app.mode not in MODES:
            raise ConfigError(f"[feishu] {app.app_id}: mode must be one of {MODES}")


def add_feishu_routes(app: web.Application, settings: Settings) -> None:
    _check_modes(settings)
    webhook_apps = [a for a in settings.feishu if a.mode == "webhook"]
    if not webhook_apps:
        return
    handler = make_handler(webhook_apps, settings.server.max_body_bytes)
    app.router.add_post(EVENTS_PATH, handler)
    app.router.add_post(CARD_PATH, handler)


def long_connection_sink(runtime: Runtime, app: FeishuApp) -> Callable[
        [dict[str, Any]], Awaitable[Answer]]:
    """Events from the long connection arrive decrypted and unsigned over an authenticated
    socket; they are checked for shape and app, then saved like webhook events."""
    async def sink(event: dict[str, Any]) -> Answer:
        header = event.get("header") if isinstance(event.get("header"), dict) else None
        if header is None or header.get("app_id", app.app_id) != app.app_id:
            return {}
        event_id, event_type = header.get("event_id"), header.get("event_type")
        if not isinstance(event_id, str) or not event_id:
            return {}
        await runtime.inbox.save(platform=PLATFORM, event_id=event_id,
                                 payload=inbox_payload(app.app_id, event, via="long_connection"))
        return toast(texts.CARD_UNDO_TOAST) if event_type == CARD_ACTION else {}

    return sink


async def start_feishu(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    settings = runtime.settings
    if not settings.feishu:
        async def nothing() -> None:
            return None
        return nothing
    _check_modes(settings)
    channel = FeishuChannel(settings.feishu, bot_name=settings.bot.name,
                            timezone=settings.bot.timezone, blobs=runtime.blobs)
    runtime.add_channel(channel)
    stop = asyncio.Event()
    tasks = []
    for app in settings.feishu:
        if app.mode != "long_connection":
            continue
        source = feishu_ws_source(app, channel.session)
        conn = LongConnection(name=app.app_id, source=source, config=source.config,
                              sink=long_connection_sink(runtime, app))
        tasks.append(asyncio.create_task(conn.run(stop), name=f"feishu-ws-{app.app_id}"))

    async def close() -> None:
        stop.set()
        await asyncio.gather(*tasks)
        await channel.close()

    return close


ADAPTER = Adapter(name=PLATFORM, add_routes=add_feishu_routes, start=start_feishu)
