"""Stored Feishu inbox payloads → neutral `IncomingMessage`s (runs in the worker).

The payload is `{"app_id", "via", "event"}`, `event` being the decrypted schema 2.0 event.
Handled: im.message.receive_v1 (text, rich-text post, image), im.chat.member.bot.added_v1
and card.action.trigger (the 撤销 button). Pictures (an `image` message; `img` elements of a
post) become `ImageRef("message_id/image_key")`, fetched later by the channel. Anything else →
None: acknowledged, nothing to answer.

Which mention is the bot: the one whose open_id is `bot_open_id`; when that is not
configured, the one named like the bot (`[bot] name`), else the mention the text starts
with (in a group, the bot receives only messages that @mention it, and people put that
mention first). Other mentions stay in the text as "@name".

Imports only handlers.messages; must not import aiohttp or the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.messages import ImageRef, IncomingMessage

PLATFORM = "feishu"
MESSAGE = "im.message.receive_v1"
BOT_ADDED = "im.chat.member.bot.added_v1"
CARD_ACTION = "card.action.trigger"


@dataclass(frozen=True)
class BotIdentity:
    """How to recognise our own bot among a message's mentions, per app."""

    open_id: str = ""
    name: str = ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(ms: Any, tz: ZoneInfo) -> datetime:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, tz=tz)
    except (TypeError, ValueError):
        return datetime.now(tz)


def _post_text(content: dict[str, Any]) -> str:
    """Rich text: the title, then each paragraph's text, link and @ elements in order."""
    if "content" not in content:
        # Some senders wrap the post in a locale ({"zh_cn": {...}}); take the first one.
        content = next((v for v in content.values() if isinstance(v, dict)), {})
    lines = [str(content["title"])] if content.get("title") else []
    for paragraph in content.get("content") or []:
        parts = []
        for element in paragraph if isinstance(paragraph, list) else []:
            tag = _dict(element).get("tag")
            if tag in ("text", "a"):
                parts.append(str(element.get("text", "")))
            elif tag == "at":
                parts.append(str(element.get("user_id", "")))
        lines.append("".join(parts))
    return "\n".join(lines)


def _post_images(content: dict[str, Any]) -> list[str]:
    """The image keys of a post's `img` elements, in order."""
    if "content" not in content:
        content = next((v for v in content.values() if isinstance(v, dict)), {})
    keys = []
    for paragraph in content.get("content") or []:
        for element in paragraph if isinstance(paragraph, list) else []:
            element = _dict(element)
            if element.get("tag") == "img" and element.get("image_key"):
                keys.append(str(element["image_key"]))
    return keys


def image_ref(message_id: str, image_key: str) -> ImageRef:
    return ImageRef(ref=f"{message_id}/{image_key}")


def _bot_key(mentions: list[dict[str, Any]], text: str, bot: BotIdentity) -> str | None:
    if bot.open_id:
        for m in mentions:
            if _dict(m.get("id")).get("open_id") == bot.open_id:
                return str(m.get("key", ""))
        return None
    if bot.name:
        for m in mentions:
            if m.get("name") == bot.name:
                return str(m.get("key", ""))
    for m in mentions:
        key = str(m.get("key", ""))
        if key and text.lstrip().startswith(key):
            return key
    return None


def _strip(text: str, mentions: list[dict[str, Any]], bot_key: str | None) -> str:
    # Longest keys first, so that @_user_1 does not eat the start of @_user_10.
    for m in sorted(mentions, key=lambda m: -len(str(m.get("key", "")))):
        key = str(m.get("key", ""))
        if key:
            text = text.replace(key, "" if key == bot_key else f"@{m.get('name', '')}")
    return " ".join(text.split())


