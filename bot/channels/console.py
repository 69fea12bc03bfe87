"""The console channel: a local chat in the terminal, through the same inbox and outbox.

Payloads are plain dicts written by `bot.console_chat`; replies are printed as
`< 教联助手: text`, further lines indented, so a transcript can be read and tested.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, TextIO

from handlers import texts
from handlers.messages import IncomingMessage
from handlers.texts import BOT_NAME
from storage.models import OutboxMessage

from .base import SendResult

PLATFORM = "console"


def format_reply(text: str, prefix: str) -> str:
    first, *rest = text.split("\n")
    pad = " " * (len(prefix) + 2)
    return "\n".join([f"{prefix}: {first}", *(pad + line for line in rest)])


class ConsoleChannel:
    platform = PLATFORM

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.current_chat = ""

    def normalise(self, payload: dict[str, Any]) -> IncomingMessage | None:
        return IncomingMessage(
            platform=PLATFORM, chat_id=str(payload["chat_id"]),
            chat_type=str(payload.get("chat_type", "group")), sender_id=str(payload["sender"]),
            text=str(payload.get("text", "")), message_id=str(payload["message_id"]),
            received_at=datetime.fromisoformat(str(payload["received_at"])),
            sender_name=str(payload.get("sender", "")),
            addressed=str(payload.get("text", "")).lstrip().startswith(f"@{BOT_NAME}"),
        )

    async def send(self, message: OutboxMessage) -> SendResult:
        prefix = f"< {BOT_NAME}"
        shown_here = message.target_kind == "chat" and message.target == self.current_chat
        if not shown_here:
            where = (message.extra or {}).get("to_name") or message.target
            kind = texts.CONSOLE_PRIVATE if message.target_kind == "user" else texts.CONSOLE_GROUP
            prefix = f"< {BOT_NAME} → {where}（{kind}）"
        self.out.write(format_reply(message.text, prefix) + "\n")
        self.out.flush()
        return SendResult.sent()
