"""Feishu's event crypto: AES-256-CBC decryption and the X-Lark-Signature digest.

Pure functions over bytes and strings, so they are tested on their own. Imports nothing of
ours; must not import aiohttp or the database.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class DecryptError(ValueError):
    """The `encrypt` field is not something our Encrypt Key produced."""


@functools.lru_cache(maxsize=64)
def aes_key(encrypt_key: str) -> bytes:
    """Hashed once per Encrypt Key, not on every request (a county has a handful of apps)."""
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


@functools.lru_cache(maxsize=64)
def _aes(encrypt_key: str) -> algorithms.AES:
    return algorithms.AES(aes_key(encrypt_key))


def decrypt(encrypted: str, encrypt_key: str) -> bytes:
    """base64 → IV (first 16 bytes) + AES-256-CBC ciphertext → PKCS#7-unpadded plaintext."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("encrypt is not base64") from exc
    if len(raw) < 32 or len(raw) % 16:
        raise DecryptError("encrypt has the wrong length")
    decryptor = Cipher(_aes(encrypt_key), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    # PKCS#7 by hand (the library's unpadder costs more than the decryption): what a
    # forger learns from a refusal is no more than the refusal says (bot.channels.feishu
    # .verify gives unsigned bodies one reason for every failure).
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes((pad,)) * pad:
        raise DecryptError("bad padding: wrong Encrypt Key?")
    return padded[:-pad]


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """hex SHA-256 of timestamp + nonce + encrypt_key (UTF-8), then the raw body bytes."""
    digest = hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8"))
    digest.update(body)
    return digest.hexdigest()


def signature_ok(timestamp: str, nonce: str, encrypt_key: str, body: bytes, given: str) -> bool:
    """Constant time, so a forger learns nothing from how long a refusal takes."""
    expected = signature(timestamp, nonce, encrypt_key, body)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii",
                                                                                       "replace"))