def _message(app_id: str, event: dict[str, Any], bot: BotIdentity,
             tz: ZoneInfo) -> IncomingMessage | None:
    body = _dict(event.get("event"))
    sender = _dict(body.get("sender"))
    if sender.get("sender_type") not in (None, "user"):
        return None  # another bot, or our own message echoed back
    message = _dict(body.get("message"))
    try:
        content = _dict(json.loads(str(message.get("content", ""))))
    except ValueError:
        return None
    kind = message.get("message_type")
    keys: list[str] = []
    if kind == "text":
        raw = str(content.get("text", ""))
    elif kind == "post":
        raw = _post_text(content)
        keys = _post_images(content)
    elif kind == "image" and content.get("image_key"):
        raw = ""
        keys = [str(content["image_key"])]
    else:
        return None
    mentions = [m for m in message.get("mentions") or [] if isinstance(m, dict)]
    bot_key = _bot_key(mentions, raw, bot)
    text = _strip(raw, mentions, bot_key)
    open_id = _dict(sender.get("sender_id")).get("open_id")
    if not open_id or not message.get("chat_id"):
        return None
    message_id = str(message.get("message_id", ""))
    return IncomingMessage(
        platform=PLATFORM, chat_id=str(message["chat_id"]),
        chat_type="p2p" if message.get("chat_type") == "p2p" else "group",
        sender_id=str(open_id), text=text, message_id=message_id,
        received_at=_time(message.get("create_time"), tz), app_id=app_id,
        addressed=bot_key is not None,
        images=tuple(image_ref(message_id, k) for k in keys) if message_id else (),
    )


def _bot_added(app_id: str, event: dict[str, Any], tz: ZoneInfo) -> IncomingMessage | None:
    body = _dict(event.get("event"))
    if not body.get("chat_id"):
        return None
    return IncomingMessage(
        platform=PLATFORM, chat_id=str(body["chat_id"]), chat_type="group",
        sender_id=str(_dict(body.get("operator_id")).get("open_id", "")), text="",
        message_id="", received_at=_time(_dict(event.get("header")).get("create_time"), tz),
        app_id=app_id, kind="bot_added",
    )


def _card_action(app_id: str, event: dict[str, Any], tz: ZoneInfo) -> IncomingMessage | None:
    body = _dict(event.get("event"))
    value = _dict(body.get("action")).get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    value = _dict(value)
    context = _dict(body.get("context"))
    open_id = _dict(body.get("operator")).get("open_id")
    if value.get("intent") != "undo" or not value.get("undo") or not open_id:
        return None
    return IncomingMessage(
        platform=PLATFORM, chat_id=str(context.get("open_chat_id", "")),
        # The callback does not say what kind of chat it was; "group" only makes the
        # dispatcher look the chat up, which is harmless for a private chat.
        chat_type="group", sender_id=str(open_id), text="",
        message_id=str(context.get("open_message_id", "")),
        received_at=_time(_dict(event.get("header")).get("create_time"), tz), app_id=app_id,
        kind="action", action={"intent": "undo", "undo": str(value["undo"])},
    )


def inbox_payload(app_id: str, event: dict[str, Any], *, via: str) -> dict[str, Any]:
    """What the inbox keeps of a verified event: the app it came for and the event itself."""
    return {"app_id": app_id, "via": via, "event": event}


def inbox_payload_text(app_id: str, event_text: str, *, via: str) -> str:
    """`inbox_payload` as JSON text around the event's own text (not encoded again)."""
    return (f'{{"app_id": {json.dumps(app_id)}, "via": {json.dumps(via)}, '
            f'"event": {event_text}}}')


def normalise(payload: Mapping[str, Any], bots: Mapping[str, BotIdentity],
              tz: ZoneInfo) -> IncomingMessage | None:
    event = _dict(payload.get("event"))
    app_id = str(payload.get("app_id", ""))
    event_type = _dict(event.get("header")).get("event_type")
    if event_type == MESSAGE:
        return _message(app_id, event, bots.get(app_id, BotIdentity()), tz)
    if event_type == BOT_ADDED:
        return _bot_added(app_id, event, tz)
    if event_type == CARD_ACTION:
        return _card_action(app_id, event, tz)
    return None
