"""`WeComChannel`: the worker's normaliser and the delivery loop's sender for WeCom.

Three ways out, chosen per outbox row:
- a reply (`reply_to` = the robot message's msgid) → that message's response_url, which the
  worker wrote into the outbox row with its deadline and, in a single chat, the person
  (`reply_url`, `reply_url_until`, `reply_person`, from normalise's `ReplyRoute`): one POST
  of escaped markdown (≤ 20,480 bytes), valid for an hour, at most 30 a minute per chat. The
  URL is marked spent on its event's inbox row *before* the POST (responses.py), so neither a
  second reply, a retry nor a restart ever posts to it again. A reply whose URL has expired,
  was spent, timed out or was refused goes the way a bot-started message would (a single
  chat: the app to the person; a group: its webhook). A reply to a message the self-built app
  received goes by the app;
- a message the bot starts to a group → the group robot webhook configured for that chat;
- a message to a person (`target_kind` "user") → the self-built app's message/send.
Texts are split at 2048 bytes and throttled per robot / per member on our side, part by part
(a long digest never goes over a robot's 20 a minute: `webhook_sends_per_min`, and
`member_sends_per_min` for the app's 30). A webhook removed from its group
(93000) fails the row and tells every admin once, privately, by the app (responses.py).
Attachments (files, pictures) go only to a person, by the app: media/upload, then a file or
image message after the text parts. A reply that carries them skips the response_url (it
takes markdown only) and reaches the person by the app. The parts and attachments already
accepted are counted on the outbox row (`extra.progress`), so a retry sends only the rest.
Imports handlers.messages; the database only through responses.py (storage.inbox).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ApiResult, SendResult
from bot.channels.download import ImageGone
from bot.channels.files import AttachmentError, Limits, UploadCache, attachments_of, load
from bot.channels.limits import SlidingWindow
from bot.config import WeComSettings
from handlers.messages import Attachment, ImageRef, IncomingMessage
from storage.blobs import BlobStorage
from storage.models import OutboxMessage
from storage.outbox import progress_of

from .api import TIMEOUT, WEBHOOK_REMOVED, WeComApi, WeComMedia, fetch_file
from .app_message import APP_IMAGE, normalise_app
from .crypto import BLOCK, DecryptError, decrypt_file
from .limits import split_text
from .markdown import RESPONSE_MARKDOWN_LIMIT, fit_markdown
from .normalise import PLATFORM, normalise
from .responses import spend_response_url, tell_admins_hook_removed

PER_CHAT_RESPONSES_PER_MIN = 30
MARKDOWN_LIMIT_BYTES = RESPONSE_MARKDOWN_LIMIT
RESPONSE_PATH = "/cgi-bin/aibot/response?"
# media/upload: every file more than 5 bytes; files ≤ 20 MB, pictures ≤ 10 MB.
UPLOAD_LIMITS = Limits(file_max=20 * 1024 * 1024, image_max=10 * 1024 * 1024, min_bytes=6)
# A media_id lives three days; reuse it for retries well inside that.
MEDIA_TTL_S = 2 * 24 * 3600

log = logging.getLogger(__name__)


class WeComChannel:
    platform = PLATFORM

    def __init__(self, wecom: WeComSettings, *, factory: async_sessionmaker[AsyncSession],
                 now: Callable[[], datetime], bot_name: str = "",
                 timezone: str = "Asia/Shanghai",
                 clock: Callable[[], float] = time.monotonic,
                 blobs: BlobStorage | None = None) -> None:
        self.wecom = wecom
        self.factory = factory
        self.now = now
        self.bot_name = bot_name
        self.tz = ZoneInfo(timezone)
        self.webhooks = {h.chat_id: h.key for h in wecom.group_webhooks}
        self.session = aiohttp.ClientSession()
        self.api = WeComApi(wecom, self.session, clock)
        self.per_robot = SlidingWindow(wecom.webhook_sends_per_min, period=60.0, clock=clock)
        self.per_member = SlidingWindow(wecom.member_sends_per_min, period=60.0, clock=clock)
        self.per_chat = SlidingWindow(PER_CHAT_RESPONSES_PER_MIN, period=60.0, clock=clock)
        # How long the one POST to a response_url may take (tests shorten it).
        self.respond_timeout = TIMEOUT
        self.clock = clock
        self.blobs = blobs
        self.media = WeComMedia(self.api)
        self.uploaded = UploadCache(MEDIA_TTL_S, clock)

    def normalise(self, payload: dict[str, Any]) -> IncomingMessage | None:
        if payload.get("via") == "app":
            return normalise_app(payload, tz=self.tz)
        return normalise(payload, robot_name=self.bot_name, tz=self.tz)

    async def close(self) -> None:
        await self.session.close()

    async def send(self, message: OutboxMessage) -> SendResult:
        if message.reply_to:
            url = message.reply_url or ""
            if not url.startswith(self.wecom.api_base + RESPONSE_PATH):
                # Only WeCom's own reply endpoint: a stored URL is never a way to reach
                # anything else (the payload is signed, but a leaked key must not become SSRF).
                url = ""
            fresh = message.reply_url_until is not None and self.now() < message.reply_url_until
            # Files in a single chat go by the app; the response_url takes markdown only.
            files_by_app = bool(message.attachments) and bool(message.reply_person)
            if url and fresh and not files_by_app:
                return await self._respond(url, message)
            if message.reply_person:
                return await self._to_user(message.reply_person, message)
        if message.target_kind == "user":
            return await self._to_user(message.target, message)
        return await self._to_group(message.target, message)

    async def _respond(self, url: str, message: OutboxMessage) -> SendResult:
        """The one POST to a response_url; anything but a clear success goes the other way
        (never a second POST: after a timeout the URL may have been used)."""
        assert message.reply_to is not None
        chat = f"resp:{message.target}"
        wait = self.per_chat.delay(chat)
        if wait > 0:
            return SendResult.retry("throttled on our side", after=wait)
        if await spend_response_url(self.factory, message.reply_to, now=self.now()):
            self.per_chat.take(chat)
            result = await self.api.respond(url, fit_markdown(message.text,
                                                              MARKDOWN_LIMIT_BYTES),
                                            within=self.respond_timeout)
            if result.ok:
                return SendResult.sent()
            log.warning("outbox %s: response_url not taken (%s); sending the other way",
                        message.id, result.error)
        if message.reply_person:
            return await self._to_user(message.reply_person, message)
        return await self._to_group(message.target, message)

    async def _to_group(self, chat_id: str, message: OutboxMessage) -> SendResult:
        key = self.webhooks.get(chat_id)
        if not key:
            return SendResult.fail("no group robot webhook is configured for this chat")
        if message.attachments:
            log.error("outbox %s: attachments for a group dropped (files go only privately)",
                      message.id)

        async def post(part: str) -> ApiResult:
            result = await self.api.send_to_webhook(key, part)
            if (result.data or {}).get("errcode") == WEBHOOK_REMOVED:
                await tell_admins_hook_removed(self.factory, chat_id=chat_id, key=key,
                                               now=self.now())
            return result

        return await self._in_parts(message, self.per_robot, f"hook:{chat_id}", post)

    async def _to_user(self, userid: str, message: OutboxMessage) -> SendResult:
        if not (self.wecom.agent_id and self.wecom.app_secret and self.wecom.corp_id):
            return SendResult.fail("no self-built app (corp_id, agent_id, app_secret) configured")
        try:
            attachments = attachments_of(message)
        except AttachmentError as exc:
            return SendResult.fail(str(exc))
        steps = [self._attachment_step(userid, a) for a in attachments]
        return await self._in_parts(message, self.per_member, f"user:{userid}",
                                    lambda part: self.api.send_to_user(userid, part), steps)

    def _attachment_step(self, userid: str,
                         attachment: Attachment) -> Callable[[], Awaitable[ApiResult]]:
        """Upload the blob as temporary media, then send it as a file or image message."""
        async def step() -> ApiResult:
            media_id = self.uploaded.get("app", attachment)
            if media_id is None:
                try:
                    outgoing = load(self.blobs, attachment, UPLOAD_LIMITS, PLATFORM)
                except AttachmentError as exc:
                    return ApiResult(ok=False, error=str(exc))
                uploaded = await self.media.upload(outgoing.kind, outgoing.name, outgoing.data)
                if not uploaded.ok:
                    return uploaded
                media_id = str((uploaded.data or {}).get("media_id") or "")
                if not media_id:
                    return ApiResult(ok=False, retry=True,
                                     error="upload answered without media_id")
                self.uploaded.put("app", attachment, media_id)
            return await self.media.send(userid, attachment.kind, media_id)

        return step

    async def _in_parts(self, message: OutboxMessage, budget: SlidingWindow, budget_key: str,
                        send: Callable[[str], Awaitable[ApiResult]],
                        more: list[Callable[[], Awaitable[ApiResult]]] | None = None,
                        ) -> SendResult:
        """The text's parts, then `more` (attachments), each a message/send against the budget;
        on a passing failure the count of steps done goes back to the row (`done`). A row that
        fits waits until it can go whole; one longer than the budget goes as far as the budget
        allows and resumes from there when the window has room again."""
        parts = split_text(message.text) if message.text.strip() else []
        steps: list[Callable[[], Awaitable[ApiResult]]] = [partial(send, p) for p in parts]
        steps += more or []
        done = min(progress_of(message), len(steps))
        wait = budget.delay(budget_key, len(steps) - done)
        if wait > 0:
            return SendResult.retry("throttled on our side", after=wait)
        for n in range(done, len(steps)):
            wait = budget.delay(budget_key)
            if wait > 0:
                return replace(SendResult.retry("throttled on our side", after=wait), done=n)
            budget.take(budget_key)
            result = await steps[n]()
            if not result.ok:
                sent = result.as_send_result()
                return sent if sent.permanent else replace(sent, done=n)
        return SendResult.sent()

    # --- pictures the robot received ----------------------------------------------------------

    async def fetch_image(self, msg: IncomingMessage, ref: ImageRef, limit: int) -> bytes:
        """A picture of a robot message: fetched from its URL and decrypted with the robot's
        EncodingAESKey. The cipher text is at most one padding block longer than the picture.
        A picture the self-built app received is a plain link (PicUrl), fetched as it is."""
        if ref.ref.startswith(APP_IMAGE):
            return await fetch_file(self.session, ref.ref[len(APP_IMAGE):], limit)
        encrypted = await fetch_file(self.session, ref.ref, limit + BLOCK)
        try:
            data = decrypt_file(encrypted, self.wecom.encoding_aes_key)
        except DecryptError as exc:
            raise ImageGone(f"not decryptable: {exc}") from exc
        if len(data) > limit:
            raise ImageGone(f"too large: {len(data)} bytes")
        return data
