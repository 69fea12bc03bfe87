"""Turns one webhook request (headers + raw body) into a verified event, a URL-check answer,
or a refusal with an HTTP status and a reason.

Order matters: the signature is checked before the body is decrypted or trusted, and nothing
here writes anywhere. Pure (no I/O); imports only bot.config and the crypto helpers. Reasons
never contain secrets or the body.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.base import Refused
from bot.config import FeishuApp

from .crypto import DecryptError, decrypt, signature_ok

TIMESTAMP = "X-Lark-Request-Timestamp"
NONCE = "X-Lark-Request-Nonce"
SIGNATURE = "X-Lark-Signature"


@dataclass(frozen=True)
class Verified:
    app: FeishuApp
    event: dict[str, Any]
    event_id: str
    event_type: str
    # The event's JSON text as it came (decrypted): the inbox keeps it without re-encoding.
    text: str = ""


@dataclass(frozen=True)
class Challenge:
    challenge: str


Outcome = Verified | Challenge | Refused

_UNDECRYPTABLE = "cannot decrypt the body with the configured Encrypt Key"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _json_object(raw: bytes | str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _text(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _signed_app(
    apps: Sequence[FeishuApp], headers: Mapping[str, str], body: bytes,
) -> FeishuApp | None:
    ts, nonce, given = (headers.get(TIMESTAMP, ""), headers.get(NONCE, ""),
                        headers.get(SIGNATURE, ""))
    for app in apps:
        if app.encrypt_key and signature_ok(ts, nonce, app.encrypt_key, body, given):
            return app
    return None


def _fresh(app: FeishuApp, headers: Mapping[str, str], now: float) -> bool:
    # The request timestamp, not the event's create_time: Feishu re-pushes old events for
    # hours after an outage, each push with a new timestamp, and those must get through.
    try:
        ts = float(headers.get(TIMESTAMP, ""))
    except ValueError:
        return False
    return abs(now - ts) <= app.timestamp_window_s


def _url_check(apps: Sequence[FeishuApp], body: dict[str, Any]) -> Outcome:
    token = str(body.get("token", ""))
    for app in apps:
        if app.verification_token and _same(token, app.verification_token):
            return Challenge(str(body.get("challenge", "")))
    return Refused(403, "verification token does not match")


def verify_request(
    apps: Sequence[FeishuApp], headers: Mapping[str, str], body: bytes, *, now: float,
) -> Outcome:
    """Verify one POST for any of `apps` (those served by this URL)."""
    if not apps:
        return Refused(404, "no Feishu app is configured for webhooks")
    outer = _json_object(body)
    if outer is None:
        return Refused(400, "body is not a JSON object")
    signed = headers.get(SIGNATURE) is not None
    if "encrypt" in outer:
        keyed = [a for a in apps if a.encrypt_key]
        if not keyed:
            return Refused(400, "encrypted body but no Encrypt Key is configured")
        if signed:
            app = _signed_app(keyed, headers, body)
            if app is None:
                return Refused(401, "signature does not match")
            if not _fresh(app, headers, now):
                return Refused(401, "request timestamp outside the accepted window")
            keyed = [app]
        return _decrypted(keyed, str(outer["encrypt"]), signed=signed)
    if outer.get("type") == "url_verification":
        # Feishu's URL check is never signed; the verification token is all it carries.
        return _url_check(apps, outer)
    plain_apps = [a for a in apps if not a.encrypt_key]
    if not plain_apps:
        return Refused(401, "unencrypted, unsigned event but an Encrypt Key is configured")
    return _event(plain_apps, outer, _text(body) or "")


def _decrypted(keyed: Sequence[FeishuApp], encrypted: str, *, signed: bool) -> Outcome:
    for app in keyed:
        try:
            text = _text(decrypt(encrypted, app.encrypt_key))
        except DecryptError:
            continue
        inner = None if text is None else _json_object(text)
        if text is None or inner is None:
            # Unsigned (a URL check), the refusal must not tell a padding error from a
            # bad plaintext: that difference would let a forger decrypt a captured body.
            return Refused(400, "decrypted body is not a JSON object" if signed
                           else _UNDECRYPTABLE)
        if inner.get("type") == "url_verification":
            return _url_check([app], inner)
        if not signed:
            return Refused(401, "event is not signed")
        return _event([app], inner, text)
    return Refused(400, _UNDECRYPTABLE)


def _event(apps: Sequence[FeishuApp], event: dict[str, Any], text: str) -> Outcome:
    header = event.get("header")
    if event.get("schema") != "2.0" or not isinstance(header, dict):
        return Refused(400, "only schema 2.0 events are accepted")
    app_id = str(header.get("app_id", ""))
    matching = [a for a in apps if not app_id or a.app_id == app_id]
    if not matching:
        return Refused(403, "event is for another app")
    app = matching[0]
    if not app.verification_token and not app.encrypt_key:
        return Refused(403, "app has neither a verification token nor an Encrypt Key")
    if app.verification_token and not _same(str(header.get("token", "")),
                                            app.verification_token):
        return Refused(403, "verification token does not match")
    event_id = header.get("event_id")
    event_type = header.get("event_type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        return Refused(400, "header.event_id missing or invalid")
    if not isinstance(event_type, str) or not event_type:
        return Refused(400, "header.event_type missing")
    return Verified(app=app, event=event, event_id=event_id, event_type=event_type, text=text)
