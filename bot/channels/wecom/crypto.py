"""WeCom's callback crypto (WXBizMsgCrypt): msg_signature and AES-256-CBC decryption.

Written on `cryptography` rather than wechatpy's WeChatCrypto: the robot's body is JSON while
wechatpy's decrypt_message parses XML, its signature check is not constant-time, and the
whole thing is forty lines. Pure functions; imports nothing of ours, no aiohttp, no database.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WXBizMsgCrypt pads to 32 bytes, not to AES's 16


class DecryptError(ValueError):
    """Not something our EncodingAESKey produced for this receiver."""


@functools.lru_cache(maxsize=64)
def aes_key(encoding_aes_key: str) -> bytes:
    """Decoded once per key, not on every callback (errors are not cached)."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise DecryptError("EncodingAESKey must decode to 32 bytes (43 characters)")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """hex SHA-1 of the four strings, sorted and concatenated."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def signature_ok(token: str, timestamp: str, nonce: str, encrypted: str, given: str) -> bool:
    """Constant time, so a forger learns nothing from how long a refusal takes."""
    expected = signature(token, timestamp, nonce, encrypted)
    return hmac.compare_digest(expected.encode("ascii"),
                               given.strip().lower().encode("ascii", "replace"))


def decrypt(encrypted: str, encoding_aes_key: str, receive_id: str = "") -> bytes:
    """base64 → AES-256-CBC (IV = key[:16]) → PKCS#7 (32) → random16 + len + msg + receive_id."""
    key = aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("not base64") from exc
    if not raw or len(raw) % 16:
        raise DecryptError("wrong length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise DecryptError("bad padding: wrong EncodingAESKey?")
    plain = padded[:-pad]
    if len(plain) < 20:
        raise DecryptError("too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise DecryptError("length field out of range")
    if plain[20 + length:] != receive_id.encode("utf-8"):
        raise DecryptError("message is for another receiver")
    return plain[20:20 + length]


def decrypt_file(data: bytes, encoding_aes_key: str) -> bytes:
    """A file the intelligent robot received (a picture behind its `url`): raw AES-256-CBC
    bytes, key = AESKey, IV = AESKey[:16], PKCS#7-padded to 32; no random prefix or length
    field, unlike callback messages."""
    key = aes_key(encoding_aes_key)
    if not data or len(data) % 16:
        raise DecryptError("wrong length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise DecryptError("bad padding: wrong EncodingAESKey?")
    return padded[:-pad]
