"""Robot messages saved and answered the way production does it, for the WeCom delivery tests:
the inbox writer saves the callback's payload, and an answer is queued as the worker queues
it (the channel's normalise, then bot.worker.outbox_message), so the outbox row carries
whatever delivery needs and nothing reads the inbox back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.channels.wecom import WeComChannel
from bot.channels.wecom.normalise import inbox_payload
from bot.runtime import Runtime
from bot.worker import outbox_message
from handlers.messages import Attachment, Reply
from storage.db import transaction
from storage.models import InboxEvent
from storage.outbox import enqueue


def robot_text(msgid: str, response_url: str, *, chattype: str = "group", chatid: str = "",
               userid: str = "u1", content: str = "@教联助手 签到") -> dict[str, Any]:
    """A robot's decrypted text message (智能机器人 → 接收消息)."""
    message: dict[str, Any] = {"msgid": msgid, "chattype": chattype, "from": {"userid": userid},
                               "response_url": response_url, "msgtype": "text",
                               "text": {"content": content}}
    if chattype == "group":
        message["chatid"] = chatid
    return message


async def save(runtime: Runtime, message: dict[str, Any]) -> None:
    """Saved as the callback saves it (received now, by the runtime's clock)."""
    assert await runtime.inbox.save(platform="wecom", event_id=message["msgid"],
                                    payload=inbox_payload(message, timestamp=0))


async def answer(runtime: Runtime, channel: WeComChannel, msgid: str, text: str, n: int = 0,
                 attachments: tuple[Attachment, ...] = ()) -> None:
    """The `n`th answer to a saved message, queued as the worker queues it."""
    async with transaction(runtime.factory) as session:
        stmt = select(InboxEvent).where(col(InboxEvent.platform) == "wecom",
                                        col(InboxEvent.event_id) == msgid)
        event = (await session.execute(stmt)).scalar_one()
        msg = channel.normalise(event.payload or {})
        assert msg is not None
        row = outbox_message(event, msg, Reply(text, attachments=attachments), n)
        await enqueue(session=session, message=row, now=runtime.clock.now())
