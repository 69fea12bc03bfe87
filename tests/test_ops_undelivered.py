"""Messages that delivery gave up on reach the admins once a day, privately, in chat."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from scheduler.config import config_for
from scheduler.setup import SchedulerService
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue, mark_failed
from tests.chat_harness import Chat, at


async def give_up(chat: Chat, key: str, created: str, text: str) -> None:
    async with transaction(chat.runtime.factory) as session:
        await enqueue(session=session, now=at(created), message=NewMessage(
            key=key, platform="wecom", target_kind="chat", target="wrk-1", text=text,
            extra={"to_name": "实验小学教研群"}))
    async with transaction(chat.runtime.factory) as session:
        row = (await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.key) == key))).scalar_one()
        await mark_failed(session=session, message_id=row.id or 0,
                          error="refused (HTTP 200, errcode 93000): invalid webhook url")


async def test_yesterdays_given_up_messages_are_noted_to_the_admin_once(chat: Chat) -> None:
    await give_up(chat, "a", "2026-11-25T15:00", "本周集体备课提醒：请各校在周五前完成")
    await give_up(chat, "b", "2026-11-25T16:00", "签到提醒")
    await give_up(chat, "c", "2026-11-26T09:00", "今天的不算")
    config = config_for(scheduler={}, nlu={})
    runs: list[str] = []
    service = SchedulerService(factory=chat.runtime.factory, clock=chat.clock, config=config,
                               on_run=runs.append)
    chat.clock.moment = at("2026-11-26T07:59")
    await service.beat()
    await chat.runtime.delivery.drain()
    assert [m for m in chat.channel.sent if m.extra and m.extra.get("kind") ==
            "undelivered_note"] == []
    chat.clock.moment = at("2026-11-26T08:01")
    for _ in range(2):  # a second beat (or instance) queues nothing more
        await service.beat()
        await chat.runtime.delivery.drain()
    notes = [m for m in chat.channel.sent
             if m.extra and m.extra.get("kind") == "undelivered_note"]
    assert len(notes) == 1 and runs == ["ok", "ok", "ok"]
    [note] = notes
    assert (note.target_kind, note.target) == ("user", "蒙建华")
    assert "11月25日有 2 条消息" in note.text and "实验小学教研群" in note.text
    assert "errcode 93000" in note.text and "今天的不算" not in note.text
    chat.clock.moment = at("2026-11-27T08:01")  # the next morning: the 26th's own note
    await service.beat()
    await chat.runtime.delivery.drain()
    notes = [m for m in chat.channel.sent
             if m.extra and m.extra.get("kind") == "undelivered_note"]
    assert len(notes) == 2 and "11月26日有 1 条消息" in notes[1].text
