"""The aiohttp handler for Feishu's webhook: `POST /feishu/events` (events and card button
callbacks alike; `/feishu/card` is the same handler for consoles that want a separate URL).

Verify (signature, timestamp, token) → save to the inbox → answer at once. The parsing and
the handlers run later in the worker. Refusals are 4xx JSON `{"error": reason}` and write
nothing; neither secrets nor bodies are logged. Imports handlers.texts only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.config import FeishuApp
from handlers import texts

from .cards import toast
from .normalise import CARD_ACTION, PLATFORM, inbox_payload
from .verify import Challenge, Refused, verify_request

log = logging.getLogger(__name__)


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("feishu webhook refused (%s): %s", status, reason)
    return web.json_response({"error": reason}, status=status)


async def _read_body(request: web.Request, limit: int) -> bytes | web.Response:
    if request.content_length is not None and request.content_length > limit:
        return _refuse(413, f"body larger than {limit} bytes")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, f"body larger than {limit} bytes")
    if len(body) > limit:
        return _refuse(413, f"body larger than {limit} bytes")
    return body


def make_handler(
    apps: Sequence[FeishuApp], max_body: int,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    from bot.app import RUNTIME  # the key lives with the app factory that owns the runtime

    async def feishu_events(request: web.Request) -> web.StreamResponse:
        body = await _read_body(request, max_body)
        if isinstance(body, web.Response):
            return body
        outcome = verify_request(apps, request.headers, body, now=time.time())
        if isinstance(outcome, Refused):
            return _refuse(outcome.status, outcome.reason)
        if isinstance(outcome, Challenge):
            return web.json_response({"challenge": outcome.challenge})
        await request.app[RUNTIME].inbox.save(
            platform=PLATFORM, event_id=outcome.event_id,
            payload=inbox_payload(outcome.app.app_id, outcome.event, via="webhook"))
        if outcome.event_type == CARD_ACTION:
            return web.json_response(toast(texts.CARD_UNDO_TOAST))
        return web.json_response({})

    return feishu_events
