"""WeCom's two callbacks on the shared path (bot.channels.webhook): the intelligent robot's
`GET/POST /wecom/callback` (JSON) and the self-built app's `GET/POST /wecom/app/callback`
(XML; private messages to the app).

GET is the URL check (answer the decrypted echostr); POST is verified, decrypted, saved and
answered 200 with an empty body at once — the answer goes out later (response_url, or the
app's message/send). Refusals are 4xx with a short plain-text reason. Imports no handlers.
"""

from __future__ import annotations

import time

from aiohttp import web

from bot.channels.base import Refused
from bot.channels.webhook import Accept, Answer, Handler, Verdict, text_refusal, webhook
from bot.config import WeComSettings

from .app_message import app_payload, verify_app_message, verify_app_url
from .normalise import PLATFORM, inbox_payload
from .verify import Echo, verify_message, verify_url


def _echo(outcome: Echo | Refused) -> Verdict:
    return outcome if isinstance(outcome, Refused) else Answer(web.Response(
        text=outcome.plaintext))


def make_handlers(wecom: WeComSettings, max_body: int) -> tuple[Handler, Handler]:
    def url_check(request: web.Request, body: bytes) -> Verdict:
        return _echo(verify_url(wecom, request.query, now=time.time()))

    def message(request: web.Request, body: bytes) -> Verdict:
        outcome = verify_message(wecom, request.query, body, now=time.time())
        if isinstance(outcome, Refused):
            return outcome
        return Accept(outcome.msgid, inbox_payload(outcome.message, timestamp=outcome.timestamp),
                      web.Response(status=200, body=b""))

    return (webhook(PLATFORM, url_check, max_body=max_body, refusal=text_refusal),
            webhook(PLATFORM, message, max_body=max_body, refusal=text_refusal))


def make_app_handlers(wecom: WeComSettings, max_body: int) -> tuple[Handler, Handler]:
    """The self-built app's callback: entity declarations refused before parsing; the
    decrypted XML saved (deduped on MsgId; events on sender and time); no passive reply."""
    def url_check(request: web.Request, body: bytes) -> Verdict:
        return _echo(verify_app_url(wecom, request.query, now=time.time()))

    def message(request: web.Request, body: bytes) -> Verdict:
        outcome = verify_app_message(wecom, request.query, body, now=time.time())
        if isinstance(outcome, Refused):
            return outcome
        return Accept(outcome.msgid,
                      app_payload(outcome.message["xml"], timestamp=outcome.timestamp),
                      web.Response(status=200, body=b""))

    return (webhook(PLATFORM, url_check, max_body=max_body, refusal=text_refusal),
            webhook(PLATFORM, message, max_body=max_body, refusal=text_refusal))
