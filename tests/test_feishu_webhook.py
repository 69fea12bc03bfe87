"""The real app (create_app) behind `POST /feishu/events`, a real database and the fake
Feishu open platform: save-then-acknowledge, refusals that store nothing, redeliveries,
restarts, and the 撤销 button from press to withdrawn record and updated card."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import RUNTIME, create_app
from bot.config import ConfigError, Settings, settings_from_dict
from storage.db import create_engine, session_factory
from storage.inbox import insert_events
from storage.models import Activity, Attendance, InboxEvent
from tests.app_support import inbox_count, prepare_demo_database, settle
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import card_action_event, encrypt, sign, signed_body, text_event

APP_ID, TOKEN, KEY = "cli_test", "v-token", "e-key"
USER, CHAT = "ou_zhangli", "oc_group"
BOT = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def prepare_database(url: str) -> None:
    await prepare_demo_database(url, platform="feishu", user=USER, chat=CHAT, app_id=APP_ID)


def make_settings(db_url: str, fake: FakeFeishu, **feishu: Any) -> Settings:
    return settings_from_dict({
        "database": {"url": db_url},
        "server": {"max_body_bytes": 16 * 1024},
        "feishu": {"app_id": APP_ID, "app_secret": "secret", "verification_token": TOKEN,
                   "encrypt_key": KEY, "api_base": fake.url, "bot_open_id": "ou_bot",
                   **feishu},
    })


@dataclasses.dataclass
class Bot:
    client: TestClient
    fake: FakeFeishu

    async def post(self, event: dict[str, Any], **signing: Any) -> tuple[int, dict[str, Any]]:
        headers, body = signed_body(event, encrypt_key=KEY, **signing)
        return await self.post_raw(body, headers)

    async def post_raw(self, body: bytes, headers: dict[str, str] | None = None,
                       path: str = "/feishu/events") -> tuple[int, dict[str, Any]]:
        resp = await self.client.post(path, data=body, headers=headers or {})
        return resp.status, await resp.json()

    async def inbox_count(self) -> int:
        return await inbox_count(self.client)

    async def settled(self) -> None:
        await settle(self.client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    server = await FakeFeishu(app_id=APP_ID).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def bot(sqlite_url: str, fake: FakeFeishu, aiohttp_client: ClientFactory) -> Bot:
    await prepare_database(sqlite_url)
    client = await aiohttp_client(create_app(make_settings(sqlite_url, fake)))
    return Bot(client, fake)


def message(text: str, **kw: Any) -> dict[str, Any]:
    return text_event(f"@_user_1 {text}", app_id=APP_ID, token=TOKEN, chat_id=CHAT,
                      open_id=USER, mentions=[BOT], **kw)


async def test_url_verification_plain_and_encrypted(bot: Bot) -> None:
    plain = {"challenge": "abc", "token": TOKEN, "type": "url_verification"}
    assert await bot.post_raw(json.dumps(plain).encode()) == (200, {"challenge": "abc"})
    hidden = {"encrypt": encrypt(json.dumps({**plain, "challenge": "xyz"}).encode(), KEY)}
    assert await bot.post_raw(json.dumps(hidden).encode()) == (200, {"challenge": "xyz"})
    assert await bot.inbox_count() == 0


async def run_end_to_end(bot: Bot) -> None:
    status, body = await bot.post(message("签到", event_id="ev-1", message_id="om_in_1"))
    assert (status, body) == (200, {})
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    [sent] = bot.fake.sent
    assert (sent.kind, sent.target) == ("reply", "om_in_1")
    assert "张丽签到成功" in bot.fake.texts()[0]


async def test_signed_encrypted_event_is_answered_through_worker_and_outbox(bot: Bot) -> None:
    await run_end_to_end(bot)


async def test_end_to_end_on_postgresql(
    pg_url: str, fake: FakeFeishu, aiohttp_client: ClientFactory,
) -> None:
    await prepare_database(pg_url)
    client = await aiohttp_client(create_app(make_settings(pg_url, fake)))
    await run_end_to_end(Bot(client, fake))


async def test_redelivered_event_is_acknowledged_and_answered_once(bot: Bot) -> None:
    event = message("签到", event_id="ev-dup")
    for _ in range(3):
        assert (await bot.post(event))[0] == 200
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    await bot.settled()
    assert await bot.inbox_count() == 1
    assert len(bot.fake.sent) == 1 and bot.fake.message_calls == 1


async def test_event_is_committed_before_the_acknowledgement(bot: Bot) -> None:
    runtime = bot.client.app[RUNTIME]
    runtime.worker.wakeup.clear()
    assert (await bot.post(message("签到", event_id="ev-saved")))[0] == 200
    async with runtime.factory() as session:
        row = (await session.execute(select(InboxEvent))).scalar_one()
    assert row.event_id == "ev-saved" and row.payload["app_id"] == APP_ID
    assert row.payload["event"]["header"]["event_id"] == "ev-saved"


async def test_the_inbox_keeps_the_event_as_sent_and_cleans_what_needs_it(bot: Bot) -> None:
    """An event is stored as Feishu wrote it; one with an odd character in a string, escaped
    or written out, is decoded and stored cleaned (a NUL must not reach PostgreSQL). The
    message text inside `content` is JSON of its own: the worker cleans it."""
    runtime = bot.client.app[RUNTIME]
    runtime.worker.wakeup.clear()
    plain = message("今天开展了数学集体备课", event_id="ev-plain")
    escaped = message("签到", event_id="ev-escaped")
    escaped["event"]["sender"]["sender_id"]["user_id"] = "u\u200b1\x00"
    written = message("签到", event_id="ev-written")
    written["event"]["sender"]["sender_id"]["user_id"] = "u\u200b2\ufeff"
    for event in (plain, escaped):
        assert (await bot.post(event))[0] == 200
    text = json.dumps(written, ensure_ascii=False).encode()
    assert "\u200b".encode() in text  # written out, not escaped
    body = json.dumps({"encrypt": encrypt(text, KEY)}).encode()
    ts, nonce = str(int(time.time())), "n0nce"
    headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
               "X-Lark-Signature": sign(ts, nonce, KEY, body)}
    assert (await bot.post_raw(body, headers))[0] == 200
    async with runtime.factory() as session:
        stored = (await session.execute(select(InboxEvent))).scalars()
        rows = {r.event_id: r.payload for r in stored}
    assert rows["ev-plain"] == {"app_id": APP_ID, "via": "webhook", "event": plain}
    user_ids = [rows[e]["event"]["event"]["sender"]["sender_id"]["user_id"]
                for e in ("ev-escaped", "ev-written")]
    assert user_ids == ["u1 ", "u2"]


async def test_refused_requests_store_nothing(bot: Bot) -> None:
    good = message("签到")
    headers, body = signed_body(good, encrypt_key=KEY)
    forged = {**headers, "X-Lark-Signature": "0" * 64}
    stale_headers, stale_body = signed_body(good, encrypt_key=KEY, timestamp=1_000_000)
    wrong_token = text_event("签到", app_id=APP_ID, token="guess", chat_id=CHAT, open_id=USER)
    wt_headers, wt_body = signed_body(wrong_token, encrypt_key=KEY)
    cases = [
        (body, forged, 401),
        (body, {}, 401),  # unsigned while an Encrypt Key is configured
        (stale_body, stale_headers, 401),
        (b"{not json", headers, 400),
        (wt_body, wt_headers, 403),
        (json.dumps(good).encode(), {}, 401),  # plain text while encryption is on
        (b'{"encrypt": "' + b"A" * 20_000 + b'"}', headers, 413),
    ]
    for raw, hdrs, status in cases:
        got, answer = await bot.post_raw(raw, hdrs)
        assert (got, bool(answer.get("error"))) == (status, True), answer
        assert KEY not in answer["error"] and TOKEN not in answer["error"]
    await bot.settled()
    assert await bot.inbox_count() == 0
    assert bot.fake.sent == []


async def test_unprocessed_inbox_rows_are_finished_after_a_restart(
    sqlite_url: str, fake: FakeFeishu, aiohttp_client: ClientFactory,
) -> None:
    await prepare_database(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        events = [(f"ev-r{n}", {"app_id": APP_ID, "via": "webhook",
                                "event": message("签到" if n == 0 else "帮助",
                                                 event_id=f"ev-r{n}", message_id=f"om_r{n}")})
                  for n in range(3)]
        await insert_events(engine=engine, platform="feishu", events=events,
                            received_at=datetime.now(UTC))
    finally:
        await engine.dispose()
    await aiohttp_client(create_app(make_settings(sqlite_url, fake)))
    await fake.wait_for(lambda: {s.target for s in fake.sent} >= {"om_r0", "om_r1", "om_r2"})


async def test_card_button_withdraws_the_record_and_updates_the_card(bot: Bot) -> None:
    await bot.post(message("签到", event_id="ev-c1"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    [card] = bot.fake.sent
    [button] = card.content["elements"][1]["actions"]
    press = card_action_event(button["value"], app_id=APP_ID, token=TOKEN, open_id=USER,
                              message_id=card.message_id, chat_id=CHAT, event_id="ev-press")
    headers, body = signed_body(press, encrypt_key=KEY)
    status, answer = await bot.post_raw(body, headers, path="/feishu/card")
    assert (status, answer["toast"]["content"]) == (200, "正在撤销…")
    await bot.fake.wait_for(lambda: len(bot.fake.updates) == 1)
    reply = bot.fake.sent[1]
    assert (reply.kind, reply.target) == ("reply", card.message_id)
    assert bot.fake.texts()[1].startswith("已撤销")
    [(updated_id, new_card)] = bot.fake.updates
    assert updated_id == card.message_id
    assert all(e["tag"] != "action" for e in new_card["elements"])
    async with bot.client.app[RUNTIME].factory() as session:
        [row] = (await session.execute(select(Attendance))).scalars()
    assert row.withdrawn


async def test_someone_elses_press_leaves_the_card_alone(bot: Bot) -> None:
    await bot.post(message("签到", event_id="ev-c2"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    [card] = bot.fake.sent
    value = card.content["elements"][1]["actions"][0]["value"]
    press = card_action_event(value, app_id=APP_ID, token=TOKEN, open_id="ou_stranger",
                              message_id=card.message_id, chat_id=CHAT)
    assert (await bot.post(press))[0] == 200
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 2)
    await bot.settled()
    assert bot.fake.updates == []


def test_unknown_mode_is_a_config_error(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="mode"):  # refused when the settings are read
        settings_from_dict({"feishu": {"app_id": "a", "app_secret": "s", "mode": "socket"}})


async def test_no_webhook_route_without_a_webhook_app(
    sqlite_url: str, aiohttp_client: ClientFactory,
) -> None:
    settings = settings_from_dict({"database": {"url": sqlite_url}})
    client = await aiohttp_client(create_app(settings))
    resp = await client.post("/feishu/events", data=b"{}")
    assert resp.status in (404, 405)
    assert "feishu" not in client.app[RUNTIME].channels


async def test_a_correction_amends_and_chatter_about_an_activity_records_nothing(
    bot: Bot,
) -> None:
    await bot.post(message("今天上午在泗顶中心校开展了数学集体备课，9人参加"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 1)
    await bot.post(message("不对，是11人"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent) == 2)
    unaddressed = text_event("这个月的送教下乡还没搞", app_id=APP_ID, token=TOKEN, chat_id=CHAT,
                             open_id=USER)
    assert (await bot.post(unaddressed))[0] == 200
    await bot.settled()
    assert len(bot.fake.sent) == 2
    assert bot.fake.texts()[1].startswith("已更正") and "11人" in bot.fake.texts()[1]
    async with bot.client.app[RUNTIME].factory() as session:
        events = list((await session.execute(select(Activity))).scalars())
    assert [(e.activity, e.participants, e.withdrawn) for e in events] == [
        ("lesson_prep", 11, False)]


@pytest.mark.postgres
async def test_a_database_that_refuses_writes_gets_503_and_the_redelivery_is_kept(
        pg_url: str, fake: FakeFeishu, aiohttp_client: ClientFactory) -> None:
    """Nothing is acknowledged that was not saved: with the database read-only the callback
    answers 503 (Feishu pushes it again); once writable, the redelivery is saved once."""
    from tests.conftest import _pg_admin_execute

    await prepare_database(pg_url)
    bot = Bot(await aiohttp_client(create_app(make_settings(pg_url, fake))), fake)
    name = pg_url.rsplit("/", 1)[1]
    event = text_event("签到", app_id=APP_ID, token=TOKEN, chat_id=CHAT, open_id=USER)
    await _pg_admin_execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    await _pg_admin_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    try:
        status, body = await bot.post(event)
        assert (status, body) == (503, {"error": "storage unavailable, try again"})
    finally:
        await _pg_admin_execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        await _pg_admin_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    status, _ = await bot.post(event)
    assert status == 200
    engine = create_engine(pg_url)
    try:
        async with session_factory(engine)() as session:
            rows = list((await session.execute(select(InboxEvent))).scalars())
    finally:
        await engine.dispose()
    assert [r.event_id for r in rows] == [event["header"]["event_id"]]
