"""The real app (create_app) behind both WeCom callbacks, a real database and the fake WeCom
server: the self-built app's `GET/POST /wecom/app/callback` (URL check, MsgId dedupe,
refusals that store nothing, a principal's private conversation answered by message/send),
and every kind of robot message answered per the reply table (addressed in groups)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlmodel import col

from bot.app import RUNTIME, create_app
from bot.channels.wecom.markdown import md_escape
from bot.config import ConfigError, FilesSettings, Settings, settings_from_dict
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.db import create_engine, session_factory, transaction
from storage.models import Activity, InboxEvent, Photo
from storage.roster import link_identity, members_named
from tests.app_support import inbox_count, pending_events, prepare_demo_database, settle
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    app_callback,
    app_event_xml,
    app_text_xml,
    app_url_check,
    signed_callback,
    text_message,
)

TOKEN, APP_TOKEN = "robot-token", "app-token"
APP_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
USER, PRINCIPAL, CHAT = "zhangli", "ouyangyong", "wrkSFfCgAAgroup"
APP_PATH = "/wecom/app/callback"

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def prepare_database(url: str) -> None:
    """The demo county; 张丽 and her principal 欧阳勇 known on WeCom; 张丽's school's group."""
    await prepare_demo_database(url, platform="wecom", user=USER, chat=CHAT)
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            [principal] = await members_named(session=session, name="欧阳勇")
            await link_identity(session=session, member_id=principal.id or 0,
                                platform="wecom", external_id=PRINCIPAL)
    finally:
        await engine.dispose()


def make_settings(db_url: str, fake: FakeWeCom, **wecom: Any) -> Settings:
    return settings_from_dict({
        "database": {"url": db_url},
        "server": {"max_body_bytes": 16 * 1024},
        "wecom": {"corp_id": "ww_corp", "token": TOKEN, "encoding_aes_key": ENCODING_AES_KEY,
                  "app_token": APP_TOKEN, "app_encoding_aes_key": APP_KEY,
                  "agent_id": 1000002, "app_secret": "app-secret", "api_base": fake.url,
                  "group_webhooks": [{"chat_id": CHAT, "key": "hook-key"}], **wecom},
    })


@dataclasses.dataclass
class Bot:
    client: TestClient
    fake: FakeWeCom

    async def app_says(self, text: str, *, userid: str = USER, msgid: str | None = None,
                       created: int | None = None) -> tuple[int, str]:
        xml = app_text_xml(text, userid=userid, msgid=msgid or str(uuid.uuid4().int)[:16],
                           created=created)
        return await self.app_post(*app_callback(xml, token=APP_TOKEN, encoding_aes_key=APP_KEY))

    async def app_post(self, query: dict[str, str], body: bytes) -> tuple[int, str]:
        resp = await self.client.post(APP_PATH, data=body, params=query)
        return resp.status, await resp.text()

    async def robot(self, message: dict[str, Any]) -> int:
        query, body = signed_callback(message, token=TOKEN)
        resp = await self.client.post("/wecom/callback", data=body, params=query)
        return resp.status

    def robot_message(self, msgtype: str, content: dict[str, Any], *,
                      chattype: str = "single", **extra: Any) -> dict[str, Any]:
        message = {"msgid": uuid.uuid4().hex, "aibotid": "aib_test", "chattype": chattype,
                   "from": {"userid": USER}, "response_url": self.fake.response_url(),
                   "msgtype": msgtype, msgtype: content, **extra}
        if chattype == "group":
            message["chatid"] = CHAT
        return message

    async def answers(self, n: int = 0) -> list[tuple[str, str, str]]:
        """(way, to whom, text) of everything sent, once `n` things were and the bot has
        nothing left to do. The worker takes the inbox in order, so silence is shown by a
        message answered after the silent ones."""
        await self.fake.wait_for(lambda: len(self.fake.sent) >= n)
        await settle(self.client)
        return [(s.kind, s.target, s.content) for s in self.fake.sent]


async def inbox_handled(client: TestClient) -> None:
    """Until every saved event was handled (by the app's own worker or here)."""
    runtime = client.app[RUNTIME]
    async with asyncio.timeout(15):
        while True:
            if not await pending_events(runtime.factory):
                return
            await runtime.worker.drain()


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


# --- the self-built app's callback ------------------------------------------------------------


async def test_app_url_check_answers_the_decrypted_echostr(bot: Bot) -> None:
    query = app_url_check(APP_TOKEN, "8817265434", encoding_aes_key=APP_KEY)
    resp = await bot.client.get(APP_PATH, params=query)
    assert (resp.status, await resp.text()) == (200, "8817265434")
    resp = await bot.client.get(APP_PATH, params={**query, "msg_signature": "0" * 40})
    assert resp.status == 401


async def run_private_help(bot: Bot) -> None:
    for _ in range(3):  # WeCom's retries of one message
        assert await bot.app_says("帮助", msgid="5000000000000001") == (200, "")
    assert await bot.answers(1) == [("app", USER, texts.HELP)]
    assert await inbox_count(bot.client) == 1


async def test_a_private_message_to_the_app_is_answered_once_by_the_app(bot: Bot) -> None:
    await run_private_help(bot)


async def test_app_end_to_end_on_postgresql(
    pg_url: str, fake: FakeWeCom, aiohttp_client: ClientFactory,
) -> None:
    await prepare_database(pg_url)
    client = await aiohttp_client(create_app(make_settings(pg_url, fake)))
    await run_private_help(Bot(client, fake))


async def test_app_refusals_store_nothing(bot: Bot) -> None:
    xml = app_text_xml("帮助", userid=USER, msgid="42")
    query, body = app_callback(xml, token=APP_TOKEN, encoding_aes_key=APP_KEY)
    entity = body.replace(b"<xml>", b'<!DOCTYPE xml [<!ENTITY x "y">]><xml>', 1)
    stale = app_callback(xml, token=APP_TOKEN, encoding_aes_key=APP_KEY, timestamp=1_000_000)
    robot_key = app_callback(xml, token=APP_TOKEN)  # encrypted with the robot's key
    big = body + b" " * (16 * 1024)
    cases = [
        ({**query, "msg_signature": "0" * 40}, body, 401),
        ({}, body, 401),
        (*stale, 401),
        (query, entity, 400),
        (*robot_key, 400),
        (query, b"<xml><Encrypt>", 400),
        (query, big, 413),
    ]
    for q, raw, status in cases:
        got, reason = await bot.app_post(q, raw)
        assert got == status, reason
        assert APP_TOKEN not in reason and APP_KEY not in reason
    assert await bot.answers() == []
    assert await inbox_count(bot.client) == 0


async def test_app_events_are_stored_and_not_answered(bot: Bot) -> None:
    xml = app_event_xml("enter_agent", userid=USER, created=1_800_000_000)
    for _ in range(2):
        assert await bot.app_post(*app_callback(xml, token=APP_TOKEN,
                                                encoding_aes_key=APP_KEY)) == (200, "")
    assert await bot.app_says("帮助") == (200, "")
    assert [way for way, _, _ in await bot.answers(1)] == ["app"]
    async with bot.client.app[RUNTIME].factory() as session:
        rows = (await session.execute(select(InboxEvent).order_by(col(InboxEvent.id)))).scalars()
        [row, _] = list(rows)
    assert (row.event_id, row.status) == (f"app:ev:{USER}:1800000000:enter_agent", "done")


async def test_a_principal_answers_the_private_question_through_the_app(bot: Bot) -> None:
    """欧阳勇 announces a plan in the group; the bot asks him privately whether it was held
    (as the scheduler does after it ended); his answer to the app reaches the bot."""
    plan = text_message("@教联助手 明天上午在泗顶中心校开展数学集体备课", userid=PRINCIPAL,
                        chatid=CHAT, response_url=bot.fake.response_url())
    assert await bot.robot(plan) == 200
    [(way, _, said)] = await bot.answers(1)
    assert way == "response" and said.startswith("已登记计划")
    runtime = bot.client.app[RUNTIME]
    async with transaction(runtime.factory) as session:
        await session.execute(update(Activity).values(outcome_asked_at=runtime.clock.now()))
    assert await bot.app_says("已开展，8人参加", userid=PRINCIPAL) == (200, "")
    assert await bot.app_says("谢谢", userid=PRINCIPAL) == (200, "")
    answers = await bot.answers(3)
    assert [(way, to) for way, to, _ in answers[1:]] == [("app", PRINCIPAL)] * 2
    assert answers[1][2].startswith("好的，") and answers[1][2].endswith("已记为已开展。")
    assert answers[2][2] == texts.SMALL_TALK_REPLY
    async with runtime.factory() as session:
        [event] = (await session.execute(select(Activity))).scalars()
    assert (event.status, event.participants) == ("held", 8)


async def test_an_unknown_sender_on_the_app_is_asked_who_they_are(bot: Bot) -> None:
    assert await bot.app_says("本月集体备课几次", userid="stranger") == (200, "")
    assert await bot.answers(1) == [("app", "stranger", texts.WHO_ARE_YOU)]


def test_an_app_callback_needs_a_corp_id() -> None:
    settings = settings_from_dict({"wecom": {"app_token": "t", "app_encoding_aes_key": APP_KEY}})
    with pytest.raises(ConfigError, match="corp_id"):
        create_app(settings)


# --- every robot message is answered per the reply table --------------------------------------


async def test_group_messages_are_addressed_small_talk_is_silent_the_rest_gets_a_hint(
        bot: Bot) -> None:
    for words in ("谢谢", "收到", "好的👍", "辛苦了"):
        message = bot.robot_message("text", {"content": f"@教联助手 {words}"},
                                    chattype="group")
        assert await bot.robot(message) == 200
    message = bot.robot_message("text", {"content": "@教联助手 明天天气怎么样"}, chattype="group")
    await bot.robot(message)
    assert [said for _, _, said in await bot.answers(1)] == [texts.GROUP_HINT]
    assert await inbox_count(bot.client) == 5


async def test_a_quoted_message_parses_its_own_words(bot: Bot) -> None:
    message = bot.robot_message("text", {"content": "@教联助手 签到"}, chattype="group",
                                quote={"msgtype": "text", "text": {"content": "明天天气怎么样"}})
    await bot.robot(message)
    [(way, _, said)] = await bot.answers(1)
    assert way == "response" and said.startswith("张丽签到成功")


async def test_voice_file_and_events_in_a_single_chat(bot: Bot) -> None:
    await bot.robot(bot.robot_message("voice", {"content": "帮助"}))
    await bot.robot(bot.robot_message("file", {"url": "https://example.invalid/f"}))
    await bot.robot(bot.robot_message("event", {"eventtype": "enter_chat"}))
    await bot.robot(bot.robot_message("text", {"content": "谢谢"}))
    said = [said for _, _, said in await bot.answers(3)]
    assert said == [md_escape(texts.HELP), texts.NOT_KEPT_HINT, texts.SMALL_TALK_REPLY]
    assert await inbox_count(bot.client) == 4


async def test_app_callback_route_needs_its_own_token(
        sqlite_url: str, fake: FakeWeCom, aiohttp_client: ClientFactory) -> None:
    await prepare_database(sqlite_url)
    settings = make_settings(sqlite_url, fake, app_token="", app_encoding_aes_key="")
    client = await aiohttp_client(create_app(settings))
    resp = await client.post(APP_PATH, data=b"<xml/>")
    assert resp.status in (404, 405)
    async with client.app[RUNTIME].factory() as session:
        count = (await session.execute(select(col(InboxEvent.id)))).all()
    assert count == []


async def test_a_picture_sent_to_the_app_goes_to_the_report_before_it(
        sqlite_url: str, fake: FakeWeCom, aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    await prepare_database(sqlite_url)
    settings = make_settings(sqlite_url, fake)
    settings = dataclasses.replace(settings, files=FilesSettings(dir=str(tmp_path)))
    clock = FixedClock(datetime(2026, 11, 26, 14, 5, tzinfo=SHANGHAI))
    bot = Bot(await aiohttp_client(create_app(settings, clock=clock)), fake)
    created = int(clock.now().timestamp())
    await bot.app_says("今天上午在泗顶中心校开展了数学集体备课，9人参加", created=created)
    [(_, _, said)] = await bot.answers(1)
    assert said.startswith("已记录")
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    url = fake.serve_file(picture)  # the app's PicUrl: a plain link, not encrypted
    xml = (f"<xml><ToUserName><![CDATA[ww_corp]]></ToUserName><FromUserName><![CDATA[{USER}]]>"
           f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[image]]>"
           f"</MsgType><PicUrl><![CDATA[{url}]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"
           f"<MsgId>7000000000000001</MsgId><AgentID>1000002</AgentID></xml>")
    assert await bot.app_post(*app_callback(xml, token=APP_TOKEN,
                                            encoding_aes_key=APP_KEY)) == (200, "")
    await inbox_handled(bot.client)
    clock.advance(timedelta(seconds=10))  # the answer waits for more pictures of the burst
    answers = await bot.answers(2)
    assert answers[1] == ("app", USER, texts.PHOTOS_ATTACHED.format(n=1))
    async with bot.client.app[RUNTIME].factory() as session:
        [photo] = (await session.execute(select(Photo))).scalars()
    assert photo.sha256 == hashlib.sha256(picture).hexdigest()
