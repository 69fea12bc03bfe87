"""Delivery facts WeCom makes us keep in the database, not in memory.

- A response_url takes one POST: it is marked spent on its event's inbox row
  (`reply_url_spent_at`, one conditional UPDATE) and committed *before* the POST, so a second
  reply, a retry after a timeout or a restart in between never posts to it again (they go by
  the app or a webhook), in this instance or another.
- A group robot webhook that answers 93000 was removed from its group: every admin with a
  WeCom identity is told privately, once per webhook, by rows in the outbox whose keys name
  the chat and a digest of the key (never the key itself).
Imports storage and handlers.texts only.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from handlers import texts
from storage.db import transaction
from storage.inbox import spend_reply_url
from storage.models import Identity, Member, Role
from storage.outbox import NewMessage, enqueue
from storage.roster import group_by_chat

from .normalise import PLATFORM

log = logging.getLogger(__name__)


async def spend_response_url(factory: async_sessionmaker[AsyncSession], msgid: str, *,
                             now: datetime) -> bool:
    """True: this caller may POST to the message's response_url now, once (the mark is
    committed when this returns); False: it was spent already."""
    async with transaction(factory) as session:
        return await spend_reply_url(session=session, platform=PLATFORM, event_id=msgid,
                                     now=now)


async def admin_userids(session: AsyncSession) -> list[str]:
    """WeCom userids of the active admins."""
    stmt = (select(col(Identity.external_id))
            .join(Member, col(Member.id) == col(Identity.member_id))
            .where(col(Identity.platform) == PLATFORM, col(Member.role) == Role.ADMIN,
                   col(Member.active).is_(True))
            .order_by(col(Identity.external_id)))
    return list((await session.execute(stmt)).scalars())


async def tell_admins_hook_removed(factory: async_sessionmaker[AsyncSession], *,
                                   chat_id: str, key: str, now: datetime) -> int:
    """Queue the note to every admin (once per webhook: the outbox keys are fixed); how many
    were queued now."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    queued = 0
    async with transaction(factory) as session:
        group = await group_by_chat(session=session, platform=PLATFORM, chat_id=chat_id)
        name = (group.name if group and group.name else chat_id)
        admins = await admin_userids(session)
        for userid in admins:
            note = NewMessage(key=f"wecom:hook_removed:{chat_id}:{digest}:{userid}",
                              platform=PLATFORM, target_kind="user", target=userid,
                              text=texts.WECOM_HOOK_REMOVED.format(group=name))
            queued += await enqueue(session=session, message=note, now=now)
    if not admins:
        log.error("wecom: the webhook of chat %s was removed from its group and no admin has "
                  "a WeCom identity to be told", chat_id)
    return queued
