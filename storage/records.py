"""The record (台账) as plain rows: each event once, then every attendance entry, by date.

An event row carries its status and all its reporters (names in report order; the first is
its registrant or organiser), so a co-reported event is one row, never two, and its photos
(by hash, in the blob store; a withdrawn event keeps them). Times are given in the county's
zone. Imports storage.models, storage.events and storage.photos only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import Activity, ActivityReport, Attendance, Community, Member, School
from storage.photos import photos_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Events are read in pages, so a year's record never sits in memory at once.
PAGE = 500


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


async def _reporters(
    session: AsyncSession, events: list[Activity],
) -> dict[int, list[str]]:
    """Names of each event's reporters, first report first, each person once. A live event
    lists its live reports; a withdrawn one (shown by --all) the reports it had."""
    ids = [e.id for e in events if e.id is not None]
    withdrawn = {e.id for e in events if e.withdrawn}
    rows = await session.execute(
        select(col(ActivityReport.activity_id), col(ActivityReport.withdrawn), col(Member.name))
        .join(Member, col(Member.id) == col(ActivityReport.member_id))
        .where(col(ActivityReport.activity_id).in_(ids))
        .order_by(col(ActivityReport.id)))
    out: dict[int, list[str]] = {i: [] for i in ids}
    for event_id, gone, name in rows.all():
        if (not gone or event_id in withdrawn) and name not in out[event_id]:
            out[event_id].append(name)
    return out


def _registrant_first(registrant: str, names: list[str]) -> list[str]:
    """Rows written before reports were kept (or by hand) have no report of the registrant."""
    return names if registrant in names else [registrant, *names]


async def iter_records(
    *, session: AsyncSession, start: dt.date | None = None, end: dt.date | None = None,
    include_withdrawn: bool = False, zone: ZoneInfo = SHANGHAI,
) -> AsyncIterator[dict[str, Any]]:
    """Events, then attendance, by date; `end` is inclusive."""
    where_school = aliased(School)
    home_school = aliased(School)
    home_community = aliased(Community)
    stmt = (
        select(Activity, col(Member.name), col(where_school.name), col(Community.name))
        .join(Member, col(Member.id) == col(Activity.reporter_id))
        .outerjoin(where_school, col(where_school.id) == col(Activity.school_id))
        .outerjoin(Community, col(Community.id) == col(Activity.community_id))
        # Undated events last and timed events of a day first, on both databases alike
        # (they sort NULLs differently).
        .order_by(col(Activity.date).is_(None), col(Activity.date),
                  col(Activity.starts_at).is_(None), col(Activity.starts_at), col(Activity.id))
    )
    if start is not None:
        stmt = stmt.where(col(Activity.date) >= start)
    if end is not None:
        stmt = stmt.where(col(Activity.date) <= end)
    if not include_withdrawn:
        stmt = stmt.where(col(Activity.withdrawn).is_(False))
    offset = 0
    while rows := (await session.execute(stmt.offset(offset).limit(PAGE))).all():
        offset += len(rows)
        reporters = await _reporters(session, [act for act, *_ in rows])
        photos: dict[int, list[dict[str, Any]]] = {}
        for photo in await photos_of(session=session, activity_ids=[a.id for a, *_ in rows
                                                                    if a.id is not None]):
            photos.setdefault(photo.activity_id, []).append(
                {"sha256": photo.sha256, "mime": photo.mime, "size": photo.size})
        for act, registrant, school, community in rows:
            assert act.id is not None
            yield {
                "kind": "activity", "id": act.id, "status": act.status,
                "date": act.date.isoformat() if act.date else None, "time": act.time,
                "starts_at": _local(act.starts_at, zone), "ends_at": _local(act.ends_at, zone),
                "activity": act.activity, "school": school, "community": community,
                "member": registrant, "reporters": _registrant_first(registrant,
                                                                     reporters[act.id]),
                "subject": act.subject, "grade": act.grade, "participants": act.participants,
                "topic": act.topic, "confirmed": act.confirmed, "withdrawn": act.withdrawn,
                "source": act.source_text, "photos": photos.get(act.id, []),
            }
    att_stmt = (
        select(Attendance, col(Member.name), col(home_school.name), col(home_community.name),
               col(Activity.activity))
        .join(Member, col(Member.id) == col(Attendance.member_id))
        .outerjoin(home_school, col(home_school.id) == col(Member.school_id))
        .outerjoin(home_community, col(home_community.id) == col(home_school.community_id))
        .outerjoin(Activity, col(Activity.id) == col(Attendance.activity_id))
        .order_by(col(Attendance.date), col(Attendance.at), col(Attendance.id))
    )
    if start is not None:
        att_stmt = att_stmt.where(col(Attendance.date) >= start)
    if end is not None:
        att_stmt = att_stmt.where(col(Attendance.date) <= end)
    if not include_withdrawn:
        att_stmt = att_stmt.where(col(Attendance.withdrawn).is_(False))
    for att, member, school, community, code in (await session.execute(att_stmt)).all():
        yield {
            "kind": "attendance", "id": att.id, "type": att.type,
            "date": att.date.isoformat(), "at": _local(att.at, zone),
            "activity_id": att.activity_id, "activity": code, "member": member,
            "school": school, "community": community, "late": att.late, "early": att.early,
            "makeup": att.makeup, "note": att.note, "withdrawn": att.withdrawn,
        }
