"""`FeishuChannel`: the worker's normaliser and the delivery loop's sender for every
configured Feishu app.

One aiohttp session for the channel (closed by `close()`), one token cache per app, the
per-chat rate limit and each app's own (its `sends_per_s` setting), and the outbox key →
Feishu `uuid` mapping that makes a re-sent row harmless for an hour. Imports
handlers.messages/texts only through its helpers.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bot.channels.base import SendResult
from bot.channels.download import ImageGone
from bot.channels.files import AttachmentError, Limits, UploadCache, attachments_of, load
from bot.channels.limits import SlidingWindow
from bot.config import FeishuApp
from handlers.messages import Attachment, ImageRef, IncomingMessage, Look
from storage.blobs import BlobStorage
from storage.models import OutboxMessage
from storage.outbox import progress_of

from .api import FeishuApi, FeishuUploads, fetch_message_image
from .cards import titled_card, undo_card, withdrawn_card
from .normalise import PLATFORM, BotIdentity, normalise

log = logging.getLogger(__name__)

# Feishu's 5 a second per chat is shared by every bot in the chat: no app can raise it.
PER_CHAT_PER_S = 5
# Documented limits of im/v1/files and im/v1/images: no empty uploads.
UPLOAD_LIMITS = Limits(file_max=30 * 1024 * 1024, image_max=10 * 1024 * 1024)
# How long an uploaded key is reused for a retry (Feishu documents no expiry; stay modest).
UPLOAD_KEY_TTL_S = 6 * 3600


def message_uuid(key: str) -> str:
    """Feishu's idempotency key (≤ 50 chars), fixed by the outbox key."""
    return "jl-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def attachment_uuid(key: str, n: int) -> str:
    """The idempotency key of the row's n-th attachment (1-based): the text's plus a suffix,
    at most 50 chars, so each send of a row is deduplicated on its own."""
    return f"{message_uuid(key)}-a{n}"


