"""FeishuChannel.send through the real delivery loop against the fake open platform:
token cache, retries after 5xx, 429 honoured, permanent errors, rate limits, cards."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.feishu import FeishuChannel
from bot.channels.feishu.channel import message_uuid
from bot.channels.limits import SlidingWindow
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.app_support import Mono
from tests.fakes.feishu import FakeFeishu, Fault


@dataclasses.dataclass
class Rig:
    fake: FakeFeishu
    runtime: Runtime
    channel: FeishuChannel
    clock: FixedClock
    mono: Mono

    async def queue(self, key: str, text: str = "你好", **kw: object) -> None:
        fields: dict[str, object] = {"target_kind": "chat", "target": "oc_1", **kw}
        msg = NewMessage(key=key, platform="feishu", app_id="cli_test", text=text,
                         **fields)  # type: ignore[arg-type]
        async with transaction(self.runtime.factory) as session:
            await enqueue(session=session, message=msg, now=self.clock.now())

    async def rows(self) -> list[OutboxMessage]:
        async with self.runtime.factory() as session:
            result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))  # type: ignore[arg-type]
            return list(result.scalars())


@pytest.fixture
async def rig(sqlite_url: str) -> AsyncIterator[Rig]:
    fake = await FakeFeishu().start()
    settings = settings_from_dict({"feishu": {"app_id": "cli_test", "app_secret": "secret",
                                              "api_base": fake.url}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=sqlite_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    mono = Mono()
    channel = FeishuChannel(settings.feishu, clock=mono)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, channel, clock, mono)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


async def test_text_sent_to_chat_with_uuid_from_outbox_key(rig: Rig) -> None:
    await rig.queue("k1", "第一条")
    await rig.queue("k2", "私信", target="ou_x", target_kind="user")
    await rig.runtime.delivery.drain()
    [chat, user] = rig.fake.sent
    assert (chat.kind, chat.receive_id_type, chat.target, chat.content) == (
        "send", "chat_id", "oc_1", {"text": "第一条"})
    assert (user.receive_id_type, user.target) == ("open_id", "ou_x")
    assert chat.uuid == message_uuid("k1") and len(chat.uuid) <= 50
    assert [r.status for r in await rig.rows()] == ["sent", "sent"]


async def test_reply_goes_to_the_message(rig: Rig) -> None:
    await rig.queue("k1", "收到", reply_to="om_user")
    await rig.runtime.delivery.drain()
    [sent] = rig.fake.sent
    assert (sent.kind, sent.target) == ("reply", "om_user")


async def test_digest_becomes_a_card_titled_by_the_scheduler(rig: Rig) -> None:
    text = "📊 周报 · 泗顶镇中心小学\n本周活动 1 次：集体备课 1"
    await rig.queue("d1", text, target="ou_p", target_kind="user",
                    extra={"card": True, "title": "📊 周报 · 泗顶镇中心小学"})
    await rig.runtime.delivery.drain()
    [sent] = rig.fake.sent
    assert sent.msg_type == "interactive"
    assert sent.content["header"]["title"]["content"] == "📊 周报 · 泗顶镇中心小学"
    assert sent.content["elements"][0]["text"]["content"] == "本周活动 1 次：集体备课 1"


async def test_undo_ref_becomes_a_card_with_a_button(rig: Rig) -> None:
    await rig.queue("k1", "已记录", extra={"undo_ref": "activity:12"})
    await rig.runtime.delivery.drain()
    [sent] = rig.fake.sent
    assert sent.msg_type == "interactive"
    [button] = sent.content["elements"][1]["actions"]
    assert (button["text"]["content"], button["value"]) == (
        "撤销", {"intent": "undo", "undo": "activity:12"})


async def test_one_token_for_many_sends_and_a_new_one_when_it_expires(rig: Rig) -> None:
    for n in range(5):
        await rig.queue(f"k{n}", target=f"oc_{n}")
    await rig.runtime.delivery.drain()
    assert (len(rig.fake.sent), rig.fake.token_requests) == (5, 1)
    rig.mono.t += 7200 - 299  # inside the refresh margin: refreshed ahead of expiry
    await rig.queue("k9")
    await rig.runtime.delivery.drain()
    assert (len(rig.fake.sent), rig.fake.token_requests) == (6, 2)


async def test_token_refused_by_the_server_is_dropped_and_the_send_retried_once(
        rig: Rig) -> None:
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    rig.fake.revoke_tokens()
    await rig.queue("k2")
    await rig.runtime.delivery.drain()
    assert (len(rig.fake.sent), rig.fake.token_requests) == (2, 2)
    assert [r.status for r in await rig.rows()] == ["sent", "sent"]


async def test_server_error_is_retried_after_backoff_then_sent(rig: Rig) -> None:
    rig.fake.faults = [Fault(500, 0), Fault(503, 0)]
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, row.attempts, rig.fake.sent) == ("pending", 1, [])
    assert row.next_attempt_at > rig.clock.now()
    for _ in range(2):
        rig.clock.advance(timedelta(minutes=10))
        await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, len(rig.fake.sent)) == ("sent", 1)


async def test_rate_limit_honours_the_reset_header(rig: Rig) -> None:
    rig.fake.faults = [Fault(429, 99991400, {"x-ogw-ratelimit-reset": "7"})]
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "pending"
    assert row.next_attempt_at == rig.clock.now() + timedelta(seconds=7)
    rig.clock.advance(timedelta(seconds=6))
    await rig.runtime.delivery.drain()
    assert rig.fake.sent == []
    rig.clock.advance(timedelta(seconds=1))
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 1


@pytest.mark.parametrize("code", [230002, 230013, 230025, 230035, 232009])
async def test_permanent_errors_mark_the_row_failed(rig: Rig, code: int) -> None:
    rig.fake.faults = [Fault(400, code)]
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and str(code) in row.error
    assert "secret" not in row.error


async def test_resending_a_row_is_deduplicated_by_uuid(rig: Rig) -> None:
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    # As after a crash between the send and marking the row sent:
    assert (await rig.channel.send(row)).ok
    assert len(rig.fake.sent) == 1 and rig.fake.message_calls == 2


async def test_sliding_window_allows_five_per_second_per_chat() -> None:
    mono = Mono()
    window = SlidingWindow(5, clock=mono)
    for _ in range(5):
        await window.acquire("oc_1")
    assert window.delay("oc_1") == pytest.approx(1.0)
    assert window.delay("oc_2") == 0.0
    mono.t += 0.4
    assert window.delay("oc_1") == pytest.approx(0.6)
    mono.t += 0.6
    assert window.delay("oc_1") == 0.0


async def test_each_app_is_paced_at_its_own_configured_rate() -> None:
    apps = settings_from_dict({"feishu": [{"app_id": "cli_busy", "sends_per_s": 200},
                                          {"app_id": "cli_calm"}]}).feishu
    mono = Mono()
    channel = FeishuChannel(apps, clock=mono)
    try:
        for app_id, rate in (("cli_busy", 200), ("cli_calm", 50)):
            window = channel.per_app[app_id]
            for _ in range(rate):  # within one second (the clock stands still)
                assert window.delay(app_id) == 0.0
                window.take(app_id)
            assert window.delay(app_id) == pytest.approx(1.0)
    finally:
        await channel.close()


async def test_a_refused_app_secret_is_retried_not_dropped(rig: Rig) -> None:
    rig.fake.app_secret = "rotated"
    await rig.queue("k1")
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, row.attempts, rig.fake.sent) == ("pending", 1, [])
    assert row.error.startswith("token refused") and "rotated" not in row.error
    rig.fake.app_secret = "secret"
    rig.clock.advance(timedelta(minutes=10))
    await rig.runtime.delivery.drain()
    assert len(rig.fake.sent) == 1


async def test_network_errors_are_retried(rig: Rig) -> None:
    await rig.queue("k1")
    await rig.fake.close()  # nothing listens there any more: connection refused
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ClientConnectorError" in row.error or "network" in row.error or "token" in row.error
