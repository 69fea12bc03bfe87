"""WeComChannel.send through the real delivery loop against the fake WeCom server: group
webhooks for messages the bot starts, the self-built app for private notes (token cache,
42001 refresh), 45009 retried, splitting at 2048 bytes, our own per-minute throttle, and
replies whose response_url has expired."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.wecom import WeComChannel
from bot.channels.wecom.limits import split_text
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from bot.shared_limits import SLACK_S
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.app_support import Mono
from tests.fakes.wecom import FakeWeCom
from tests.wecom_support import answer, robot_text, save

GROUP, OTHER_GROUP = "wrk_group", "wrk_no_hook"


@dataclasses.dataclass
class Rig:
    fake: FakeWeCom
    runtime: Runtime
    channel: WeComChannel
    clock: FixedClock
    mono: Mono

    async def queue(self, key: str, text: str = "你好", **kw: Any) -> None:
        fields: dict[str, Any] = {"target_kind": "chat", "target": GROUP, **kw}
        msg = NewMessage(key=key, platform="wecom", text=text, **fields)
        async with transaction(self.runtime.factory) as session:
            await enqueue(session=session, message=msg, now=self.clock.now())

    async def rows(self) -> list[OutboxMessage]:
        async with self.runtime.factory() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            return list((await session.execute(stmt)).scalars())

    async def later(self, seconds: float) -> None:
        """Both clocks move on, then whatever is due goes out."""
        self.clock.advance(timedelta(seconds=seconds))
        self.mono.t += seconds
        await self.runtime.delivery.drain()


@pytest.fixture
async def rig(sqlite_url: str) -> AsyncIterator[Rig]:
    async for r in _rig(sqlite_url):
        yield r


async def _rig(sqlite_url: str, **wecom: Any) -> AsyncIterator[Rig]:
    """`wecom`: more keys of the [wecom] table (its send limits)."""
    fake = await FakeWeCom().start()
    settings = settings_from_dict({"wecom": {
        "corp_id": "ww_corp", "agent_id": 1000002, "app_secret": "app-secret",
        "api_base": fake.url, "group_webhooks": [{"chat_id": GROUP, "key": "hook-key"}],
        **wecom}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=sqlite_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    mono = Mono()
    assert settings.wecom is not None
    channel = WeComChannel(settings.wecom, factory=runtime.factory, now=clock.now, clock=mono)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, channel, clock, mono)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


async def test_a_reminder_to_a_group_goes_to_its_webhook(rig: Rig) -> None:
    await rig.queue("remind:2026-11-26:chat:1", "⏰ 本周教研活动还差 1 次")
    await rig.queue("remind:2026-11-26:chat:2", "⏰ 提醒", target=OTHER_GROUP)
    await rig.runtime.delivery.drain()
    [sent] = rig.fake.sent
    assert (sent.kind, sent.target, sent.msgtype, sent.content) == (
        "webhook", "hook-key", "text", "⏰ 本周教研活动还差 1 次")
    ok, no_hook = await rig.rows()
    assert ok.status == "sent"
    assert no_hook.status == "failed" and "webhook" in no_hook.error


async def test_private_notes_share_one_token_and_refresh_it_on_42001(rig: Rig) -> None:
    for n in range(3):
        await rig.queue(f"note:{n}", f"私信{n}", target_kind="user", target="principal")
    await rig.runtime.delivery.drain()
    assert [(s.kind, s.target, s.content) for s in rig.fake.sent] == [
        ("app", "principal", f"私信{n}") for n in range(3)]
    assert rig.fake.token_requests == 1
    rig.fake.revoke_tokens()
    await rig.queue("note:3", "私信3", target_kind="user", target="principal")
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 4 and rig.fake.token_requests == 2
    assert [r.status for r in await rig.rows()] == ["sent"] * 4


async def test_token_is_refreshed_ahead_of_expiry(rig: Rig) -> None:
    await rig.queue("note:a", target_kind="user", target="u1")
    await rig.runtime.delivery.drain()
    rig.mono.t += 7200 - 299
    await rig.queue("note:b", target_kind="user", target="u1")
    await rig.runtime.delivery.drain()
    assert (len(rig.fake.sent), rig.fake.token_requests) == (2, 2)


@pytest.mark.parametrize("errcode", [45009, 45033, -1])
async def test_busy_answers_are_retried_later(rig: Rig, errcode: int) -> None:
    rig.fake.faults = [errcode]
    await rig.queue("note:busy", target_kind="user", target="u1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    # A busy answer says "come back later": waiting is not a failed try.
    assert (row.status, row.attempts, rig.fake.sent) == ("pending", 0, [])
    await rig.later(60)
    assert [r.status for r in await rig.rows()] == ["sent"]
    assert len(rig.fake.sent) == 1


async def test_permanent_errors_end_the_row(rig: Rig) -> None:
    rig.fake.faults = [40003]  # invalid userid
    await rig.queue("note:x", target_kind="user", target="nobody")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and "40003" in row.error


async def test_long_texts_are_split_at_2048_bytes_and_resume_after_a_fault(rig: Rig) -> None:
    text = "\n".join(f"第{n}行：" + "教研活动" * 40 for n in range(30))
    parts = split_text(text)
    assert len(parts) > 2 and all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    await rig.queue("digest:1", text)
    await rig.runtime.delivery.drain()
    assert [s.content for s in rig.fake.sent] == parts


async def test_a_refused_part_is_retried_without_resending_the_parts_before_it(
        rig: Rig) -> None:
    text = "甲" * 1000 + "乙" * 1000  # 6000 bytes: three parts
    await rig.queue("digest:2", text)
    original = rig.fake._fault
    calls = 0

    def fault_on_second() -> dict[str, Any] | None:
        nonlocal calls
        calls += 1
        return {"errcode": 45009, "errmsg": "busy"} if calls == 2 else original()

    rig.fake._fault = fault_on_second  # type: ignore[method-assign]
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 1
    await rig.later(60)
    assert "".join(rig.fake.texts()) == text and len(rig.fake.sent) == 3


async def test_a_group_robot_sends_at_most_20_a_minute(rig: Rig) -> None:
    for n in range(21):
        await rig.queue(f"burst:{n}", f"第{n}条")
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 20
    rows = await rig.rows()
    assert rows[-1].status == "pending" and "throttled" in rows[-1].error
    await rig.later(60 + SLACK_S)  # the window is kept a little longer than the minute
    assert len(rig.fake.sent) == 21


async def test_the_robot_and_member_limits_are_settings(sqlite_url: str) -> None:
    """The configured figures, not WeCom's 20 and 30, hold the sends back; in the channel's
    own windows and the shared ones alike (the runtime's delivery reads the same settings)."""
    async for rig in _rig(sqlite_url, webhook_sends_per_min=25, member_sends_per_min=3):
        for n in range(26):
            await rig.queue(f"burst:{n}", f"第{n}条")
        for n in range(4):
            await rig.queue(f"note:{n}", f"私信{n}", target_kind="user", target="zhangli")
        await rig.runtime.delivery.drain()
        assert sum(s.kind == "webhook" for s in rig.fake.sent) == 25
        assert sum(s.kind == "app" for s in rig.fake.sent) == 3
        await rig.later(60 + SLACK_S)
        assert len(rig.fake.sent) == 30


async def test_a_reply_after_its_response_url_expired_goes_by_the_webhook(rig: Rig) -> None:
    await save(rig.runtime, robot_text("m-old", rig.fake.response_url(), chatid=GROUP))
    rig.clock.advance(timedelta(hours=2))
    await answer(rig.runtime, rig.channel, "m-old", "张丽签到成功")
    await rig.runtime.delivery.drain()
    [sent] = rig.fake.sent
    assert (sent.kind, sent.content) == ("webhook", "张丽签到成功")


async def test_a_response_url_elsewhere_is_never_called(rig: Rig) -> None:
    await save(rig.runtime, robot_text("m-evil", "http://169.254.169.254/latest", chatid=GROUP))
    await answer(rig.runtime, rig.channel, "m-evil", "张丽签到成功")
    await rig.runtime.delivery.drain()
    assert [s.kind for s in rig.fake.sent] == ["webhook"]


async def test_a_second_reply_to_one_message_goes_by_the_app(rig: Rig) -> None:
    url = rig.fake.response_url()
    await save(rig.runtime, robot_text("m-1", url, chattype="single", content="帮助"))
    await answer(rig.runtime, rig.channel, "m-1", "第一条")
    await answer(rig.runtime, rig.channel, "m-1", "第二条", 1)
    await rig.runtime.delivery.drain()
    # WeCom takes one POST per response_url; the second reply reaches the person privately.
    assert [(s.kind, s.target, s.content) for s in rig.fake.sent] == [
        ("response", url.split("=")[-1], "第一条"), ("app", "u1", "第二条")]
    assert [r.status for r in await rig.rows()] == ["sent", "sent"]