class FeishuChannel:
    platform = PLATFORM

    def __init__(self, apps: Sequence[FeishuApp], *, bot_name: str = "",
                 timezone: str = "Asia/Shanghai",
                 clock: Callable[[], float] = time.monotonic,
                 blobs: BlobStorage | None = None) -> None:
        if not apps:
            raise ValueError("FeishuChannel needs at least one app")
        self.apps = {a.app_id: a for a in apps}
        self.default_app = apps[0].app_id
        self.bots = {a.app_id: BotIdentity(open_id=a.bot_open_id, name=bot_name) for a in apps}
        self.tz = ZoneInfo(timezone)
        self.session = aiohttp.ClientSession()
        self.api = {a.app_id: FeishuApi(a, self.session, clock) for a in apps}
        self.per_chat = SlidingWindow(PER_CHAT_PER_S, clock=clock)
        self.per_app = {a.app_id: SlidingWindow(a.sends_per_s, clock=clock) for a in apps}
        self.blobs = blobs
        self.uploaded = UploadCache(UPLOAD_KEY_TTL_S, clock)

    def normalise(self, payload: dict[str, Any]) -> IncomingMessage | None:
        return normalise(payload, self.bots, self.tz)

    async def close(self) -> None:
        await self.session.close()

    def _api_for(self, app_id: str) -> FeishuApi | None:
        # Rows written without an app (scheduled messages) go out through the first app.
        return self.api.get(app_id or self.default_app)

    async def send(self, message: OutboxMessage) -> SendResult:
        """The text, then each attachment, as separate messages. Each has its own `uuid`, so
        Feishu drops a repeat within an hour (a crash between send and mark); the steps already
        accepted are counted on the row, so a retry after a partial failure resumes after
        them instead of leaning on that hour."""
        api = self._api_for(message.app_id)
        if api is None:
            return SendResult.fail(f"no Feishu app {message.app_id!r} is configured")
        try:
            attachments = attachments_of(message)
        except AttachmentError as exc:
            return SendResult.fail(str(exc))
        if attachments and message.target_kind != "user" and not message.reply_to:
            # A chat the bot starts a message in may be a group: files go only privately.
            log.error("outbox %s: attachments for a chat dropped (files go only privately)",
                      message.id)
            attachments = []
        if not attachments:
            return await self._send_text(api, message)
        done = progress_of(message)
        if done == 0 and message.text.strip():
            result = await self._send_text(api, message)
            if not result.ok:
                return result
        done = max(done, 1)
        for n in range(done, len(attachments) + 1):
            result = await self._send_attachment(api, message, attachments[n - 1], n)
            if not result.ok:
                return result if result.permanent else replace(result, done=n)
        return SendResult.sent()

    async def _send_attachment(self, api: FeishuApi, message: OutboxMessage,
                               attachment: Attachment, n: int) -> SendResult:
        """Upload one file or picture, then send it as a file or image message."""
        field = "image_key" if attachment.kind == "image" else "file_key"
        key = self.uploaded.get(api.app.app_id, attachment)
        if key is None:
            try:
                outgoing = load(self.blobs, attachment, UPLOAD_LIMITS, PLATFORM)
            except AttachmentError as exc:
                return SendResult.fail(str(exc))
            uploaded = await FeishuUploads(api).upload(outgoing.kind, outgoing.name,
                                                       outgoing.data)
            if not uploaded.ok:
                return uploaded.as_send_result()
            key = str((uploaded.data or {}).get(field) or "")
            if not key:
                return SendResult.retry(f"upload answered without {field}")
            self.uploaded.put(api.app.app_id, attachment, key)
        content = {field: key}
        await self.per_app[api.app.app_id].acquire(api.app.app_id)
        await self.per_chat.acquire(message.target)
        uuid = attachment_uuid(message.key, n)
        if message.reply_to:
            result = await api.reply(message_id=message.reply_to, msg_type=attachment.kind,
                                     content=content, uuid=uuid)
        else:
            id_type = "open_id" if message.target_kind == "user" else "chat_id"
            result = await api.send(receive_id_type=id_type, receive_id=message.target,
                                    msg_type=attachment.kind, content=content, uuid=uuid)
        return result.as_send_result()

    async def _send_text(self, api: FeishuApi, message: OutboxMessage) -> SendResult:
        look = Look.of(message.extra)
        if look.undo_ref:
            msg_type, content = "interactive", undo_card(message.text, look.undo_ref)
        elif look.title:
            msg_type, content = "interactive", titled_card(look.title, message.text)
        else:
            msg_type, content = "text", {"text": message.text}
        await self.per_app[api.app.app_id].acquire(api.app.app_id)
        await self.per_chat.acquire(message.target)
        uuid = message_uuid(message.key)
        if message.reply_to:
            result = await api.reply(message_id=message.reply_to, msg_type=msg_type,
                                     content=content, uuid=uuid)
        else:
            id_type = "open_id" if message.target_kind == "user" else "chat_id"
            result = await api.send(receive_id_type=id_type, receive_id=message.target,
                                    msg_type=msg_type, content=content, uuid=uuid)
        if result.ok and message.reply_to and look.update_card:
            return await self._withdraw_card(api, message)
        return result.as_send_result()

    async def _withdraw_card(self, api: FeishuApi, message: OutboxMessage) -> SendResult:
        """After the answer to a 撤销 press: the card loses its button and says what happened."""
        assert message.reply_to is not None
        # "Not yours" or "nothing to undo" leave the button for whoever may still press it.
        if not Look.of(message.extra).withdrawn:
            return SendResult.sent()
        result = await api.update_card(message_id=message.reply_to,
                                       card=withdrawn_card(message.text))
        if result.ok or not result.retry:
            if not result.ok:
                log.warning("outbox %s: card not updated: %s", message.id, result.error)
            return SendResult.sent()
        # A retry re-sends the reply too; its uuid makes Feishu ignore the second copy.
        return result.as_send_result()

    # --- pictures in received messages ------------------------------------------------------

    async def fetch_image(self, msg: IncomingMessage, ref: ImageRef, limit: int) -> bytes:
        """A picture of a received message, through the app that received it."""
        api = self._api_for(msg.app_id)
        message_id, _, image_key = ref.ref.partition("/")
        if api is None or not message_id or not image_key:
            raise ImageGone("no app for this message, or not a Feishu picture reference")
        return await fetch_message_image(api, message_id, image_key, limit)
