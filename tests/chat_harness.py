"""A chat driven through the real path (inbox → worker → outbox → delivery) with a fixed clock.

The channel records what it is asked to send instead of printing it; everything else is the
production code on a real database.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.channels.base import SendResult
from bot.channels.console import PLATFORM, ConsoleChannel
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SHANGHAI, FixedClock
from handlers.nlu import Parser
from storage.db import transaction
from storage.models import OutboxMessage
from storage.seed_demo import seed_demo

GROUP = "融安县实验小学教共体群"


class RecordingChannel(ConsoleChannel):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> SendResult:
        self.sent.append(message)
        return SendResult.sent()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Chat:
    def __init__(self, runtime: Runtime, channel: RecordingChannel, clock: FixedClock) -> None:
        self.runtime = runtime
        self.channel = channel
        self.clock = clock

    async def say(self, who: str, text: str, *, chat: str = GROUP, p2p: bool = False,
                  event_id: str | None = None) -> list[str]:
        """Send one message as `who`; returns the texts the bot sent in answer."""
        chat_id = f"私聊:{who}" if p2p else chat
        message_id = event_id or uuid.uuid4().hex
        payload = {"chat_id": chat_id, "chat_type": "p2p" if p2p else "group", "sender": who,
                   "text": text, "message_id": message_id,
                   "received_at": self.clock.now().isoformat()}
        await self.runtime.inbox.save(platform=PLATFORM, event_id=message_id, payload=payload)
        before = len(self.channel.sent)
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()
        return [m.text for m in self.channel.sent[before:]]

    async def rows(self, model: type[SQLModel], **where: Any) -> list[Any]:
        async with self.runtime.factory() as session:
            stmt = select(model).filter_by(**where)
            return list((await session.execute(stmt)).scalars())

    async def count(self, model: type[SQLModel]) -> int:
        async with self.runtime.factory() as session:
            return int((await session.execute(
                select(func.count()).select_from(model))).scalar_one())


async def open_chat(db_url: str, now: str = "2026-11-26T10:00:00",
                    raw_settings: dict[str, Any] | None = None,
                    parser: Parser | None = None) -> Chat:
    settings = settings_from_dict(raw_settings or {})
    # Photos and workbooks go to a fresh folder, never into the checkout's var/.
    files = settings.files if "files" in (raw_settings or {}) else dataclasses.replace(
        settings.files, dir=tempfile.mkdtemp(prefix="jiaolian-files-"))
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=db_url), files=files)
    clock = FixedClock(at(now))
    channel = RecordingChannel()
    runtime = await open_runtime(settings, clock=clock, channels={PLATFORM: channel},
                                 parser=parser)
    async with transaction(runtime.factory) as session:
        await seed_demo(session=session)
    return Chat(runtime, channel, clock)
