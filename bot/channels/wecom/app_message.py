"""The self-built app's (自建应用) callback: verifying one request, and its decrypted XML as a
neutral message.

WeCom posts `<xml><ToUserName/><AgentID/><Encrypt/></xml>` to the app's callback URL, signed
like the robot's (WXBizMsgCrypt, ReceiveId = the CorpID). The decrypted message is XML too:
`ToUserName` (CorpID), `FromUserName` (the member's userid — the same userid the intelligent
robot reports as `from.userid`: both are the corp's own member ids), `CreateTime`,
`MsgType` text|image|voice|video|location|link|event, `Content`, `MsgId`, `AgentID`.
XML carrying a DOCTYPE or an entity declaration is refused before any parser sees it; the
rest is parsed with xmltodict (which refuses entities too) and wechatpy's message classes
(CPU only: no wechatpy HTTP on the event loop). The inbox keeps the decrypted XML itself.
Pure (no I/O); imports bot.config, handlers.messages and the package's crypto helpers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError
from zoneinfo import ZoneInfo

import xmltodict

from bot.channels.base import Refused
from bot.config import WeComSettings
from handlers.messages import ImageRef, IncomingMessage, ReplyRoute

from .crypto import DecryptError, decrypt
from .normalise import PLATFORM
from .verify import MAX_ECHOSTR, Echo, Verified, signed_request

if TYPE_CHECKING:
    from wechatpy.messages import BaseMessage

# Inbox event ids of app callbacks live apart from the robot's msgids.
EVENT_PREFIX = "app:"
# An ImageRef of a picture the app received: a plain link, not encrypted (channel.fetch_image).
APP_IMAGE = "app-pic:"
ENTITY = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _no_entities(xml: bytes) -> Refused | None:
    if ENTITY.search(xml):
        return Refused(400, "XML with a DOCTYPE or an entity declaration is refused")
    return None


def verify_app_url(wecom: WeComSettings, query: Mapping[str, str], *,
                   now: float) -> Echo | Refused:
    """GET: the URL check WeCom makes when the app's callback URL is saved."""
    echostr = query.get("echostr", "")
    if not echostr or len(echostr) > MAX_ECHOSTR:
        return Refused(400, "echostr missing or too long")
    signed = signed_request(wecom.app_token, wecom.timestamp_window_s, query, echostr, now)
    if isinstance(signed, Refused):
        return signed
    try:
        plain = decrypt(echostr, wecom.app_encoding_aes_key, wecom.corp_id)
        return Echo(plain.decode("utf-8"))
    except (DecryptError, UnicodeDecodeError):
        return Refused(400, "cannot decrypt echostr")


def _xml_fields(xml: bytes | str) -> dict[str, Any] | None:
    """The children of `<xml>` as a dict, or None when it is not that shape."""
    try:
        doc = xmltodict.parse(xml)
    except (ExpatError, ValueError, TypeError):
        return None
    root = doc.get("xml") if isinstance(doc, dict) else None
    return root if isinstance(root, dict) else None


def parse_app_xml(xml: str) -> BaseMessage | None:
    """wechatpy's typed message for decrypted app XML (None: not a message)."""
    if ENTITY.search(xml.encode("utf-8")):
        return None
    # Imported on the first app message: wechatpy brings requests along (17 MiB), which a
    # server without the self-built app never needs.
    from wechatpy.enterprise import parse_message

    try:
        return parse_message(xml)
    except (ExpatError, KeyError, ValueError, TypeError, AttributeError):
        return None


def event_id_of(message: BaseMessage) -> str | None:
    """What the inbox dedupes on: MsgId; an event has none, so its sender and time."""
    if message.type == "event":
        sender, created = message.source, message.time
        if not sender or not created:
            return None
        return f"{EVENT_PREFIX}ev:{sender}:{created}:{getattr(message, 'event', '')}"
    return f"{EVENT_PREFIX}{message.id}" if message.id else None


def verify_app_message(wecom: WeComSettings, query: Mapping[str, str], body: bytes, *,
                       now: float) -> Verified | Refused:
    """POST: one encrypted XML callback of the self-built app → `Verified` whose message is
    `{"xml": <decrypted XML>}` and whose msgid is the inbox event id."""
    refused = _no_entities(body)
    if refused is not None:
        return refused
    outer = _xml_fields(body)
    encrypted = outer.get("Encrypt") if outer else None
    if not isinstance(encrypted, str) or not encrypted:
        return Refused(400, "body is not <xml>…<Encrypt>…</Encrypt></xml>")
    signed = signed_request(wecom.app_token, wecom.timestamp_window_s, query, encrypted, now)
    if isinstance(signed, Refused):
        return signed
    try:
        plain = decrypt(encrypted, wecom.app_encoding_aes_key, wecom.corp_id)
    except DecryptError:
        return Refused(400, "cannot decrypt the body with the app's EncodingAESKey")
    refused = _no_entities(plain)
    if refused is not None:
        return refused
    try:
        xml = plain.decode("utf-8")
    except UnicodeDecodeError:
        return Refused(400, "decrypted body is not UTF-8")
    message = parse_app_xml(xml)
    event_id = event_id_of(message) if message is not None else None
    if message is None or event_id is None or not message.source:
        return Refused(400, "decrypted body is not a WeCom app message")
    return Verified(message={"xml": xml}, msgid=event_id, timestamp=signed)


def app_payload(xml: str, *, timestamp: int) -> dict[str, Any]:
    """What the inbox keeps of a verified app callback."""
    return {"via": "app", "timestamp": timestamp, "xml": xml}


def _content(message: BaseMessage) -> tuple[str, list[str]] | None:
    """(text, picture links) of an app message; None for events (nothing to answer)."""
    kind = message.type
    if kind == "event":
        return None
    if kind == "text":
        return str(getattr(message, "content", "") or ""), []
    if kind == "voice":  # WeCom's transcription, when the app has it
        return str(getattr(message, "recognition", "") or ""), []
    if kind == "image":
        url = str(getattr(message, "image", "") or "")
        return "", ([url] if url.startswith(("https://", "http://")) else [])
    # video, location, link and anything newer: no words the bot can use (a short hint).
    return "", []


def normalise_app(payload: Mapping[str, Any], *, tz: ZoneInfo) -> IncomingMessage | None:
    """A private chat with the app: the person is the chat (chat_id = their userid, as in a
    robot single chat, so a question the bot asked privately finds its answer here)."""
    message = parse_app_xml(str(payload.get("xml", "")))
    if message is None or not message.source:
        return None
    content = _content(message)
    event_id = event_id_of(message)
    if content is None or event_id is None:
        return None
    text, urls = content
    try:
        received = datetime.fromtimestamp(int(message.time or payload.get("timestamp", 0)),
                                          tz=tz)
    except (TypeError, ValueError, OverflowError):
        received = datetime.now(tz)
    userid = str(message.source)
    return IncomingMessage(
        platform=PLATFORM, chat_id=userid, chat_type="p2p", sender_id=userid,
        text=" ".join(text.split()), message_id=event_id, received_at=received,
        app_id=str(getattr(message, "agent", "") or ""), addressed=True,
        images=tuple(ImageRef(ref=APP_IMAGE + url) for url in urls),
        # No response_url here: an answer goes by the app, to the person.
        reply_route=ReplyRoute(person=userid),
    )
