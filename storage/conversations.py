"""Follow-up questions waiting for the same person's next message in the same chat."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Conversation


async def start_conversation(
    *, session: AsyncSession, platform: str, chat_id: str, member_id: int, kind: str,
    state: dict[str, Any], expires_at: dt.datetime,
) -> None:
    await end_conversation(session=session, platform=platform, chat_id=chat_id,
                           member_id=member_id)
    session.add(Conversation(platform=platform, chat_id=chat_id, member_id=member_id,
                             kind=kind, state=state, expires_at=expires_at))
    await session.flush()


async def end_conversation(
    *, session: AsyncSession, platform: str, chat_id: str, member_id: int,
) -> None:
    await session.execute(delete(Conversation).where(
        col(Conversation.platform) == platform, col(Conversation.chat_id) == chat_id,
        col(Conversation.member_id) == member_id,
    ))
