"""Stored WeCom inbox payloads → neutral `IncomingMessage`s (runs in the worker).

The payload is `{"via": "callback", "timestamp", "message"}`, `message` being the decrypted
robot JSON `{msgid, aibotid, chatid, chattype: group|single, from: {userid}, response_url,
msgtype, …}` (智能机器人 → 接收消息). Every kind the robot receives is answered:
- `text` (`text.content`); a `quote` beside it is the message replied to: context only, the
  message's own words are parsed;
- `voice` (single chats): `voice.content` is WeCom's transcription, parsed like text;
- `mixed` (text with pictures, `mixed.msg_item[]`): its text items joined are the text, its
  pictures `ImageRef(url)`; `image` (single chats): `image.url`;
- `file`, `video`: no words and nothing the bot keeps → an empty message, which gets the
  short hint of the reply table;
- `event` (enter_chat, …) and `stream` (refreshes of a streamed answer, which we never
  start) → None: stored, not answered (docs/decisions.md).
In a group the robot hears only messages that @mention it, so every group message is
`addressed`. The picture URLs point at files encrypted with the robot's EncodingAESKey
(channel.py). The response_url goes on the message's `reply_route` (with its lifetime and, in
a single chat, the person), which the worker copies into each answer's outbox row.
The self-built app's XML payloads (`via: app`) are normalised in app_message.py.

Imports only handlers.messages; must not import aiohttp or the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.messages import ImageRef, IncomingMessage, ReplyRoute

PLATFORM = "wecom"
# The response_url lives an hour from the message; leave a margin for the POST itself.
RESPONSE_URL_TTL = timedelta(minutes=55)
# The leading mention ends at the first space (WeCom puts a plain or a no-break space after it).
LEADING_MENTION = re.compile(r"^\s*@\S+[\s\u00a0\u2005]*")


def inbox_payload(message: dict[str, Any], *, timestamp: int) -> dict[str, Any]:
    """What the inbox keeps of a verified callback: the message and when it was pushed."""
    return {"via": "callback", "timestamp": timestamp, "message": message}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def strip_robot_mention(text: str, robot_name: str = "") -> str:
    """In a group the robot only hears messages that @mention it. The mention of its name is
    removed wherever it stands (clients put it first or, when typed last, at the end);
    a message without it loses its first @word, which is then the robot's under another name."""
    mention = f"@{robot_name}" if robot_name else ""
    if mention and mention in text:
        stripped = text.replace(mention, " ")
    else:
        stripped = LEADING_MENTION.sub("", text, count=1)
    return " ".join(stripped.split())


def _content(message: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(raw text, picture URLs) of a message; None for kinds that get no answer."""
    kind = message.get("msgtype")
    if kind in ("text", "voice"):
        return str(_dict(message.get(kind)).get("content", "")), []
    if kind == "image":
        url = _dict(message.get("image")).get("url")
        return ("", [url]) if isinstance(url, str) and url else None
    if kind in ("file", "video"):
        return "", []
    if kind != "mixed":
        return None
    texts, urls = [], []
    for item in _dict(message.get("mixed")).get("msg_item") or []:
        item = _dict(item)
        if item.get("msgtype") == "text":
            texts.append(str(_dict(item.get("text")).get("content", "")))
        elif item.get("msgtype") == "image":
            url = _dict(item.get("image")).get("url")
            if isinstance(url, str) and url:
                urls.append(url)
    return " ".join(texts), urls


def normalise(payload: Mapping[str, Any], *, robot_name: str = "",
              tz: ZoneInfo) -> IncomingMessage | None:
    message = _dict(payload.get("message"))
    content = _content(message)
    if content is None:
        return None
    raw, urls = content
    userid = _dict(message.get("from")).get("userid")
    if not isinstance(userid, str) or not userid:
        return None
    group = message.get("chattype") == "group"
    text = strip_robot_mention(raw, robot_name) if group else " ".join(raw.split())
    # A single chat has no chatid: the person is the chat.
    chat_id = str(message.get("chatid") or "") if group else str(message.get("chatid") or userid)
    if not chat_id:
        return None
    try:
        received = datetime.fromtimestamp(int(payload.get("timestamp", 0)), tz=tz)
    except (TypeError, ValueError, OverflowError):
        received = datetime.now(tz)
    url = message.get("response_url")
    route = ReplyRoute(url=url if isinstance(url, str) else "", lifetime=RESPONSE_URL_TTL,
                       person="" if group else userid)
    return IncomingMessage(
        platform=PLATFORM, chat_id=chat_id, chat_type="group" if group else "p2p",
        sender_id=userid, text=text, message_id=str(message.get("msgid", "")),
        received_at=received, app_id=str(message.get("aibotid", "")), addressed=True,
        images=tuple(ImageRef(ref=url) for url in urls), reply_route=route,
    )
