"""Feishu's webhook, `POST /feishu/events` (events and card button callbacks alike;
`/feishu/card` is the same handler for consoles that want a separate URL): what Feishu's
callback adds to the shared path (bot.channels.webhook) — its verification, the URL check's
challenge, and a card press answered with a toast. Imports handlers.texts only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiohttp import web

from bot.channels.base import Refused
from bot.channels.webhook import Accept, Answer, Handler, Verdict, webhook
from bot.config import FeishuApp
from handlers import texts
from handlers.cleantext import json_text_if_clean
from storage.db import JSONText

from .cards import toast
from .normalise import CARD_ACTION, PLATFORM, inbox_payload, inbox_payload_text
from .verify import Challenge, verify_request


def _empty_ack() -> web.Response:
    """`{}`: the answer to nearly every event, without encoding it each time."""
    return web.Response(body=b"{}", content_type="application/json")


def make_handler(apps: Sequence[FeishuApp], max_body: int) -> Handler:
    def verify(request: web.Request, body: bytes) -> Verdict:
        outcome = verify_request(apps, request.headers, body, now=time.time())
        if isinstance(outcome, Refused):
            return outcome
        if isinstance(outcome, Challenge):
            return Answer(web.json_response({"challenge": outcome.challenge}))
        ack = (web.json_response(toast(texts.CARD_UNDO_TOAST))
               if outcome.event_type == CARD_ACTION else _empty_ack())
        # The event's text as Feishu wrote it, unless a string in it needs cleaning.
        text = json_text_if_clean(outcome.text) if outcome.text else None
        payload = (JSONText(inbox_payload_text(outcome.app.app_id, text, via="webhook"))
                   if text else inbox_payload(outcome.app.app_id, outcome.event, via="webhook"))
        return Accept(outcome.event_id, payload, ack)

    return webhook(PLATFORM, verify, max_body=max_body)
