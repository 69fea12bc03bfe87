"""The real app (create_app) behind `GET/POST /wecom/callback`, a real database and the fake
WeCom server: the URL check, save-then-acknowledge, the reply at the response_url,
redeliveries, and refusals that store nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import RUNTIME, create_app
from bot.config import ConfigError, Settings, settings_from_dict
from handlers import texts
from storage.models import Activity, InboxEvent
from tests.app_support import inbox_count, prepare_demo_database, settle
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    encrypt,
    signed_callback,
    signed_query,
    text_message,
    url_check,
)

TOKEN = "robot-token"
USER, CHAT = "zhangli", "wrkSFfCgAAgroup"
PATH = "/wecom/callback"

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def prepare_database(url: str) -> None:
    await prepare_demo_database(url, platform="wecom", user=USER, chat=CHAT)


def make_settings(db_url: str, fake: FakeWeCom, **wecom: Any) -> Settings:
    return settings_from_dict({
        "database": {"url": db_url},
        "server": {"max_body_bytes": 16 * 1024},
        "wecom": {"corp_id": "ww_corp", "token": TOKEN, "encoding_aes_key": ENCODING_AES_KEY,
                  "agent_id": 1000002, "app_secret": "app-secret", "api_base": fake.url,
                  "group_webhooks": [{"chat_id": CHAT, "key": "hook-key"}], **wecom},
    })


@dataclasses.dataclass
class Bot:
    client: TestClient
    fake: FakeWeCom

    def message(self, text: str, **kw: Any) -> dict[str, Any]:
        return text_message(f"@教联助手 {text}", userid=USER, chatid=CHAT,
                            response_url=self.fake.response_url(), **kw)

    async def post(self, message: dict[str, Any], **signing: Any) -> tuple[int, str]:
        query, body = signed_callback(message, token=TOKEN, **signing)
        return await self.post_raw(body, query)

    async def post_raw(self, body: bytes, query: dict[str, str]) -> tuple[int, str]:
        resp = await self.client.post(PATH, data=body, params=query)
        return resp.status, await resp.text()

    async def inbox_count(self) -> int:
        return await inbox_count(self.client)

    async def settled(self) -> None:
        await settle(self.client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    server = await FakeWeCom().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def bot(sqlite_url: str, fake: FakeWeCom, aiohttp_client: ClientFactory) -> Bot:
    await prepare_database(sqlite_url)
    client = await aiohttp_client(create_app(make_settings(sqlite_url, fake)))
    return Bot(client, fake)


async def test_url_check_answers_the_decrypted_echostr_alone(bot: Bot) -> None:
    resp = await bot.client.get(PATH, params=url_check(TOKEN, "1616140317555161061"))
    assert (resp.status, await resp.text()) == (200, "1616140317555161061")
    forged = {**url_check(TOKEN, "x"), "msg_signature": "0" * 40}
    resp = await bot.client.get(PATH, params=forged)
    assert resp.status == 401
    assert await bot.inbox_count() == 0


async def run_end_to_end(bot: Bot) -> None:
    msg = bot.message("签到", msgid="msg-1")
    assert await bot.post(msg) == (200, "")
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    [sent] = bot.fake.sent
    assert sent.kind == "response" and sent.msgtype == "markdown"
    assert msg["response_url"].endswith(sent.target)
    assert "张丽签到成功" in sent.content


async def test_message_is_answered_at_its_response_url(bot: Bot) -> None:
    await run_end_to_end(bot)


async def test_end_to_end_on_postgresql(
    pg_url: str, fake: FakeWeCom, aiohttp_client: ClientFactory,
) -> None:
    await prepare_database(pg_url)
    client = await aiohttp_client(create_app(make_settings(pg_url, fake)))
    await run_end_to_end(Bot(client, fake))


async def test_message_is_committed_before_the_acknowledgement(bot: Bot) -> None:
    runtime = bot.client.app[RUNTIME]
    runtime.worker.wakeup.clear()
    assert (await bot.post(bot.message("签到", msgid="msg-saved")))[0] == 200
    async with runtime.factory() as session:
        row = (await session.execute(select(InboxEvent))).scalar_one()
    assert (row.platform, row.event_id) == ("wecom", "msg-saved")
    assert row.payload["message"]["response_url"].startswith(bot.fake.url)


async def test_redelivery_is_answered_and_ignored(bot: Bot) -> None:
    msg = bot.message("签到", msgid="msg-dup")
    for _ in range(3):
        assert await bot.post(msg) == (200, "")
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    await bot.settled()
    assert await bot.inbox_count() == 1
    assert len(bot.fake.sent) == 1


async def test_refused_requests_store_nothing(bot: Bot) -> None:
    good = bot.message("签到")
    query, body = signed_callback(good, token=TOKEN)
    stale_query, stale_body = signed_callback(good, token=TOKEN, timestamp=1_000_000)
    wrong_key = "Z" * 43
    alien_query, alien_body = signed_callback(good, token=TOKEN, encoding_aes_key=wrong_key)
    not_json = encrypt(b"not json", ENCODING_AES_KEY)
    nj_body = json.dumps({"encrypt": not_json}).encode()
    no_msgid = {k: v for k, v in good.items() if k != "msgid"}
    nm_query, nm_body = signed_callback(no_msgid, token=TOKEN)
    big = json.dumps({"encrypt": "A" * 20_000}).encode()
    cases = [
        (body, {**query, "msg_signature": "0" * 40}, 401),
        (body, {}, 401),
        (stale_body, stale_query, 401),
        (b"{not json", query, 400),
        (b'{"encrypt": 5}', query, 400),
        (alien_body, alien_query, 400),
        (nj_body, signed_query(TOKEN, not_json), 400),
        (nm_body, nm_query, 400),
        (big, signed_query(TOKEN, "A" * 20_000), 413),
    ]
    for raw, q, status in cases:
        got, answer = await bot.post_raw(raw, q)
        assert got == status, answer
        assert TOKEN not in answer and ENCODING_AES_KEY not in answer
    await bot.settled()
    assert await bot.inbox_count() == 0
    assert bot.fake.sent == []


async def test_single_chat_is_answered_too(bot: Bot) -> None:
    msg = text_message("帮助", userid=USER, chattype="single",
                       response_url=bot.fake.response_url())
    assert await bot.post(msg) == (200, "")
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    assert bot.fake.sent[0].kind == "response"


def test_a_bad_encoding_aes_key_is_a_config_error(sqlite_url: str) -> None:
    settings = settings_from_dict({"wecom": {"token": "t", "encoding_aes_key": "short"}})
    with pytest.raises(ConfigError, match="encoding_aes_key"):
        create_app(settings)


async def test_no_callback_route_without_wecom(
    sqlite_url: str, aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(create_app(settings_from_dict({"database":
                                                                 {"url": sqlite_url}})))
    resp = await client.post(PATH, data=b"{}")
    assert resp.status in (404, 405)
    assert "wecom" not in client.app[RUNTIME].channels


async def test_a_correction_amends_and_a_statement_of_no_event_gets_a_hint(bot: Bot) -> None:
    await bot.post(bot.message("今天上午在泗顶中心校开展了数学集体备课，9人参加"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    await bot.post(bot.message("不对，是11人"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 2)
    await bot.post(bot.message("这个月的送教下乡还没搞"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 3)
    await bot.post(bot.message("谢谢"))
    await bot.settled()
    contents = [s.content for s in bot.fake.sent]
    assert contents[1].startswith("已更正") and "11人" in contents[1]
    assert contents[2] == texts.GROUP_HINT and len(contents) == 3
    async with bot.client.app[RUNTIME].factory() as session:
        events = list((await session.execute(select(Activity))).scalars())
    assert [(e.activity, e.participants) for e in events] == [("lesson_prep", 11)]
