"""Pictures of a received message, fetched before it is handled (handlers know no HTTP).

For a message with pictures from a member on the roster, each picture is fetched through
its channel, judged by its bytes (storage.blobs.image_type) and the size limit, and handed
to the handler in the message (`IncomingMessage.pictures`); the handler stores the ones it
attaches. A refusal for good (gone, not a picture, too large) skips that picture and is
counted (`refused`); a failure that may pass propagates, so the worker retries the event.
Not fetched at all: an unknown sender's pictures, and a picture on its own when its sender
has no entry of the last 30 minutes for it to go to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.download import ImageGone
from handlers.messages import ImageRef, IncomingMessage, Picture
from handlers.photos import ATTACH_WINDOW
from storage.blobs import image_type
from storage.photos import photo_target
from storage.roster import member_by_identity

log = logging.getLogger(__name__)


@runtime_checkable
class ImageSource(Protocol):
    """A channel that can fetch the pictures of the messages it receives."""

    async def fetch_image(self, msg: IncomingMessage, ref: ImageRef, limit: int) -> bytes:
        """The picture's bytes; ImageGone for good, ImageUnavailable for now."""


class PictureFetcher:
    def __init__(self, *, factory: async_sessionmaker[AsyncSession], limit: int) -> None:
        self.factory = factory
        self.limit = limit

    async def _wanted(self, msg: IncomingMessage) -> bool:
        async with self.factory() as session:
            member = await member_by_identity(session=session, platform=msg.platform,
                                              external_id=msg.sender_id)
            if member is None or member.id is None:
                return False
            if msg.text.strip():
                return True  # words with pictures may make the record the pictures go to
            target = await photo_target(session=session, member_id=member.id,
                                        since=msg.received_at - ATTACH_WINDOW)
            return target is not None

    async def prepare(self, msg: IncomingMessage, channel: object) -> IncomingMessage:
        """The message with its pictures fetched and checked (or as it was)."""
        if not msg.images or msg.kind != "message":
            return msg
        if not isinstance(channel, ImageSource) or not await self._wanted(msg):
            return msg
        pictures: list[Picture] = []
        refused = 0
        for ref in msg.images:
            try:
                data = await channel.fetch_image(msg, ref, self.limit)
            except ImageGone as exc:
                log.info("%s message %s: picture refused: %s", msg.platform, msg.message_id,
                         exc)
                refused += 1
                continue
            mime = image_type(data)
            if mime is None or len(data) > self.limit:
                log.info("%s message %s: not a picture or too large (%d bytes)",
                         msg.platform, msg.message_id, len(data))
                refused += 1
                continue
            pictures.append(Picture(data=data, sha256=hashlib.sha256(data).hexdigest(),
                                    mime=mime))
        return dataclasses.replace(msg, pictures=tuple(pictures), refused=refused)
