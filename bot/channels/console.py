"""The console channel: a local chat in the terminal, through the same inbox and outbox.

Payloads are plain dicts written by `bot.console_chat`; replies are printed as
`< 教联助手: text`, further lines indented, so a transcript can be read and tested.
Attachments are copied out of the blob store into `files_out` under the name the recipient
would see, and announced on one line (`📎 已发送文件：…（path）`).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from handlers import texts
from handlers.messages import IncomingMessage, Look
from handlers.texts import BOT_NAME
from storage.blobs import BlobStorage
from storage.models import OutboxMessage

from .base import SendResult
from .files import AttachmentError, Limits, attachments_of, load, safe_name

PLATFORM = "console"
# The console has no platform limits; only an empty file is refused, as everywhere.
NO_LIMITS = Limits(file_max=2**62, image_max=2**62)


def format_reply(text: str, prefix: str) -> str:
    first, *rest = text.split("\n")
    pad = " " * (len(prefix) + 2)
    return "\n".join([f"{prefix}: {first}", *(pad + line for line in rest)])


class ConsoleChannel:
    platform = PLATFORM

    def __init__(self, out: TextIO | None = None, *, blobs: BlobStorage | None = None,
                 files_out: str | Path = "var/outbox-files") -> None:
        self.out = out or sys.stdout
        self.current_chat = ""
        self.blobs = blobs
        self.files_out = Path(files_out)

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
            where = Look.of(message.extra).to_name or message.target
            kind = texts.CONSOLE_PRIVATE if message.target_kind == "user" else texts.CONSOLE_GROUP
            prefix = f"< {BOT_NAME} → {where}（{kind}）"
        if message.text.strip() or not message.attachments:
            self.out.write(format_reply(message.text, prefix) + "\n")
        self.out.flush()
        return self._write_files(message, prefix)

    def _write_files(self, message: OutboxMessage, prefix: str) -> SendResult:
        """Each attachment copied out where a person can open it, and one line saying so."""
        try:
            for attachment in attachments_of(message):
                outgoing = load(self.blobs, attachment, NO_LIMITS, PLATFORM)
                self.files_out.mkdir(parents=True, exist_ok=True)
                path = self.files_out / safe_name(outgoing.name, attachment.sha256[:16])
                path.write_bytes(outgoing.data)
                line = texts.CONSOLE_IMAGE_SENT if outgoing.kind == "image" else (
                    texts.CONSOLE_FILE_SENT)
                self.out.write(format_reply(line.format(name=outgoing.name, path=path),
                                            prefix) + "\n")
        except AttachmentError as exc:
            return SendResult.fail(str(exc))
        finally:
            self.out.flush()
        return SendResult.sent()
