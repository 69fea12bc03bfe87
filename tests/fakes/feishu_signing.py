"""Test helper: Feishu events built, encrypted and signed as Feishu documents it.

Written independently of bot.channels.feishu (shares no code with it), so a mistake in the
bot's crypto cannot cancel out against the same mistake here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def encrypt(plaintext: bytes, encrypt_key: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    pad = 16 - len(plaintext) % 16
    padded = plaintext + bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(padded) + enc.finalize()).decode()


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256(f"{timestamp}{nonce}{encrypt_key}".encode() + body).hexdigest()


def signed_body(
    event: dict[str, Any], *, encrypt_key: str, timestamp: float | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of an encrypted, signed POST as Feishu sends it."""
    body = json.dumps({"encrypt": encrypt(json.dumps(event).encode(), encrypt_key)}).encode()
    ts = str(int(timestamp if timestamp is not None else time.time()))
    nonce = nonce or uuid.uuid4().hex[:16]
    headers = {
        "Content-Type": "application/json",
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": sign(ts, nonce, encrypt_key, body),
    }
    return headers, body


def _header(event_type: str, *, app_id: str, token: str, event_id: str | None) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "event_type": event_type,
        "create_time": str(int(time.time() * 1000)),
        "token": token,
        "app_id": app_id,
        "tenant_key": "tenant",
    }


def text_event(
    text: str, *, app_id: str, token: str, chat_id: str = "oc_group",
    open_id: str = "ou_user", event_id: str | None = None, message_id: str | None = None,
    mentions: list[dict[str, Any]] | None = None, chat_type: str = "group",
) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": _header("im.message.receive_v1", app_id=app_id, token=token,
                          event_id=event_id),
        "event": {
            "sender": {"sender_id": {"open_id": open_id, "union_id": "on_x", "user_id": "u"},
                       "sender_type": "user", "tenant_key": "tenant"},
            "message": {
                "message_id": message_id or f"om_{uuid.uuid4().hex[:12]}",
                "chat_id": chat_id, "chat_type": chat_type, "message_type": "text",
                "create_time": str(int(time.time() * 1000)),
                "content": json.dumps({"text": text}, ensure_ascii=False),
                "mentions": mentions or [],
            },
        },
    }


def card_action_event(
    value: dict[str, Any], *, app_id: str, token: str, open_id: str, message_id: str,
    chat_id: str = "oc_group", event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": _header("card.action.trigger", app_id=app_id, token=token,
                          event_id=event_id),
        "event": {
            "operator": {"open_id": open_id, "tenant_key": "tenant"},
            "token": "c-callback",
            "action": {"tag": "button", "value": value},
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": chat_id},
        },
    }


def bot_added_event(*, app_id: str, token: str, chat_id: str, open_id: str) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": _header("im.chat.member.bot.added_v1", app_id=app_id, token=token,
                          event_id=None),
        "event": {"chat_id": chat_id, "operator_id": {"open_id": open_id}, "name": "群"},
    }


def image_event(image_key: str, *, app_id: str, token: str, chat_id: str = "oc_group",
                open_id: str = "ou_user", event_id: str | None = None,
                message_id: str | None = None, chat_type: str = "group") -> dict[str, Any]:
    """A picture on its own (a group one reaches the bot only with im:message.group_msg)."""
    event = text_event("", app_id=app_id, token=token, chat_id=chat_id, open_id=open_id,
                       event_id=event_id, message_id=message_id, chat_type=chat_type)
    event["event"]["message"]["message_type"] = "image"
    event["event"]["message"]["content"] = json.dumps({"image_key": image_key})
    return event


def post_event(paragraphs: list[list[dict[str, Any]]], *, app_id: str, token: str,
               chat_id: str = "oc_group", open_id: str = "ou_user", title: str = "",
               event_id: str | None = None, message_id: str | None = None,
               mentions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Rich text: paragraphs of elements such as {"tag": "text", "text": …} and
    {"tag": "img", "image_key": …}."""
    event = text_event("", app_id=app_id, token=token, chat_id=chat_id, open_id=open_id,
                       event_id=event_id, message_id=message_id, mentions=mentions)
    event["event"]["message"]["message_type"] = "post"
    event["event"]["message"]["content"] = json.dumps(
        {"title": title, "content": paragraphs}, ensure_ascii=False)
    return event
