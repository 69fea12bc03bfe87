"""Photos attached to events: add once per picture and event, count and list them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Photo
from storage.sql import insert_ignore


async def add_photo(*, session: AsyncSession, activity_id: int, member_id: int, sha256: str,
                    mime: str, size: int, source: str, now: dt.datetime) -> bool:
    """Attach a stored picture to an event; False when that event already has it."""
    table = Photo.__table__  # type: ignore[attr-defined]
    stmt = insert_ignore(session, table, conflict=["activity_id", "sha256"]).values(
        activity_id=activity_id, member_id=member_id, sha256=sha256, mime=mime, size=size,
        source=source[:200], created_at=now,
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def photo_counts(*, session: AsyncSession,
                       activity_ids: Sequence[int]) -> dict[int, int]:
    """Photos per event, for ledgers and summaries (events without photos are absent)."""
    if not activity_ids:
        return {}
    rows = await session.execute(
        select(col(Photo.activity_id), func.count())
        .where(col(Photo.activity_id).in_(list(activity_ids)))
        .group_by(col(Photo.activity_id))
    )
    return {int(a): int(n) for a, n in rows.all()}


async def photos_of(*, session: AsyncSession, activity_ids: Sequence[int]) -> list[Photo]:
    """The photos of these events, oldest first."""
    if not activity_ids:
        return []
    rows = await session.execute(
        select(Photo).where(col(Photo.activity_id).in_(list(activity_ids)))
        .order_by(col(Photo.activity_id), col(Photo.id))
    )
    return list(rows.scalars())
