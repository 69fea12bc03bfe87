"""No log line carries a secret: a whole session (both platforms, replies, a group webhook, a
failing statement) captured at DEBUG, then searched for every configured secret and token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.app import RUNTIME, create_app
from bot.config import settings_from_dict
from bot.runtime import open_runtime
from handlers.clock import SystemClock
from storage.db import session_factory, transaction
from storage.outbox import NewMessage, enqueue
from storage.roster import link_identity, members_named
from tests.app_support import prepare_demo_database, settle
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import signed_body, text_event
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import ENCODING_AES_KEY, signed_callback, text_message

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]

FEISHU_SECRET, FEISHU_TOKEN, FEISHU_KEY = "fs-secret-3f9a1c", "fs-token-77ab2e", "fs-key-c0ffee"
WECOM_TOKEN, WECOM_APP_SECRET, HOOK_KEY = "wc-token-5e5e5e", "app-secret", "hook-key-9d9d9d"
SECRETS = [FEISHU_SECRET, FEISHU_TOKEN, FEISHU_KEY, WECOM_TOKEN, ENCODING_AES_KEY,
           WECOM_APP_SECRET, HOOK_KEY]
WECOM_CHAT, FEISHU_CHAT = "wrkSFfCgAAgroup", "oc_group"


async def test_a_whole_session_at_debug_logs_no_secret(
    sqlite_url: str, aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    feishu = await FakeFeishu(app_secret=FEISHU_SECRET).start()
    wecom = await FakeWeCom(hook_keys=(HOOK_KEY,)).start()
    try:
        await prepare_demo_database(sqlite_url, platform="wecom", user="zhangli",
                                    chat=WECOM_CHAT)
        settings = settings_from_dict({
            "database": {"url": sqlite_url},
            "server": {"log_level": "DEBUG"},
            "feishu": {"app_id": "cli_test", "app_secret": FEISHU_SECRET,
                       "verification_token": FEISHU_TOKEN, "encrypt_key": FEISHU_KEY,
                       "api_base": feishu.url, "bot_open_id": "ou_bot"},
            "wecom": {"corp_id": "ww_corp", "token": WECOM_TOKEN,
                      "encoding_aes_key": ENCODING_AES_KEY, "agent_id": 1000002,
                      "app_secret": WECOM_APP_SECRET, "api_base": wecom.url,
                      "group_webhooks": [{"chat_id": WECOM_CHAT, "key": HOOK_KEY}]},
        })
        client = await aiohttp_client(create_app(settings))
        runtime = client.app[RUNTIME]
        async with transaction(runtime.factory) as session:
            [zhang] = await members_named(session=session, name="张丽")
            await link_identity(session=session, member_id=zhang.id or 0, platform="feishu",
                                external_id="ou_zhangli")
            # A scheduled message to the WeCom group goes through its webhook (key in the URL).
            await enqueue(session=session, now=runtime.clock.now(), message=NewMessage(
                key="ops:note", platform="wecom", target_kind="chat", target=WECOM_CHAT,
                text="本周提醒"))
        msg = text_message("@教联助手 签到", userid="zhangli", chatid=WECOM_CHAT,
                           response_url=wecom.response_url())
        query, body = signed_callback(msg, token=WECOM_TOKEN)
        assert (await client.post("/wecom/callback", data=body, params=query)).status == 200
        forged = {**query, "msg_signature": "0" * 40}
        assert (await client.post("/wecom/callback", data=body, params=forged)).status == 401
        event = text_event("签到", app_id="cli_test", token=FEISHU_TOKEN, chat_id=FEISHU_CHAT,
                           open_id="ou_zhangli", chat_type="p2p")
        headers, fbody = signed_body(event, encrypt_key=FEISHU_KEY)
        assert (await client.post("/feishu/events", data=fbody, headers=headers)).status == 200
        await wecom.wait_for(lambda: len(wecom.sent) >= 2)
        await feishu.wait_for(lambda: len(feishu.sent) >= 1)
        await settle(client)
        # A failing statement whose parameter is a secret: the error names no parameters.
        with pytest.raises(DBAPIError) as caught:
            async with runtime.factory() as session:
                await session.execute(text("SELECT * FROM no_such_table WHERE x = :p"),
                                      {"p": HOOK_KEY})
        logging.getLogger("tests").error("statement failed: %s", caught.value)
        await client.close()
    finally:
        await feishu.close()
        await wecom.close()
    assert "ou_zhangli" in caplog.text or "wecom" in caplog.text  # the session did log
    # The fakes' own access logs carry what the platform receives (the query strings):
    # they are the platforms' logs, not ours.
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]
    for secret in SECRETS:
        leaked = [r.getMessage() for r in ours if secret in r.getMessage()
                  or (r.exc_text and secret in r.exc_text)]
        assert leaked == [], (secret, leaked[:3])


async def test_echo_logs_statements_only_when_asked_and_warns(
    sqlite_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_from_dict({"database": {"url": sqlite_url, "echo": True}})
    with caplog.at_level(logging.INFO):
        runtime = await open_runtime(settings, clock=SystemClock())
        try:
            async with session_factory(runtime.engine)() as session:
                await session.execute(text("SELECT :p"), {"p": "visible-parameter"})
        finally:
            await runtime.close()
    assert "[database] echo is on" in caplog.text
    assert "visible-parameter" in caplog.text
