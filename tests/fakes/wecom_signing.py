"""Test helper: intelligent-robot and self-built-app callbacks encrypted and signed as WeCom
documents them.

Written independently of bot.channels.wecom (shares no code with it), so a mistake in the
bot's crypto cannot cancel out against the same mistake here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# 43 characters, as the WeCom console generates them.
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def encrypt(plaintext: bytes, encoding_aes_key: str, receive_id: str = "") -> str:
    key = base64.b64decode(encoding_aes_key + "=")
    raw = os.urandom(16) + struct.pack(">I", len(plaintext)) + plaintext + receive_id.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def signed_query(token: str, encrypted: str, *, timestamp: float | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    ts = str(int(timestamp if timestamp is not None else time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    return {"msg_signature": sign(token, ts, nonce, encrypted), "timestamp": ts,
            "nonce": nonce}


def url_check(token: str, echo: str, encoding_aes_key: str = ENCODING_AES_KEY,
              **kw: Any) -> dict[str, str]:
    """The GET query WeCom sends when the callback URL is saved."""
    echostr = encrypt(echo.encode(), encoding_aes_key)
    return {**signed_query(token, echostr, **kw), "echostr": echostr}


def signed_callback(message: dict[str, Any], *, token: str,
                    encoding_aes_key: str = ENCODING_AES_KEY,
                    **kw: Any) -> tuple[dict[str, str], bytes]:
    """Query and body of one encrypted, signed robot callback."""
    encrypted = encrypt(json.dumps(message, ensure_ascii=False).encode(), encoding_aes_key)
    return signed_query(token, encrypted, **kw), json.dumps({"encrypt": encrypted}).encode()


def text_message(content: str, *, userid: str, response_url: str, chatid: str = "wrkSFfCgAA",
                 chattype: str = "group", msgid: str | None = None,
                 aibotid: str = "aib_test") -> dict[str, Any]:
    message: dict[str, Any] = {
        "msgid": msgid or uuid.uuid4().hex, "aibotid": aibotid, "chattype": chattype,
        "from": {"userid": userid}, "response_url": response_url, "msgtype": "text",
        "text": {"content": content},
    }
    if chattype == "group":
        message["chatid"] = chatid
    return message


def encrypt_file(data: bytes, encoding_aes_key: str = ENCODING_AES_KEY) -> bytes:
    """A robot picture file as WeCom serves it: AES-256-CBC, IV = key[:16], PKCS#7 to 32."""
    key = base64.b64decode(encoding_aes_key + "=")
    pad = 32 - len(data) % 32
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return enc.update(data + bytes([pad]) * pad) + enc.finalize()


def image_message(url: str, *, userid: str, response_url: str, msgid: str | None = None,
                  aibotid: str = "aib_test") -> dict[str, Any]:
    """A picture sent to the robot in a single chat (the only place it receives bare ones)."""
    return {"msgid": msgid or uuid.uuid4().hex, "aibotid": aibotid, "chattype": "single",
            "from": {"userid": userid}, "response_url": response_url, "msgtype": "image",
            "image": {"url": url}}


def mixed_message(items: list[tuple[str, str]], *, userid: str, response_url: str,
                  chatid: str = "wrkSFfCgAA", chattype: str = "group",
                  msgid: str | None = None, aibotid: str = "aib_test") -> dict[str, Any]:
    """Text with pictures: items are ("text", content) or ("image", url), in order."""
    msg_item = [{"msgtype": "text", "text": {"content": v}} if k == "text"
                else {"msgtype": "image", "image": {"url": v}} for k, v in items]
    message: dict[str, Any] = {
        "msgid": msgid or uuid.uuid4().hex, "aibotid": aibotid, "chattype": chattype,
        "from": {"userid": userid}, "response_url": response_url, "msgtype": "mixed",
        "mixed": {"msg_item": msg_item},
    }
    if chattype == "group":
        message["chatid"] = chatid
    return message


# --- the self-built app's callback (XML, ReceiveId = the CorpID) ----------------------------


def app_text_xml(content: str, *, userid: str, msgid: str, corp_id: str = "ww_corp",
                 agent_id: int = 1000002, created: int | None = None) -> str:
    """A text message as 自建应用 → 接收消息 documents it (decrypted)."""
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
            f"<CreateTime>{created or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msgid}</MsgId><AgentID>{agent_id}</AgentID></xml>")


def app_event_xml(event: str, *, userid: str, created: int, corp_id: str = "ww_corp",
                  agent_id: int = 1000002) -> str:
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{userid}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[]]></EventKey>"
            f"<AgentID>{agent_id}</AgentID></xml>")


def app_callback(xml: str, *, token: str, encoding_aes_key: str = ENCODING_AES_KEY,
                 corp_id: str = "ww_corp", agent_id: int = 1000002,
                 **kw: Any) -> tuple[dict[str, str], bytes]:
    """Query and body of one encrypted, signed app callback: the outer XML WeCom posts."""
    encrypted = encrypt(xml.encode(), encoding_aes_key, receive_id=corp_id)
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<AgentID><![CDATA[{agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    return signed_query(token, encrypted, **kw), body.encode()


def app_url_check(token: str, echo: str, encoding_aes_key: str = ENCODING_AES_KEY,
                  corp_id: str = "ww_corp", **kw: Any) -> dict[str, str]:
    echostr = encrypt(echo.encode(), encoding_aes_key, receive_id=corp_id)
    return {**signed_query(token, echostr, **kw), "echostr": echostr}
