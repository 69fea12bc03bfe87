"""The one path of every platform's callback: body limit → verify → refuse, answer, or save
to the inbox and acknowledge.

A platform supplies only its `verify` (signature, timestamp, decryption, shape) and how its
refusals look; reading the body within the limit, logging a refusal without the body, the
inbox save and the answer are done here once. Nothing is saved for a refused request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.appkeys import RUNTIME
from bot.channels.base import Refused
from storage.db import JSONText, is_database_fault

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Answer:
    """Answered at once and saved nowhere (a URL check, a challenge)."""

    response: web.StreamResponse


@dataclass(frozen=True)
class Accept:
    """An event to keep: saved to the inbox under its id, then acknowledged with `ack`."""

    event_id: str
    payload: dict[str, Any] | JSONText  # JSONText: encoded, nothing in it to clean
    ack: web.StreamResponse


Verdict = Refused | Answer | Accept
Verify = Callable[[web.Request, bytes], Verdict]


def json_refusal(refused: Refused) -> web.Response:
    return web.json_response({"error": refused.reason}, status=refused.status)


def text_refusal(refused: Refused) -> web.Response:
    return web.Response(status=refused.status, text=refused.reason)


async def read_body(request: web.Request, limit: int) -> bytes | Refused:
    """The body, or a 413 before more than `limit` bytes are read."""
    too_big = Refused(413, f"body larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        return too_big
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_big
    return too_big if len(body) > limit else body


def webhook(platform: str, verify: Verify, *, max_body: int,
            refusal: Callable[[Refused], web.Response] = json_refusal) -> Handler:
    """An aiohttp handler for one callback URL of `platform`."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await read_body(request, max_body)
        verdict = body if isinstance(body, Refused) else verify(request, body)
        if isinstance(verdict, Refused):
            log.warning("%s callback refused (%s): %s", platform, verdict.status, verdict.reason)
            return refusal(verdict)
        if isinstance(verdict, Answer):
            return verdict.response
        # A redelivery (already saved) is acknowledged the same way and changes nothing.
        try:
            await request.app[RUNTIME].inbox.save(platform=platform, event_id=verdict.event_id,
                                                  payload=verdict.payload)
        except Exception as exc:  # not saved, so not acknowledged: the platform sends it again
            if not (is_database_fault(exc) or isinstance(exc, SQLAlchemyError | OSError)):
                raise
            log.error("%s callback not saved (%s): answered 503 for a redelivery", platform,
                      type(exc).__name__)
            return web.json_response({"error": "storage unavailable, try again"}, status=503)
        return verdict.ack

    return handle
