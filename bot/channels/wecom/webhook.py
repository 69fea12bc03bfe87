"""The aiohttp handlers for the intelligent robot's callback: `GET /wecom/callback` (the URL
check) and `POST /wecom/callback` (messages); and the same pair for the self-built app's
callback, `GET/POST /wecom/app/callback` (XML; private messages to the app).

Verify (signature, timestamp) → decrypt → save to the inbox → 200 with an empty body at once;
the answer goes out later through the response_url. Refusals are 4xx with a short plain-text
reason and write nothing; neither secrets nor bodies are logged. Imports no handlers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import WeComSettings

from .app_message import app_payload, verify_app_message, verify_app_url
from .normalise import PLATFORM, inbox_payload
from .verify import Refused, verify_message, verify_url

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refuse(refused: Refused) -> web.Response:
    log.warning("wecom callback refused (%s): %s", refused.status, refused.reason)
    return web.Response(status=refused.status, text=refused.reason)


async def _read_body(request: web.Request, limit: int) -> bytes | Refused:
    too_big = Refused(413, f"body larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        return too_big
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_big
    return too_big if len(body) > limit else body


def make_handlers(wecom: WeComSettings, max_body: int) -> tuple[Handler, Handler]:
    from bot.app import RUNTIME  # the key lives with the app factory that owns the runtime

    async def url_check(request: web.Request) -> web.StreamResponse:
        outcome = verify_url(wecom, request.query, now=time.time())
        if isinstance(outcome, Refused):
            return _refuse(outcome)
        return web.Response(text=outcome.plaintext)

    async def callback(request: web.Request) -> web.StreamResponse:
        body = await _read_body(request, max_body)
        if isinstance(body, Refused):
            return _refuse(body)
        outcome = verify_message(wecom, request.query, body, now=time.time())
        if isinstance(outcome, Refused):
            return _refuse(outcome)
        # A redelivery (already saved) is answered the same way and changes nothing.
        await request.app[RUNTIME].inbox.save(
            platform=PLATFORM, event_id=outcome.msgid,
            payload=inbox_payload(outcome.message, timestamp=outcome.timestamp))
        return web.Response(status=200, body=b"")

    return url_check, callback


def make_app_handlers(wecom: WeComSettings, max_body: int) -> tuple[Handler, Handler]:
    """The self-built app's callback: verify, decrypt, refuse entity declarations, parse,
    save the decrypted XML to the inbox (deduped on MsgId; events on sender and time), 200
    with an empty body (no passive reply: the answer goes by message/send)."""
    from bot.app import RUNTIME

    async def url_check(request: web.Request) -> web.StreamResponse:
        outcome = verify_app_url(wecom, request.query, now=time.time())
        if isinstance(outcome, Refused):
            return _refuse(outcome)
        return web.Response(text=outcome.plaintext)

    async def callback(request: web.Request) -> web.StreamResponse:
        body = await _read_body(request, max_body)
        if isinstance(body, Refused):
            return _refuse(body)
        outcome = verify_app_message(wecom, request.query, body, now=time.time())
        if isinstance(outcome, Refused):
            return _refuse(outcome)
        await request.app[RUNTIME].inbox.save(
            platform=PLATFORM, event_id=outcome.msgid,
            payload=app_payload(outcome.message["xml"], timestamp=outcome.timestamp))
        return web.Response(status=200, body=b"")

    return url_check, callback
