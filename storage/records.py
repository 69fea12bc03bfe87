"""The record (台账) as plain rows: every activity and attendance entry in a date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.models import Activity, Attendance, Member, School


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def iter_records(
    *, session: AsyncSession, start: dt.date | None = None, end: dt.date | None = None,
    include_withdrawn: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """Activities, then attendance, by date; `end` is inclusive."""
    where_school = aliased(School)
    home_school = aliased(School)
    stmt = (
        select(Activity, col(Member.name), col(where_school.name))
        .join(Member, col(Member.id) == col(Activity.reporter_id))
        .outerjoin(where_school, col(where_school.id) == col(Activity.school_id))
        .order_by(col(Activity.date), col(Activity.id))
    )
    if start is not None:
        stmt = stmt.where(col(Activity.date) >= start)
    if end is not None:
        stmt = stmt.where(col(Activity.date) <= end)
    if not include_withdrawn:
        stmt = stmt.where(col(Activity.withdrawn).is_(False))
    for act, member, school in (await session.execute(stmt)).all():
        yield {
            "kind": "activity", "id": act.id, "member": member,
            "date": act.date.isoformat() if act.date else None, "time": act.time,
            "activity": act.activity, "status": act.status, "school": school,
            "subject": act.subject, "grade": act.grade, "participants": act.participants,
            "topic": act.topic, "withdrawn": act.withdrawn, "source": act.source_text,
        }
    att_stmt = (
        select(Attendance, col(Member.name), col(home_school.name))
        .join(Member, col(Member.id) == col(Attendance.member_id))
        .outerjoin(home_school, col(home_school.id) == col(Member.school_id))
        .order_by(col(Attendance.date), col(Attendance.id))
    )
    if start is not None:
        att_stmt = att_stmt.where(col(Attendance.date) >= start)
    if end is not None:
        att_stmt = att_stmt.where(col(Attendance.date) <= end)
    if not include_withdrawn:
        att_stmt = att_stmt.where(col(Attendance.withdrawn).is_(False))
    for att, member, school in (await session.execute(att_stmt)).all():
        yield {
            "kind": "attendance", "id": att.id, "member": member, "school": school,
            "date": att.date.isoformat(), "type": att.type, "at": _iso(att.at),
            "activity_id": att.activity_id, "late": att.late, "early": att.early,
            "withdrawn": att.withdrawn,
        }
