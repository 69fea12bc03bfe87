"""Odd text: zero-width and control characters and lone surrogates are cleaned before parsing
and storage, so every signed message is answered; bodies nested too deeply are a 4xx."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.config import ServerSettings, Settings
from handlers.cleantext import clean_json, clean_text, clean_value
from handlers.nlu import Parser
from storage.models import Activity, InboxEvent
from tests.chat_harness import Chat, at
from tests.fakes import feishu_signing, wecom_signing
from tests.fakes.feishu import FakeFeishu
from tests.fakes.wecom import FakeWeCom
from tests.test_feishu_webhook import KEY
from tests.test_feishu_webhook import make_settings as feishu_settings
from tests.test_wecom_callback import TOKEN
from tests.test_wecom_callback import make_settings as wecom_settings

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]
REPORT = "昨天下午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"


def test_cleaning_keeps_words_and_lines() -> None:
    assert clean_text("签\u200b到\ufeff") == "签到"
    assert clean_text("a\x00b\tc\nd") == "a b\tc\nd"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert clean_value({"k\u200b": ["\x00", 3, None]}) == {"k": [" ", 3, None]}


@pytest.mark.parametrize("value", [
    {"text": "签到", "n": [1, 2.5, None, True]},
    {"text": "签\u200b到", "k\x00": "a\x01b\x08c\x0cd\x1f"},
    {"text": "tab\tline\nreturn\r", "path": "C:\\b\\f\\u0001"},
    {"bad": "\ud800x", "del": "\x7f\x9f", "list": ["\ufeff", {"deep": "\u2060"}]},
])
def test_cleaned_json_is_the_cleaned_value_encoded(value: object) -> None:
    text = clean_json(value)
    assert json.loads(text) == clean_value(value)
    text.encode("utf-8")  # storable: no lone surrogate left


def test_a_zero_width_space_does_not_hide_a_check_in(demo_parser: Parser) -> None:
    assert demo_parser.parse("签\u200b到", at("2026-11-26T10:00")).intent == "checkin"


async def test_odd_characters_are_answered_and_stored(chat: Chat) -> None:
    [reply] = await chat.say("张丽", "签\u200b到")
    assert reply.startswith("张丽签到成功")
    [reply] = await chat.say("张丽", REPORT.replace("数学", "数\x00学"))
    assert reply.startswith("已记录")
    [reply] = await chat.say("张丽", "帮助\ud800")
    assert reply
    [activity] = await chat.rows(Activity)
    assert "\x00" not in json.dumps(activity.model_dump(mode="json"), ensure_ascii=False)
    events = await chat.rows(InboxEvent)
    assert [e.status for e in events] == ["done"] * 3
    assert "\ud800" not in json.dumps(events[-1].payload)  # stored encodable


DEEP = b"[" * 100_000


def big(settings: Settings) -> Settings:
    return dataclasses.replace(settings, server=ServerSettings(max_body_bytes=2 * 1024 * 1024))


@pytest.mark.parametrize("path", ["/feishu/events", "/feishu/card"])
async def test_deep_nesting_at_feishu_is_a_4xx(
    sqlite_url: str, aiohttp_client: ClientFactory, path: str,
) -> None:
    fake = await FakeFeishu().start()
    try:
        client = await aiohttp_client(create_app(big(feishu_settings(sqlite_url, fake))))
        inner = json.dumps({"encrypt": feishu_signing.encrypt(DEEP, KEY)}).encode()
        for body in (DEEP, inner):
            ts, nonce = str(int(time.time())), uuid.uuid4().hex[:16]
            headers = {"Content-Type": "application/json", "X-Lark-Request-Timestamp": ts,
                       "X-Lark-Request-Nonce": nonce,
                       "X-Lark-Signature": feishu_signing.sign(ts, nonce, KEY, body)}
            resp = await client.post(path, data=body, headers=headers)
            assert 400 <= resp.status < 500, await resp.text()
    finally:
        await fake.close()


async def test_deep_nesting_at_wecom_is_a_4xx(
    sqlite_url: str, aiohttp_client: ClientFactory,
) -> None:
    fake = await FakeWeCom().start()
    try:
        client = await aiohttp_client(create_app(big(wecom_settings(sqlite_url, fake))))
        encrypted = wecom_signing.encrypt(DEEP, wecom_signing.ENCODING_AES_KEY)
        cases = [(DEEP, wecom_signing.signed_query(TOKEN, "x")),
                 (json.dumps({"encrypt": encrypted}).encode(),
                  wecom_signing.signed_query(TOKEN, encrypted))]
        for body, query in cases:
            resp = await client.post("/wecom/callback", data=body, params=query)
            assert 400 <= resp.status < 500, await resp.text()
    finally:
        await fake.close()
