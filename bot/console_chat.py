"""`jiaolian chat`: a local chat with the bot, as a teacher of the demo county.

Every line goes the real way: inbox → worker → parser → handler → outbox → console channel.
Lines starting with `/` are console commands: /as 姓名, /group 名称, /private, /time …, /quit.
When stdin is not a terminal the session is a script: each message is echoed as
`> 姓名: text` and each reply printed as `< 教联助手: text`.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.channels.console import PLATFORM, ConsoleChannel
from bot.command_support import parse_moment
from bot.config import Settings
from bot.runtime import Runtime, blob_storage, open_runtime
from handlers import texts
from handlers.clock import SimulatedClock
from scheduler.config import config_for
from scheduler.setup import catch_up_hook
from storage.roster import group_by_chat, member_by_identity

DEFAULT_SPEAKER = "张丽"
DEFAULT_GROUP = "融安县实验小学教共体群"
PRIVATE_PREFIX = "私聊:"


class ConsoleSession:
    def __init__(self, runtime: Runtime, channel: ConsoleChannel, clock: SimulatedClock,
                 out: TextIO, *, script: bool) -> None:
        self.runtime = runtime
        self.channel = channel
        self.clock = clock
        self.out = out
        self.script = script
        self.speaker = DEFAULT_SPEAKER
        self.chat_id = DEFAULT_GROUP
        self.chat_type = "group"
        channel.current_chat = self.chat_id

    def say(self, text: str) -> None:
        self.out.write(f"  ({text})\n" if self.script else f"{text}\n")
        self.out.flush()

    @property
    def prompt(self) -> str:
        where = texts.CONSOLE_PRIVATE if self.chat_type == "p2p" else self.chat_id
        return f"{self.speaker}@{where}> "

    async def command(self, line: str) -> bool:
        """Run a /command; False means quit."""
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if name in ("quit", "exit", "q"):
            return False
        if name == "as" and arg:
            async with self.runtime.factory() as session:
                member = await member_by_identity(session=session, platform=PLATFORM,
                                                  external_id=arg)
            if member is None:
                self.say(texts.CONSOLE_NO_MEMBER.format(name=arg))
            else:
                self.speaker = arg
                if self.chat_type == "p2p":
                    self._switch(PRIVATE_PREFIX + arg, "p2p")
        elif name == "group" and arg:
            async with self.runtime.factory() as session:
                group = await group_by_chat(session=session, platform=PLATFORM, chat_id=arg)
            if group is None:
                self.say(texts.CONSOLE_NO_GROUP.format(name=arg))
            else:
                self._switch(arg, "group")
        elif name == "private":
            self._switch(PRIVATE_PREFIX + self.speaker, "p2p")
        elif name == "time" and arg:
            try:
                moment = parse_moment(arg)
            except ValueError:
                self.say(texts.CONSOLE_TIME_FORMAT)
                return True
            before = self.clock.now()
            self.clock.set(moment)
            for hook in self.runtime.time_hooks:
                await hook(before, moment)
            await self.runtime.delivery.drain()
        else:
            self.say(texts.CONSOLE_COMMANDS)
        return True

    def _switch(self, chat_id: str, chat_type: str) -> None:
        self.chat_id, self.chat_type = chat_id, chat_type
        self.channel.current_chat = chat_id

    async def message(self, text: str) -> None:
        if self.script:
            self.out.write(f"> {self.speaker}: {text}\n")
        now = self.clock.now()
        payload = {
            "chat_id": self.chat_id, "chat_type": self.chat_type, "sender": self.speaker,
            "text": text, "message_id": uuid.uuid4().hex, "received_at": now.isoformat(),
        }
        await self.runtime.inbox.save(platform=PLATFORM, event_id=payload["message_id"],
                                      payload=payload)
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()


def outbox_files_dir(settings: Settings) -> Path:
    """Where the console puts the files the bot "sent": next to the blob store, by name."""
    return Path(settings.files.dir).parent / "outbox-files"


async def run_console(settings: Settings, *, src: TextIO | None = None,
                      out: TextIO | None = None) -> int:
    src = src or sys.stdin
    out = out or sys.stdout
    script = not src.isatty()
    clock = SimulatedClock()
    blobs = blob_storage(settings)
    channel = ConsoleChannel(out, blobs=blobs, files_out=outbox_files_dir(settings))
    runtime = await open_runtime(settings, clock=clock, channels={PLATFORM: channel},
                                 blobs=blobs)
    runtime.time_hooks.append(catch_up_hook(
        factory=runtime.factory, files=blobs, config=config_for(
            scheduler=settings.scheduler, nlu=settings.nlu, timezone=settings.bot.timezone)))
    session = ConsoleSession(runtime, channel, clock, out, script=script)
    try:
        if not script:
            out.write(texts.CONSOLE_WELCOME + "\n")
        while True:
            if not script:
                out.write(session.prompt)
                out.flush()
            line = src.readline()
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not await session.command(line):
                    break
            else:
                await session.message(line)
    finally:
        await runtime.close()
    return 0
