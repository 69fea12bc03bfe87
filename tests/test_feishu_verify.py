"""Request verification and crypto, request by request (no server, no database)."""

from __future__ import annotations

import json
import time

import pytest

from bot.channels.feishu.crypto import DecryptError, decrypt, signature
from bot.channels.feishu.verify import Challenge, Refused, Verified, verify_request
from bot.config import FeishuApp
from tests.fakes.feishu_signing import encrypt, sign, signed_body, text_event

APP = FeishuApp(app_id="cli_a", app_secret="s", verification_token="vt", encrypt_key="ek")
PLAIN = FeishuApp(app_id="cli_p", app_secret="s", verification_token="vt2")


def test_crypto_matches_the_independent_helper() -> None:
    payload = json.dumps({"你好": 1}).encode()
    assert decrypt(encrypt(payload, "ek"), "ek") == payload
    assert signature("1", "n", "ek", b"body") == sign("1", "n", "ek", b"body")
    with pytest.raises(DecryptError):
        decrypt(encrypt(payload, "ek"), "other key")


def _raw_encrypted(padded: bytes, encrypt_key: str) -> str:
    """AES-256-CBC of `padded` as it is: a padding of our choosing."""
    import base64
    import hashlib
    import os

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(hashlib.sha256(encrypt_key.encode()).digest()),
                 modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(padded) + enc.finalize()).decode()


@pytest.mark.parametrize("padded", [
    b"0123456789abcdef" + bytes([0]) * 16,            # a pad byte of 0
    b"0123456789abcdef" + bytes([17]) * 16,           # more than a block
    b"0123456789abcdef" + b"x" * 13 + bytes([3, 2, 3]),  # pad bytes that differ
])
def test_bad_padding_is_refused(padded: bytes) -> None:
    with pytest.raises(DecryptError):
        decrypt(_raw_encrypted(padded, "ek"), "ek")


def test_an_unsigned_body_does_not_tell_bad_padding_from_a_bad_plaintext() -> None:
    """Otherwise the refusals are a padding oracle: enough to decrypt a captured body."""
    def refusal(encrypted: str) -> object:
        body = json.dumps({"encrypt": encrypted}).encode()
        return verify_request([APP], {}, body, now=time.time())

    bad_padding = refusal(_raw_encrypted(b"0123456789abcdef" + bytes([0]) * 16, "ek"))
    not_json = refusal(encrypt(b"not json at all", "ek"))
    assert bad_padding == not_json == Refused(
        400, "cannot decrypt the body with the configured Encrypt Key")


def test_url_verification_plain() -> None:
    body = json.dumps({"challenge": "c1", "token": "vt2", "type": "url_verification"}).encode()
    assert verify_request([PLAIN], {}, body, now=time.time()) == Challenge("c1")


def test_url_verification_encrypted_unsigned() -> None:
    inner = {"challenge": "c2", "token": "vt", "type": "url_verification"}
    body = json.dumps({"encrypt": encrypt(json.dumps(inner).encode(), "ek")}).encode()
    assert verify_request([APP], {}, body, now=time.time()) == Challenge("c2")


def test_url_verification_with_wrong_token_refused() -> None:
    body = json.dumps({"challenge": "c", "token": "nope", "type": "url_verification"}).encode()
    assert verify_request([PLAIN], {}, body, now=time.time()) == Refused(
        403, "verification token does not match")


def test_signed_event_verified() -> None:
    event = text_event("签到", app_id="cli_a", token="vt", event_id="ev1")
    headers, body = signed_body(event, encrypt_key="ek")
    outcome = verify_request([PLAIN, APP], headers, body, now=time.time())
    assert isinstance(outcome, Verified)
    assert (outcome.app.app_id, outcome.event_id, outcome.event) == ("cli_a", "ev1", event)


@pytest.mark.parametrize("change", ["signature", "body", "nonce"])
def test_forged_requests_refused(change: str) -> None:
    headers, body = signed_body(text_event("x", app_id="cli_a", token="vt"), encrypt_key="ek")
    if change == "signature":
        headers["X-Lark-Signature"] = sign("1", "2", "wrong key", body)
    elif change == "body":
        body = body.replace(b'"}', b'A"}')
    else:
        headers["X-Lark-Request-Nonce"] += "x"
    outcome = verify_request([APP], headers, body, now=time.time())
    assert outcome == Refused(401, "signature does not match")


def test_stale_timestamp_refused() -> None:
    event = text_event("x", app_id="cli_a", token="vt")
    headers, body = signed_body(event, encrypt_key="ek", timestamp=time.time() - 7200)
    outcome = verify_request([APP], headers, body, now=time.time())
    assert isinstance(outcome, Refused) and outcome.status == 401
    assert "timestamp" in outcome.reason


def test_unsigned_encrypted_event_refused() -> None:
    event = text_event("x", app_id="cli_a", token="vt")
    body = json.dumps({"encrypt": encrypt(json.dumps(event).encode(), "ek")}).encode()
    assert verify_request([APP], {}, body, now=time.time()) == Refused(401, "event is not signed")


def test_plain_event_refused_when_an_encrypt_key_is_set() -> None:
    body = json.dumps(text_event("x", app_id="cli_a", token="vt")).encode()
    outcome = verify_request([APP], {}, body, now=time.time())
    assert isinstance(outcome, Refused) and outcome.status == 401


def test_wrong_token_refused_even_when_signed() -> None:
    headers, body = signed_body(text_event("x", app_id="cli_a", token="bad"), encrypt_key="ek")
    outcome = verify_request([APP], headers, body, now=time.time())
    assert outcome == Refused(403, "verification token does not match")


def test_plain_event_checked_by_token_and_app() -> None:
    good = json.dumps(text_event("x", app_id="cli_p", token="vt2")).encode()
    assert isinstance(verify_request([PLAIN], {}, good, now=time.time()), Verified)
    other_app = json.dumps(text_event("x", app_id="cli_z", token="vt2")).encode()
    assert verify_request([PLAIN], {}, other_app, now=time.time()) == Refused(
        403, "event is for another app")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"encrypt": "%%%"}'])
def test_malformed_bodies_refused(body: bytes) -> None:
    outcome = verify_request([APP], {}, body, now=time.time())
    assert isinstance(outcome, Refused) and outcome.status == 400


def test_refusals_never_carry_secrets() -> None:
    headers, body = signed_body(text_event("x", app_id="cli_a", token="bad"), encrypt_key="ek")
    for outcome in (verify_request([APP], headers, body, now=time.time()),
                    verify_request([APP], {}, b"{}", now=time.time())):
        assert isinstance(outcome, Refused)
        assert "ek" not in outcome.reason.split() and "vt" not in outcome.reason.split()
