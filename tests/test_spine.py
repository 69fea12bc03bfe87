"""The message spine's promises: retries never duplicate, crashes lose nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bot.channels.base import SendResult
from bot.channels.console import PLATFORM
from bot.runtime import open_runtime
from bot.worker import Worker
from handlers.nlu import Parser
from handlers.registry import build_dispatcher
from handlers.routing import Context, Dispatcher, Router
from storage.db import transaction
from storage.inbox import claim_events
from storage.models import Activity, ChatGroup, InboxEvent, OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.app_support import pending_events
from tests.chat_harness import GROUP, Chat, RecordingChannel, open_chat

REPORT = "昨天下午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"


def _payload(chat: Chat, text: str, message_id: str) -> dict[str, str]:
    return {"chat_id": GROUP, "chat_type": "group", "sender": "张丽", "text": text,
            "message_id": message_id, "received_at": chat.clock.now().isoformat()}


async def test_redelivered_event_is_answered_once(chat: Chat) -> None:
    first = await chat.say("张丽", REPORT, event_id="evt-1")
    again = await chat.say("张丽", REPORT, event_id="evt-1")
    assert len(first) == 1 and again == []
    assert len(await chat.rows(Activity)) == 1
    assert await chat.count(InboxEvent) == 1


async def test_worker_that_dies_mid_event_loses_nothing(chat: Chat) -> None:
    message_id = uuid.uuid4().hex
    await chat.runtime.inbox.save(platform=PLATFORM, event_id=message_id,
                                  payload=_payload(chat, REPORT, message_id))
    # A worker claims the event and dies before finishing: the lease keeps others off...
    async with transaction(chat.runtime.factory) as session:
        assert len(await claim_events(session=session, now=chat.clock.now())) == 1
    assert await chat.runtime.worker.drain() == 0
    # ...until it runs out; then the event is processed exactly once.
    chat.clock.advance(timedelta(seconds=11))
    assert await chat.runtime.worker.drain() == 1
    await chat.runtime.delivery.drain()
    assert len(await chat.rows(Activity)) == 1
    assert [m.text[:3] for m in chat.channel.sent] == ["已记录"]
    assert await pending_events(chat.runtime.factory) == 0


async def test_a_worker_that_outlives_its_lease_cannot_commit_twice(chat: Chat) -> None:
    message_id = uuid.uuid4().hex
    await chat.runtime.inbox.save(platform=PLATFORM, event_id=message_id,
                                  payload=_payload(chat, REPORT, message_id))
    async with transaction(chat.runtime.factory) as session:
        [slow] = await claim_events(session=session, now=chat.clock.now())
    # The slow worker's lease runs out; another worker takes the event and finishes it...
    chat.clock.advance(timedelta(seconds=11))
    assert await chat.runtime.worker.drain() == 1
    # ...then the slow one finishes too: its copy is rolled back, nothing is doubled.
    worker = chat.runtime.worker
    await worker._alone(slow, await worker._prepare(slow))
    await chat.runtime.delivery.drain()
    assert len(await chat.rows(Activity)) == 1
    assert len(await chat.rows(OutboxMessage)) == 1
    [event] = await chat.rows(InboxEvent)
    assert (event.status, event.error) == ("done", "")


async def test_a_handler_failure_in_a_shared_transaction_is_charged_to_its_event_alone(
    chat: Chat,
) -> None:
    """Events of a batch share a transaction; one that fails rolls it back, and the others
    are handled again on their own: each recorded and answered once, the failure kept."""
    boom = Router("boom")

    @boom.on("checkin")
    async def fail(ctx: Context) -> None:
        raise RuntimeError("handler bug")

    dispatcher = Dispatcher()
    dispatcher.include(boom)
    for router in build_dispatcher().routes.values():
        dispatcher.routes.setdefault(router.intent, router)
    rt = chat.runtime
    worker = Worker(factory=rt.factory, channels=rt.channels, services=rt.services,
                    dispatcher=dispatcher, clock=rt.clock)
    texts = (REPORT, "签到", "今天上午在泗顶镇中心小学开展了五年级语文听课评课，8人参加")
    for n, text in enumerate(texts):
        await rt.inbox.save(platform=PLATFORM, event_id=f"m{n}",
                            payload=_payload(chat, text, f"m{n}"))
    assert await worker.process_batch() == 3
    assert len(await chat.rows(Activity)) == 2
    assert len(await chat.rows(OutboxMessage)) == 2
    events = {e.event_id: e for e in await chat.rows(InboxEvent)}
    assert [events[f"m{n}"].status for n in range(3)] == ["done", "pending", "done"]
    assert "RuntimeError: handler bug" in events["m1"].error
    assert [events[f"m{n}"].error for n in (0, 2)] == ["", ""]


async def test_a_group_bound_in_a_batch_is_known_to_the_next_event_of_that_batch(
    chat: Chat,
) -> None:
    """Look-ups are remembered for a transaction of several events; a binding forgets them."""
    said = (("蒙建华", "绑定本群 融安县初级中学教共体"), ("黄志强", "今天开展了物理集体备课"))
    for n, (who, text) in enumerate(said):
        payload = _payload(chat, text, f"b{n}") | {"chat_id": "新群", "sender": who}
        await chat.runtime.inbox.save(platform=PLATFORM, event_id=f"b{n}", payload=payload)
    assert await chat.runtime.worker.process_batch() == 2
    [group] = await chat.rows(ChatGroup, chat_id="新群")
    [row] = await chat.rows(Activity)
    assert row.group_id == group.id


async def test_a_failing_event_is_retried_then_given_up_without_blocking_others(
    chat: Chat,
) -> None:
    await chat.runtime.inbox.save(platform="nowhere", event_id="x", payload={})
    reply = await chat.say("张丽", "签到")
    assert reply and reply[0].startswith("张丽签到成功")
    [bad] = await chat.rows(InboxEvent, platform="nowhere")
    assert (bad.status, bad.attempts) == ("pending", 1) and "no channel" in bad.error
    for _ in range(10):
        chat.clock.advance(timedelta(minutes=15))
        await chat.runtime.worker.drain()
    [bad] = await chat.rows(InboxEvent, platform="nowhere")
    assert bad.status == "failed"


async def test_outbox_key_queues_a_message_once(chat: Chat) -> None:
    message = NewMessage(key="digest:2026-W48:member:1", platform=PLATFORM, target_kind="chat",
                         target=GROUP, text="周报")
    async with transaction(chat.runtime.factory) as session:
        assert await enqueue(session=session, message=message, now=chat.clock.now())
        assert not await enqueue(session=session, message=message, now=chat.clock.now())
    await chat.runtime.delivery.drain()
    await chat.runtime.delivery.drain()
    assert [m.text for m in chat.channel.sent] == ["周报"]


class FlakyChannel:
    """A platform that fails on demand: answers come from `results`, in order."""

    platform = PLATFORM

    def __init__(self, results: list[SendResult]) -> None:
        self.results = results
        self.calls = 0

    def normalise(self, payload: dict[str, object]) -> None:
        return None

    async def send(self, message: OutboxMessage) -> SendResult:
        self.calls += 1
        return self.results.pop(0) if self.results else SendResult.sent()


async def test_delivery_retries_with_backoff_until_the_platform_recovers(chat: Chat) -> None:
    flaky = FlakyChannel([SendResult.retry("HTTP 503"), SendResult.retry("429", after=30)])
    chat.runtime.add_channel(flaky)
    async with transaction(chat.runtime.factory) as session:
        await enqueue(session=session, now=chat.clock.now(), message=NewMessage(
            key="k1", platform=PLATFORM, target_kind="chat", target=GROUP, text="提醒"))
    await chat.runtime.delivery.drain()
    [row] = await chat.rows(OutboxMessage)
    assert (row.status, row.attempts, row.error) == ("pending", 1, "HTTP 503")
    assert row.next_attempt_at > chat.clock.now()
    await chat.runtime.delivery.drain()
    assert flaky.calls == 1  # not due yet: nothing is retried early
    chat.clock.advance(timedelta(seconds=5))
    await chat.runtime.delivery.drain()
    [row] = await chat.rows(OutboxMessage)
    # A rate-limit answer is waited for, not counted as a failed try.
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at - chat.clock.now() == timedelta(seconds=30)
    chat.clock.advance(timedelta(seconds=30))
    await chat.runtime.delivery.drain()
    [row] = await chat.rows(OutboxMessage)
    assert (row.status, flaky.calls) == ("sent", 3)


async def test_permanent_platform_error_marks_failed_with_reason(chat: Chat) -> None:
    flaky = FlakyChannel([SendResult.fail("230002 bot not in chat")])
    chat.runtime.add_channel(flaky)
    async with transaction(chat.runtime.factory) as session:
        await enqueue(session=session, now=chat.clock.now(), message=NewMessage(
            key="k2", platform=PLATFORM, target_kind="chat", target=GROUP, text="提醒"))
    await chat.runtime.delivery.drain()
    chat.clock.advance(timedelta(hours=1))
    await chat.runtime.delivery.drain()
    [row] = await chat.rows(OutboxMessage)
    assert (row.status, row.error, flaky.calls) == ("failed", "230002 bot not in chat", 1)


async def test_restart_finishes_events_left_in_the_inbox(db_url: str, demo_parser: Parser) -> None:
    chat = await open_chat(db_url, parser=demo_parser)
    for n in range(3):
        await chat.runtime.inbox.save(platform=PLATFORM, event_id=f"e{n}",
                                      payload=_payload(chat, "签到", f"e{n}"))
    await chat.runtime.close()  # the bot stops before the worker ran
    channel = RecordingChannel()
    runtime = await open_runtime(chat.runtime.settings, clock=chat.clock,
                                 channels={PLATFORM: channel}, parser=demo_parser)
    try:
        assert await runtime.worker.drain() == 3
        await runtime.delivery.drain()
        texts = [m.text for m in channel.sent]
        assert texts[0].startswith("张丽签到成功") and len(texts) == 3
        assert sum("已签到过了" in t for t in texts) == 2
    finally:
        await runtime.close()
