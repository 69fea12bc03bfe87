"""导出本月台账 / 发一下考核表 in chat: the workbook goes privately as a file, scoped by the
asker's role; a group gets one line saying so; a teacher is told whom to ask. Through the
console harness, and end to end over the fake Feishu and WeCom (upload + file message)."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.channels.feishu import FeishuChannel
from bot.channels.feishu.normalise import inbox_payload
from bot.channels.wecom import WeComChannel
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import open_runtime
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.db import create_engine, session_factory, transaction
from storage.models import OutboxMessage
from storage.roster import bind_group, link_identity, members_named
from storage.seed_demo import seed_demo
from tests.app_support import Mono, prepare_demo_database
from tests.chat_harness import Chat
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import text_event
from tests.fakes.wecom import FakeWeCom

LEDGER_SENT = texts.EXPORT_SENT_PRIVATELY.format(what=texts.EXPORT_LEDGER)
SHIYAN = "融安县实验小学教共体"


def _files(chat: Chat) -> list[OutboxMessage]:
    return [m for m in chat.channel.sent if m.attachments]


def _workbook(chat: Chat, message: OutboxMessage) -> openpyxl.Workbook:
    [attachment] = message.attachments or []
    data = chat.runtime.blobs.get(attachment["sha256"])
    assert len(data) == attachment["size"]
    return openpyxl.load_workbook(io.BytesIO(data))


def _cells(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_the_lead_principal_asking_in_the_group_gets_the_community_privately(
        chat: Chat) -> None:
    await chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    reply = await chat.say("韦国庆", "@教联助手 导出本月台账")
    [private] = _files(chat)
    assert reply == [private.text, LEDGER_SENT]
    assert (private.target_kind, private.target) == ("user", "韦国庆")
    [attachment] = private.attachments or []
    assert attachment["kind"] == "file"
    assert attachment["name"] == f"{SHIYAN}_活动台账_2026年11月.xlsx"
    assert private.text == texts.EXPORT_HERE.format(label="2026年11月", what="活动台账",
                                                    name=attachment["name"])
    book = _workbook(chat, private)
    assert book.sheetnames[:4] == ["活动台账", "指标完成情况", "签到簿", "交流轮岗"]
    rows = _cells(book["活动台账"])
    assert SHIYAN in rows[0][0] and "2026-11-01" in rows[0][0]
    [event] = [r for r in rows[2:] if "集体备课" in r]
    assert "融安县实验小学" in event and "语文" in event and 10 in event and "李娜" in event
    # The group saw one line, never the file.
    group = [m for m in chat.channel.sent if m.target_kind == "chat"]
    assert group[-1].text == LEDGER_SENT
    assert all(not m.attachments for m in group)


async def test_a_member_schools_principal_gets_their_school_in_the_private_chat(
        chat: Chat) -> None:
    await chat.say("张丽", "昨天在泗顶小学开展了数学集体备课，8人参加")
    await chat.say("李娜", "昨天在县实小开展了语文教研活动，6人参加")
    reply = await chat.say("欧阳勇", "导出11月台账", p2p=True)
    [private] = _files(chat)
    assert reply == [private.text]
    assert (private.target_kind, private.target) == ("chat", "私聊:欧阳勇")
    [attachment] = private.attachments or []
    assert attachment["name"] == "泗顶镇中心小学_活动台账_2026年11月.xlsx"
    rows = _cells(_workbook(chat, private)["活动台账"])
    assert rows[0][0].startswith("泗顶镇中心小学")
    assert any("集体备课" in r for r in rows[2:])
    assert not any("教研活动" in r for r in rows[2:])  # another school's event


async def test_a_teacher_is_told_whom_to_ask_and_gets_no_file(chat: Chat) -> None:
    assert await chat.say("张丽", "导出本月台账", p2p=True) == [texts.EXPORT_NOT_YOURS]
    assert await chat.say("张丽", "@教联助手 发一下考核表") == [texts.EXPORT_NOT_YOURS]
    assert _files(chat) == []


async def test_the_admin_gets_the_countys_term_assessment(chat: Chat) -> None:
    reply = await chat.say("蒙建华", "发一下考核表", p2p=True)
    [private] = _files(chat)
    assert reply == [private.text]
    [attachment] = private.attachments or []
    assert attachment["name"] == "融安县_考核表_2026年秋季学期.xlsx"
    book = _workbook(chat, private)
    assert book.sheetnames == ["考核"]
    text = "\n".join(str(c) for row in _cells(book["考核"]) for c in row if c is not None)
    for community in ("融安县初级中学教共体", SHIYAN, "融安县第二实验小学教共体"):
        assert community in text


async def test_a_member_schools_principal_gets_the_communitys_assessment(chat: Chat) -> None:
    await chat.say("欧阳勇", "发一下考核表", p2p=True)
    [private] = _files(chat)
    [attachment] = private.attachments or []
    assert attachment["name"] == f"{SHIYAN}_考核表_2026年秋季学期.xlsx"


# --- over the fake platforms ------------------------------------------------------------------

APP_ID, TOKEN = "cli_test", "v-token"
NOW = datetime(2026, 11, 26, 14, 5, tzinfo=SHANGHAI)


async def _link(db_url: str, name: str, platform: str, external_id: str) -> None:
    engine = create_engine(db_url)
    try:
        async with transaction(session_factory(engine)) as session:
            [member] = await members_named(session=session, name=name)
            await link_identity(session=session, member_id=member.id or 0, platform=platform,
                                external_id=external_id)
    finally:
        await engine.dispose()


@pytest.fixture
async def feishu() -> AsyncIterator[FakeFeishu]:
    server = await FakeFeishu(app_id=APP_ID).start()
    try:
        yield server
    finally:
        await server.close()


async def test_feishu_uploads_the_workbook_and_sends_it_as_a_file(
        sqlite_url: str, feishu: FakeFeishu, tmp_path: Path) -> None:
    await prepare_demo_database(sqlite_url, platform="feishu", user="ou_zhangli",
                                chat="oc_group", app_id=APP_ID)
    await _link(sqlite_url, "欧阳勇", "feishu", "ou_ouyang")
    settings = settings_from_dict({
        "database": {"url": sqlite_url}, "files": {"dir": str(tmp_path / "files")},
        "feishu": {"app_id": APP_ID, "app_secret": "secret", "verification_token": TOKEN,
                   "api_base": feishu.url, "bot_open_id": "ou_bot"}})
    runtime = await open_runtime(settings, clock=FixedClock(NOW))
    channel = FeishuChannel(settings.feishu, blobs=runtime.blobs)
    runtime.add_channel(channel)
    try:
        bot = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}
        event = text_event("@_user_1 导出本月台账", app_id=APP_ID, token=TOKEN,
                           chat_id="oc_group", open_id="ou_ouyang", mentions=[bot])
        await runtime.inbox.save(platform="feishu", event_id=event["header"]["event_id"],
                                 payload=inbox_payload(APP_ID, event, via="webhook"))
        await runtime.worker.drain()
        await runtime.delivery.drain()
    finally:
        await channel.close()
        await runtime.close()
    [upload] = feishu.uploads
    assert (upload.kind, upload.file_type) == ("file", "xls")
    assert upload.name == "泗顶镇中心小学_活动台账_2026年11月.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(upload.data)).sheetnames[0] == "活动台账"
    to_him = [s for s in feishu.sent if s.target == "ou_ouyang"]
    assert [s.msg_type for s in to_him] == ["text", "file"]
    assert to_him[1].content == {"file_key": upload.key}
    assert to_him[1].receive_id_type == "open_id"
    in_group = [s for s in feishu.sent if s.target != "ou_ouyang"]
    assert [s.msg_type for s in in_group] == ["text"]
    assert in_group[0].content == {"text": LEDGER_SENT}


async def test_wecom_uploads_app_media_and_answers_the_group_at_the_response_url(
        sqlite_url: str, tmp_path: Path) -> None:
    fake = await FakeWeCom().start()
    settings = settings_from_dict({
        "files": {"dir": str(tmp_path / "files")},
        "wecom": {"corp_id": "ww_corp", "agent_id": 1000002, "app_secret": "app-secret",
                  "api_base": fake.url}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=sqlite_url))
    clock = FixedClock(NOW)
    runtime = await open_runtime(settings, clock=clock)
    async with transaction(runtime.factory) as session:
        await seed_demo(session=session)
        [principal] = await members_named(session=session, name="韦国庆")
        await link_identity(session=session, member_id=principal.id or 0, platform="wecom",
                            external_id="weiguoqing")
        await bind_group(session=session, platform="wecom", chat_id="wrk_group", scope=SHIYAN)
    assert settings.wecom is not None
    channel = WeComChannel(settings.wecom, factory=runtime.factory, now=clock.now, clock=Mono(),
                           blobs=runtime.blobs)
    runtime.add_channel(channel)
    try:
        message = {"msgid": "m-export", "aibotid": "bot", "chatid": "wrk_group",
                   "chattype": "group", "from": {"userid": "weiguoqing"},
                   "response_url": fake.response_url(), "msgtype": "text",
                   "text": {"content": "@教联助手 导出本月台账"}}
        await runtime.inbox.save(platform="wecom", event_id="m-export",
                                 payload={"via": "callback", "timestamp": int(NOW.timestamp()),
                                          "message": message})
        await runtime.worker.drain()
        await runtime.delivery.drain()
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()
    [media] = fake.media
    assert (media.kind, media.name) == ("file", f"{SHIYAN}_活动台账_2026年11月.xlsx")
    assert openpyxl.load_workbook(io.BytesIO(media.data)).sheetnames[0] == "活动台账"
    assert [(s.kind, s.target, s.msgtype) for s in fake.sent if s.kind == "app"] == [
        ("app", "weiguoqing", "text"), ("app", "weiguoqing", "file")]
    [response] = [s for s in fake.sent if s.kind == "response"]
    assert response.content == LEDGER_SENT


async def test_delivery_draws_a_named_chart_before_sending_it(chat: Chat) -> None:
    """A digest's chart is named in the beat and drawn by delivery (bot.makers)."""
    from sqlalchemy import select as sa_select

    from handlers.messages import Attachment
    from storage.models import Community
    from storage.outbox import NewMessage, enqueue

    await chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    async with chat.runtime.factory() as session:
        cid = (await session.execute(sa_select(Community.id).where(
            Community.name == SHIYAN))).scalar_one()
    recipe = Attachment.to_make("image", "chart.png", "community_chart", community_id=cid,
                                start="2026-09-01", end="2026-11-01", activity="lesson_prep")
    async with transaction(chat.runtime.factory) as session:
        await enqueue(session=session, now=chat.clock.now(), message=NewMessage(
            key="digest:test:chart", platform="console", target_kind="user", target="韦国庆",
            text="📊 周报", attachments=[recipe.as_dict()]))
    before = len(chat.channel.sent)
    await chat.runtime.delivery.drain()
    [sent] = chat.channel.sent[before:]
    [made] = sent.attachments or []
    png = chat.runtime.blobs.get(made["sha256"])
    assert png.startswith(b"\x89PNG") and made["size"] == len(png)
