"""Turns one callback request (query + raw body) into a verified message, the URL-check
answer, or a refusal with an HTTP status and a reason.

The signature and the timestamp are checked before anything is decrypted or trusted, and
nothing here writes anywhere. Pure (no I/O); imports only bot.config and the crypto helpers.
Reasons never contain secrets or the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.base import Refused
from bot.config import WeComSettings

from .crypto import DecryptError, decrypt, signature_ok

# The intelligent robot's ReceiveId is empty (an app's would be the CorpID).
ROBOT_RECEIVE_ID = ""
MAX_ECHOSTR = 1024
MAX_MSGID = 128


@dataclass(frozen=True)
class Verified:
    message: dict[str, Any]
    msgid: str
    timestamp: int


@dataclass(frozen=True)
class Echo:
    plaintext: str


def signed_request(token: str, window_s: int, query: Mapping[str, str], encrypted: str,
                   now: float) -> Refused | int:
    """The request timestamp when the signature (made with `token`) holds and the request is
    fresh; shared by the robot's callback and the self-built app's."""
    ts, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not signature_ok(token, ts, nonce, encrypted, query.get("msg_signature", "")):
        return Refused(401, "msg_signature does not match")
    try:
        stamp = int(ts)
    except ValueError:
        return Refused(401, "timestamp is not a number")
    # The request's timestamp, not the message's: a retry after an outage comes with a new one.
    if abs(now - stamp) > window_s:
        return Refused(401, "timestamp outside the accepted window")
    return stamp


def _signed(wecom: WeComSettings, query: Mapping[str, str], encrypted: str,
            now: float) -> Refused | int:
    return signed_request(wecom.token, wecom.timestamp_window_s, query, encrypted, now)


def verify_url(wecom: WeComSettings, query: Mapping[str, str], *, now: float) -> Echo | Refused:
    """GET: the URL check WeCom makes when the callback URL is saved."""
    echostr = query.get("echostr", "")
    if not echostr or len(echostr) > MAX_ECHOSTR:
        return Refused(400, "echostr missing or too long")
    signed = _signed(wecom, query, echostr, now)
    if isinstance(signed, Refused):
        return signed
    try:
        return Echo(decrypt(echostr, wecom.encoding_aes_key, ROBOT_RECEIVE_ID).decode("utf-8"))
    except (DecryptError, UnicodeDecodeError):
        return Refused(400, "cannot decrypt echostr")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def verify_message(wecom: WeComSettings, query: Mapping[str, str], body: bytes, *,
                   now: float) -> Verified | Refused:
    """POST: one `{"encrypt": …}` callback of the intelligent robot."""
    outer = _json_object(body)
    if outer is None or not isinstance(outer.get("encrypt"), str):
        return Refused(400, "body is not {\"encrypt\": …}")
    encrypted = outer["encrypt"]
    signed = _signed(wecom, query, encrypted, now)
    if isinstance(signed, Refused):
        return signed
    try:
        message = _json_object(decrypt(encrypted, wecom.encoding_aes_key, ROBOT_RECEIVE_ID))
    except DecryptError:
        return Refused(400, "cannot decrypt the body with the configured EncodingAESKey")
    if message is None:
        return Refused(400, "decrypted body is not a JSON object")
    msgid = message.get("msgid")
    if not isinstance(msgid, str) or not msgid or len(msgid) > MAX_MSGID:
        return Refused(400, "msgid missing or invalid")
    return Verified(message=message, msgid=msgid, timestamp=signed)
