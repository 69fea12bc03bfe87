"""The record (台账) as plain rows: every activity and attendance entry in a date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
        select(Activity, Member.name, where_school.name)
        .join(Member, Member.id == Activity.reporter_id)  # type: ignore[arg-type]
        .outerjoin(where_school, where_school.id == Activity.school_id)  # type: ignore[arg-type]
        .order_by(Activity.date, Activity.id)  # type: ignore[arg-type]
    )
    if start is not None:
        stmt = stmt.where(Activity.date >= start)  # type: ignore[operator]
    if end is not None:
        stmt = stmt.where(Activity.date <= end)  # type: ignore[operator]
    if not include_withdrawn:
        stmt = stmt.where(Activity.withdrawn.is_(False))  # type: ignore[attr-defined]
    for act, member, school in (await session.execute(stmt)).all():
        yield {
            "kind": "activity", "id": act.id, "member": member,
            "date": act.date.isoformat() if act.date else None, "time": act.time,
            "activity": act.activity, "status": act.status, "school": school,
            "subject": act.subject, "grade": act.grade, "participants": act.participants,
            "topic": act.topic, "withdrawn": act.withdrawn, "source": act.source_text,
        }
    att_stmt = (
        select(Attendance, Member.name, home_school.name)
        .join(Member, Member.id == Attendance.member_id)  # type: ignore[arg-type]
        .outerjoin(home_school, home_school.id == Member.school_id)  # type: ignore[arg-type]
        .order_by(Attendance.date, Attendance.id)  # type: ignore[arg-type]
    )
    if start is not None:
        att_stmt = att_stmt.where(Attendance.date >= start)  # type: ignore[operator]
    if end is not None:
        att_stmt = att_stmt.where(Attendance.date <= end)  # type: ignore[operator]
    if not include_withdrawn:
        att_stmt = att_stmt.where(Attendance.withdrawn.is_(False))  # type: ignore[attr-defined]
    for att, member, school in (await session.execute(att_stmt)).all():
        yield {
            "kind": "attendance", "id": att.id, "member": member, "school": school,
            "date": att.date.isoformat(), "type": att.type, "at": _iso(att.at),
            "activity_id": att.activity_id, "late": att.late, "early": att.early,
            "withdrawn": att.withdrawn,
        }
