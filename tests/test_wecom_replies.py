"""Replies through a robot message's response_url, and the delivery facts WeCom makes us keep:
escaped markdown up to 20,480 bytes, the URL carried by the outbox row (the inbox payload is
never read back) and marked spent in the database before its one POST (no re-post after a
restart, a timeout or by another instance: the other way instead), refusals and expiry going by
the webhook or the app, a 200 without errcode as sent, 30 a minute per chat; and for the
other ways out: a webhook removed from its group (93000) told to the admins once, members
without a licence, a short duplicate check, long texts within a robot's 20 a minute."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot.channels.wecom import WeComChannel
from bot.channels.wecom.markdown import RESPONSE_MARKDOWN_LIMIT, md_escape
from bot.channels.wecom.normalise import RESPONSE_URL_TTL
from bot.channels.wecom.responses import spend_response_url
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from bot.shared_limits import SLACK_S
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.models import InboxEvent, OutboxMessage
from storage.outbox import NewMessage, enqueue
from storage.roster import bind_group, link_identity, members_named
from storage.seed_demo import seed_demo
from tests.app_support import Mono
from tests.fakes.wecom import FakeWeCom
from tests.wecom_support import answer, robot_text, save

GROUP, GONE = "wrk_group", "wrk_gone"
ADMIN_USERID = "mengjianhua"


@dataclasses.dataclass
class Rig:
    fake: FakeWeCom
    runtime: Runtime
    channel: WeComChannel
    clock: FixedClock
    mono: Mono

    async def restart(self) -> WeComChannel:
        """What a restart makes: a channel that remembers nothing in memory."""
        await self.channel.close()
        return self.new_channel()

    def new_channel(self) -> WeComChannel:
        assert self.runtime.settings.wecom is not None
        channel = WeComChannel(self.runtime.settings.wecom, factory=self.runtime.factory,
                               now=self.clock.now, clock=self.mono)
        self.runtime.add_channel(channel)
        self.channel = channel
        return channel

    async def received(self, msgid: str, *, chattype: str = "group",
                       userid: str = "u1") -> str:
        """A robot message in the inbox, as the callback saved it; its response_url code."""
        url = self.fake.response_url()
        await save(self.runtime, robot_text(msgid, url, chattype=chattype, chatid=GROUP,
                                            userid=userid))
        return url.split("=")[-1]

    async def reply(self, msgid: str, text: str, n: int = 0) -> None:
        """The `n`th answer to a received message, queued as the worker queues it."""
        await answer(self.runtime, self.channel, msgid, text, n)

    async def queue(self, key: str, text: str, **kw: Any) -> None:
        fields: dict[str, Any] = {"target_kind": "chat", "target": GROUP, **kw}
        async with transaction(self.runtime.factory) as session:
            await enqueue(session=session, message=NewMessage(
                key=key, platform="wecom", text=text, **fields), now=self.clock.now())

    async def rows(self) -> list[OutboxMessage]:
        async with self.runtime.factory() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            return list((await session.execute(stmt)).scalars())

    async def later(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.mono.t += seconds
        await self.runtime.delivery.drain()

    def sent(self) -> list[tuple[str, str, str, str]]:
        return [(s.kind, s.target, s.msgtype, s.content) for s in self.fake.sent]


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[Rig]:
    fake = await FakeWeCom(hook_keys=("hook-key",)).start()
    settings = settings_from_dict({"wecom": {
        "corp_id": "ww_corp", "agent_id": 1000002, "app_secret": "app-secret",
        "api_base": fake.url, "group_webhooks": [{"chat_id": GROUP, "key": "hook-key"},
                                                 {"chat_id": GONE, "key": "removed-key"}]}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=db_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    async with transaction(runtime.factory) as session:
        await seed_demo(session=session)
        [admin] = await members_named(session=session, name="蒙建华")
        await link_identity(session=session, member_id=admin.id or 0, platform="wecom",
                            external_id=ADMIN_USERID)
        await bind_group(session=session, platform="wecom", chat_id=GONE, scope="泗顶镇中心小学",
                         name="泗顶小学教师群")
    rig = Rig(fake, runtime, None, clock, Mono())  # type: ignore[arg-type]
    rig.new_channel()  # the first channel
    try:
        yield rig
    finally:
        await rig.channel.close()
        await runtime.close()
        await fake.close()


REPORT = "本周汇总\n- 县实小 3次\n1. 集体备课\n# 2号议题"


async def test_a_reply_is_escaped_markdown_and_may_be_longer_than_4096_bytes(rig: Rig) -> None:
    code = await rig.received("m1")
    long = "\n".join(f"{n}. 教研活动记录" + "好" * 100 for n in range(40))  # ~14 KB
    await rig.reply("m1", REPORT)
    other = await rig.received("m2")
    await rig.reply("m2", long)
    await rig.runtime.delivery.drain()
    assert rig.sent() == [("response", code, "markdown", md_escape(REPORT)),
                          ("response", other, "markdown", md_escape(long))]
    assert len(long.encode()) > 4096


async def test_a_reply_longer_than_20480_bytes_is_cut_once(rig: Rig) -> None:
    await rig.received("m1")
    await rig.reply("m1", "\n".join(f"第{n}行" + "教研" * 50 for n in range(200)))
    await rig.runtime.delivery.drain()
    [(way, _, content)] = [(s.kind, s.target, s.content) for s in rig.fake.sent]
    assert way == "response" and content.endswith("…")
    assert 20000 < len(content.encode()) <= RESPONSE_MARKDOWN_LIMIT


async def test_the_outbox_row_carries_the_url_and_delivery_needs_no_inbox_payload(
        rig: Rig) -> None:
    code = await rig.received("m1")
    await rig.reply("m1", "张丽签到成功")
    [row] = await rig.rows()
    assert row.reply_url is not None and row.reply_url.endswith(code)
    assert row.reply_url_until == rig.clock.now() + RESPONSE_URL_TTL
    assert (row.reply_to, row.reply_person) == ("m1", "")
    async with transaction(rig.runtime.factory) as session:
        await session.execute(update(InboxEvent).values(payload={}))
    await rig.runtime.delivery.drain()
    assert rig.sent() == [("response", code, "markdown", "张丽签到成功")]


async def test_a_single_chat_row_names_the_person_for_the_other_way(rig: Rig) -> None:
    await rig.received("m1", chattype="single", userid="zhangli")
    await rig.reply("m1", "张丽签到成功")
    [row] = await rig.rows()
    assert (row.target, row.reply_person) == ("zhangli", "zhangli")


async def test_the_url_is_spent_once_whoever_asks(rig: Rig) -> None:
    await rig.received("m1")
    at = rig.clock.now()
    assert await spend_response_url(rig.runtime.factory, "m1", now=at)
    assert not await spend_response_url(rig.runtime.factory, "m1", now=at)
    assert not await spend_response_url(rig.runtime.factory, "never-received", now=at)


async def test_the_url_is_marked_spent_and_a_restart_never_posts_to_it_again(
        rig: Rig) -> None:
    code = await rig.received("m1")
    await rig.reply("m1", "张丽签到成功")
    await rig.runtime.delivery.drain()
    async with rig.runtime.factory() as session:
        stmt = select(col(InboxEvent.reply_url_spent_at))
        assert (await session.execute(stmt)).scalar_one() == rig.clock.now()
    await rig.restart()
    await rig.reply("m1", "第二条回复", 1)
    await rig.runtime.delivery.drain()
    assert rig.fake.response_posts == [code]
    assert rig.sent() == [("response", code, "markdown", "张丽签到成功"),
                          ("webhook", "hook-key", "text", "第二条回复")]


async def test_a_crash_after_marking_goes_the_other_way_instead_of_posting_again(
        rig: Rig) -> None:
    """Marked used, then the process died before (or during) its POST: the retry of the same
    row after the restart must not post to the URL."""
    await rig.received("m1", chattype="single", userid="zhangli")
    await rig.reply("m1", "张丽签到成功")
    assert await spend_response_url(rig.runtime.factory, "m1", now=rig.clock.now())
    await rig.restart()
    await rig.runtime.delivery.drain()
    assert rig.fake.response_posts == []
    assert rig.sent() == [("app", "zhangli", "text", "张丽签到成功")]


@pytest.mark.parametrize(("chattype", "way", "to"), [("group", "webhook", "hook-key"),
                                                     ("single", "app", "u1")])
async def test_a_timeout_is_never_posted_again(rig: Rig, chattype: str, way: str,
                                               to: str) -> None:
    code = await rig.received("m1", chattype=chattype)
    rig.fake.response_faults = ["hang"]
    rig.channel.respond_timeout = aiohttp.ClientTimeout(total=0.3)
    await rig.reply("m1", "张丽签到成功")
    await rig.runtime.delivery.drain()
    await rig.later(600)
    assert rig.fake.response_posts == [code]
    assert rig.sent() == [(way, to, "text", "张丽签到成功")]
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_a_refused_response_goes_by_the_webhook(rig: Rig) -> None:
    code = await rig.received("m1")
    rig.fake.response_faults = ["refuse"]
    await rig.reply("m1", "张丽签到成功")
    await rig.runtime.delivery.drain()
    assert rig.fake.response_posts == [code]
    assert rig.sent() == [("webhook", "hook-key", "text", "张丽签到成功")]


async def test_a_200_without_errcode_counts_as_sent(rig: Rig) -> None:
    code = await rig.received("m1")
    rig.fake.response_faults = ["empty"]
    await rig.reply("m1", "张丽签到成功")
    await rig.runtime.delivery.drain()
    assert rig.sent() == [("response", code, "markdown", "张丽签到成功")]
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_responses_are_throttled_to_30_a_minute_per_chat(rig: Rig) -> None:
    for n in range(31):
        await rig.received(f"m{n}")
        await rig.reply(f"m{n}", f"第{n}条")
    await rig.runtime.delivery.drain()
    assert len(rig.fake.response_posts) == 30
    last = (await rig.rows())[-1]
    assert last.status == "pending" and "throttled" in last.error
    await rig.later(60)
    assert len(rig.fake.response_posts) == 31 and rig.sent()[-1][0] == "response"


async def test_a_removed_webhook_fails_the_row_and_tells_the_admins_once(rig: Rig) -> None:
    await rig.queue("remind:1", "⏰ 明天集体备课", target=GONE)
    await rig.queue("remind:2", "⏰ 周报", target=GONE)
    await rig.runtime.delivery.drain()
    rows = await rig.rows()
    assert [(r.target, r.status) for r in rows] == [
        (GONE, "failed"), (GONE, "failed"), (ADMIN_USERID, "sent")]
    assert "93000" in rows[0].error and "removed-key" not in rows[0].error
    assert "removed-key" not in rows[2].key
    assert rig.sent() == [("app", ADMIN_USERID, "text",
                           texts.WECOM_HOOK_REMOVED.format(group="泗顶小学教师群"))]
    await rig.restart()
    await rig.queue("remind:3", "⏰ 再提醒", target=GONE)
    await rig.runtime.delivery.drain()
    assert len(rig.sent()) == 1


async def test_a_member_without_a_licence_fails_with_the_reason(rig: Rig) -> None:
    rig.fake.unlicensed = {"nolicence"}
    await rig.queue("note:1", "私信", target_kind="user", target="nolicence")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and "unlicenseduser" in row.error


async def test_private_notes_use_a_short_duplicate_check(rig: Rig) -> None:
    await rig.queue("note:1", "明天提醒", target_kind="user", target="u1")
    await rig.runtime.delivery.drain()
    [body] = rig.fake.send_bodies
    assert (body["enable_duplicate_check"], body["duplicate_check_interval"]) == (1, 60)


async def test_a_text_of_more_parts_than_the_budget_never_exceeds_it(rig: Rig) -> None:
    text = "\n".join(f"第{n}段：" + "甲" * 670 for n in range(25))  # 25 parts of ~2 KB
    await rig.queue("digest:1", text)
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 20
    [row] = await rig.rows()
    assert row.status == "pending" and "throttled" in row.error
    await rig.later(30)
    assert len(rig.fake.sent) == 20
    await rig.later(30 + SLACK_S)  # the shared window keeps a margin over WeCom's minute
    assert len(rig.fake.sent) == 25
    assert [s.content.split("：")[0] for s in rig.fake.sent] == [f"第{n}段" for n in range(25)]
