"""Photos attached to events: where a picture goes, add once per picture and event, count
and list them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Activity, ActivityReport, Attendance, Photo
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


async def photo_target(*, session: AsyncSession, member_id: int,
                       since: dt.datetime) -> int | None:
    """The event a picture of this member goes to: that of their latest live report, or of
    their latest live sign-in or leave tied to an event, made since `since` (None: none)."""
    report = (await session.execute(
        select(col(ActivityReport.activity_id), col(ActivityReport.created_at))
        .join(Activity, col(Activity.id) == col(ActivityReport.activity_id))
        .where(col(ActivityReport.member_id) == member_id,
               col(ActivityReport.withdrawn).is_(False), col(Activity.withdrawn).is_(False),
               col(ActivityReport.created_at) >= since)
        .order_by(col(ActivityReport.created_at).desc(), col(ActivityReport.id).desc()).limit(1)
    )).first()
    attendance = (await session.execute(
        select(col(Attendance.activity_id), col(Attendance.created_at))
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(col(Attendance.member_id) == member_id, col(Attendance.withdrawn).is_(False),
               col(Activity.withdrawn).is_(False), col(Attendance.created_at) >= since)
        .order_by(col(Attendance.created_at).desc(), col(Attendance.id).desc()).limit(1)
    )).first()
    found = [row for row in (report, attendance) if row is not None]
    if not found:
        return None
    event_id = max(found, key=lambda row: row[1])[0]
    return int(event_id) if event_id is not None else None


async def events_of_message(*, session: AsyncSession, member_id: int,
                            inbox_id: int | None) -> list[int]:
    """The live events one message of this member reported, joined or signed in to."""
    if inbox_id is None:
        return []
    reports = await session.execute(
        select(col(ActivityReport.activity_id)).where(
            col(ActivityReport.member_id) == member_id, col(ActivityReport.inbox_id) == inbox_id,
            col(ActivityReport.withdrawn).is_(False)).order_by(col(ActivityReport.id)))
    signed = await session.execute(
        select(col(Attendance.activity_id)).where(
            col(Attendance.member_id) == member_id, col(Attendance.inbox_id) == inbox_id,
            col(Attendance.withdrawn).is_(False), col(Attendance.activity_id).is_not(None))
        .order_by(col(Attendance.id)))
    ids = [int(i) for i in [*reports.scalars(), *signed.scalars()] if i is not None]
    return list(dict.fromkeys(ids))


async def photo_count(*, session: AsyncSession, activity_id: int) -> int:
    return (await photo_counts(session=session, activity_ids=[activity_id])).get(activity_id, 0)
