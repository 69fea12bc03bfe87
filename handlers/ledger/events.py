"""活动台账 rows: each live event of a range once, with its reporters and photos.

Imports storage and handlers.standing (for names) only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.model import EventRow
from handlers.standing import County
from storage.ledger import reporter_names
from storage.models import Activity
from storage.photos import photos_of


def event_time(event: Activity, tz: ZoneInfo) -> str:
    """`14:00`, `14:00–16:00`, or the stated time when no moment is known."""
    when = event.starts_at.astimezone(tz).strftime("%H:%M") if event.starts_at else (
        event.time or "")
    if event.ends_at is not None and when:
        when += "–" + event.ends_at.astimezone(tz).strftime("%H:%M")
    return when


async def event_rows(
    session: AsyncSession, *, county: County, events: Sequence[Activity],
    activity_names: Mapping[str, str], tz: ZoneInfo,
) -> list[EventRow]:
    """One row per event, in the order given (storage.ledger.events_between sorts them)."""
    ids = [e.id for e in events if e.id is not None]
    reporters = await reporter_names(session=session, event_ids=ids)
    photos: dict[int, list[str]] = {}
    for photo in await photos_of(session=session, activity_ids=ids):
        photos.setdefault(photo.activity_id, []).append(photo.sha256)
    out = []
    for e in events:
        assert e.id is not None and e.date is not None
        school = county.schools.get(e.school_id) if e.school_id is not None else None
        out.append(EventRow(
            id=e.id, date=e.date, time=event_time(e, tz),
            school=school.name if school else "",
            community=county.communities.get(e.community_id or -1, ""),
            activity=activity_names.get(e.activity or "", e.activity or ""),
            subject=e.subject or "", grade=e.grade or "", topic=e.topic or "",
            participants=e.participants, reporters=tuple(reporters.get(e.id, ())),
            photos=tuple(photos.get(e.id, ())), status=e.status,
            registered=e.created_at.astimezone(tz).replace(tzinfo=None),
        ))
    return out


def local_naive(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """Spreadsheets know no time zones: local wall time, without one."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment is not None else None
