"""Activities (reported and planned) and attendance: writes, look-ups and counts."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.audit import record_audit, snapshot
from storage.models import (
    COUNTED_STATUSES,
    PLAN_STATUSES,
    Activity,
    ActivityReport,
    Attendance,
    Member,
    Role,
    School,
)

Entry = TypeVar("Entry", Activity, Attendance)


def owner_of(entry: Activity | Attendance) -> int:
    return entry.reporter_id if isinstance(entry, Activity) else entry.member_id


def entity_of(entry: Activity | Attendance) -> str:
    return "activity" if isinstance(entry, Activity) else "attendance"


async def add_entry(*, session: AsyncSession, entry: Entry, now: dt.datetime) -> Entry:
    """Store an activity or attendance row with its audit record."""
    entry.created_at = now
    session.add(entry)
    await session.flush()
    record_audit(session=session, at=now, member_id=owner_of(entry), action="create",
                 entity=entity_of(entry), entity_id=entry.id, after=snapshot(entry))
    return entry


# The check-in path runs these for every sign-in: built once.
_PLANNED_ON = select(Activity).where(
    col(Activity.community_id) == bindparam("community_id"),
    col(Activity.status).in_(PLAN_STATUSES), col(Activity.date) == bindparam("day"),
    col(Activity.withdrawn).is_(False),
)


async def planned_on(
    *, session: AsyncSession, community_id: int | None, day: dt.date,
) -> list[Activity]:
    """The community's plans of a day that are still on (planned, or held since a sign-in:
    later sign-ins belong to them too), not withdrawn, earliest first; never cancelled ones."""
    if community_id is None:
        return []
    params = {"community_id": community_id, "day": day}
    rows = list((await session.execute(_PLANNED_ON, params)).scalars())
    return sorted(rows, key=lambda a: (a.starts_at is None, a.starts_at or a.created_at))


_ATTENDANCE_OF = select(Attendance).where(
    col(Attendance.member_id) == bindparam("member_id"), col(Attendance.date) == bindparam("day"),
    col(Attendance.type) == bindparam("type_"), col(Attendance.withdrawn).is_(False),
).order_by(col(Attendance.id))


async def attendance_of(
    *, session: AsyncSession, member_id: int, day: dt.date, type_: str,
) -> list[Attendance]:
    params = {"member_id": member_id, "day": day, "type_": type_}
    return list((await session.execute(_ATTENDANCE_OF, params)).scalars())


async def withdraw(
    *, session: AsyncSession, entry: Activity | Attendance, member_id: int, now: dt.datetime,
) -> None:
    before = snapshot(entry)
    entry.withdrawn = True
    session.add(entry)
    await session.flush()
    record_audit(session=session, at=now, member_id=member_id, action="undo",
                 entity=entity_of(entry),
                 entity_id=entry.id, before=before, after=snapshot(entry))


async def count_attendance(
    *, session: AsyncSession, start: dt.date, end: dt.date, type_: str = "checkin",
    member_id: int | None = None, community_id: int | None = None,
    school_id: int | None = None,
) -> int:
    """Attendance rows of a type in [start, end): a member's, or a school's or community's
    teachers'."""
    stmt = select(func.count()).select_from(Attendance).where(
        col(Attendance.type) == type_, col(Attendance.withdrawn).is_(False),
        col(Attendance.date) >= start, col(Attendance.date) < end,
    )
    if member_id is not None:
        stmt = stmt.where(col(Attendance.member_id) == member_id)
    if community_id is not None:
        stmt = stmt.join(Member, col(Member.id) == col(Attendance.member_id)).join(
            School, col(School.id) == col(Member.school_id)
        ).where(col(School.community_id) == community_id)
    if school_id is not None:
        stmt = stmt.join(Member, col(Member.id) == col(Attendance.member_id)).where(
            col(Member.school_id) == school_id)
    return int((await session.execute(stmt)).scalar_one())


async def sheet_of(*, session: AsyncSession, activity_id: int) -> list[Attendance]:
    """The live sign-ins, sign-outs and leaves tied to one planned event: its 签到簿."""
    stmt = select(Attendance).where(col(Attendance.activity_id) == activity_id,
                                    col(Attendance.withdrawn).is_(False)).order_by(
        col(Attendance.at), col(Attendance.id))
    return list((await session.execute(stmt)).scalars())


async def sheet_marks(
    *, session: AsyncSession, activity_ids: Iterable[int],
) -> list[tuple[int, int, str, bool, bool]]:
    """(activity_id, member_id, type, late, early) of the rows `sheet_of` gives for each of
    these events, in the same order (at, id): columns, for a beat's many summaries."""
    wanted = sorted(set(activity_ids))
    if not wanted:
        return []
    stmt = select(col(Attendance.activity_id), col(Attendance.member_id), col(Attendance.type),
                  col(Attendance.late), col(Attendance.early)).where(
        col(Attendance.activity_id).in_(wanted), col(Attendance.withdrawn).is_(False)).order_by(
        col(Attendance.at), col(Attendance.id))
    return [(_key(a), m, t, bool(late), bool(early))
            for a, m, t, late, early in (await session.execute(stmt)).all()]


async def teacher_columns(
    *, session: AsyncSession, school_ids: Iterable[int],
) -> list[tuple[int, str, int | None, list[str] | None]]:
    """(id, name, school_id, subjects) of `teachers_of` these schools, by id."""
    stmt = select(col(Member.id), col(Member.name), col(Member.school_id),
                  col(Member.subjects)).where(
        col(Member.school_id).in_(sorted(set(school_ids))), col(Member.role) == "teacher",
        col(Member.active).is_(True))
    return [(_key(i), n, s, subs)
            for i, n, s, subs in (await session.execute(stmt.order_by(col(Member.id)))).all()]


def _key(value: int | None) -> int:
    """A key the query filtered on or a primary key: typed optional, never None here."""
    assert value is not None
    return value


async def teachers_of(*, session: AsyncSession, school_ids: Iterable[int]) -> list[Member]:
    """Active teachers (never principals or admins) of these schools, by id."""
    stmt = select(Member).where(col(Member.school_id).in_(sorted(set(school_ids))),
                                col(Member.role) == Role.TEACHER, col(Member.active).is_(True))
    return list((await session.execute(stmt.order_by(col(Member.id)))).scalars())


# --- grouped counts: quota standing (handlers.standing) reads only these ---------------------
# Every reply to a query runs them: each shape is built once (building costs more than running)
# with its dates, codes and communities as parameters.


def _done() -> list[ColumnElement[bool]]:
    return [col(Activity.status).in_(COUNTED_STATUSES), col(Activity.withdrawn).is_(False),
            col(Activity.date) >= bindparam("start"), col(Activity.date) < bindparam("end")]


def _listed(column: Any, name: str) -> ColumnElement[bool]:
    return col(column).in_(bindparam(name, expanding=True))


class Near:
    """Limits a count to the rows that can matter to some communities: events of them, or
    held at one of their schools. Every group such a count returns for those communities or
    schools is whole, so their figures are exactly the county-wide ones, read faster."""

    def __init__(self, communities: Iterable[int], schools: Iterable[int]) -> None:
        self.communities = sorted(set(communities))
        self.schools = sorted(set(schools))

    @staticmethod
    def either() -> ColumnElement[bool]:
        return or_(_listed(Activity.community_id, "near_communities"),
                   _listed(Activity.school_id, "near_schools"))


def _params(start: dt.date, end: dt.date, codes: Iterable[str] | None,
            near: Near | None) -> dict[str, Any]:
    params: dict[str, Any] = {"start": start, "end": end}
    if codes is not None:
        params["codes"] = list(codes)
    if near is not None:
        params["near_communities"] = near.communities
        params["near_schools"] = near.schools
    return params


@functools.cache
def _count_done(codes: bool, near: bool) -> Any:
    stmt = select(col(Activity.community_id), col(Activity.school_id), col(Activity.activity),
                  func.count()).where(*_done())
    if near:
        stmt = stmt.where(Near.either())
    if codes:
        stmt = stmt.where(_listed(Activity.activity, "codes"))
    return stmt.group_by(col(Activity.community_id), col(Activity.school_id),
                         col(Activity.activity))


async def count_done(
    *, session: AsyncSession, start: dt.date, end: dt.date, codes: Iterable[str] | None = None,
    near: Near | None = None,
) -> dict[tuple[int | None, int | None, str | None], int]:
    """(community, venue school, activity) → count of counted events in [start, end)."""
    stmt = _count_done(codes is not None, near is not None)
    rows = await session.execute(stmt, _params(start, end, codes, near))
    return {(c, s, a): int(n) for c, s, a, n in rows.all()}


@functools.cache
def _covered_subjects(near: bool) -> Any:
    stmt = select(col(Activity.community_id), col(Activity.school_id), col(Activity.activity),
                  col(Activity.subject)).where(
        *_done(), _listed(Activity.activity, "codes"), col(Activity.subject).is_not(None),
    ).distinct()
    return stmt.where(Near.either()) if near else stmt


async def covered_subjects(
    *, session: AsyncSession, start: dt.date, end: dt.date, codes: Iterable[str],
    near: Near | None = None,
) -> set[tuple[int | None, int | None, str | None, str]]:
    """Distinct (community, school, activity, subject) of counted events in [start, end)."""
    rows = await session.execute(_covered_subjects(near is not None),
                                 _params(start, end, codes, near))
    return {(c, s, a, subj) for c, s, a, subj in rows.all() if subj}


@functools.cache
def _taking_part(codes: bool, near: bool) -> Any:
    where = _done()
    if codes:
        where.append(_listed(Activity.activity, "codes"))
    venue: Any = select(col(Activity.id).label("event"), col(Activity.school_id).label("school"),
                        col(Activity.activity).label("code")).where(
        *where, col(Activity.school_id).is_not(None))
    if near:
        venue = venue.where(_listed(Activity.school_id, "near_schools"))
    reported: Any = (
        select(col(Activity.id).label("event"), col(Member.school_id).label("school"),
               col(Activity.activity).label("code"))
        .join(ActivityReport, col(ActivityReport.activity_id) == col(Activity.id))
        .join(Member, col(Member.id) == col(ActivityReport.member_id))
        .join(School, col(School.id) == col(Member.school_id))
        .where(*where, col(ActivityReport.withdrawn).is_(False),
               col(School.community_id) == col(Activity.community_id))
    )
    if near:
        reported = reported.where(_listed(Activity.community_id, "near_communities"))
    both = union(venue, reported).subquery()
    return select(both.c.school, both.c.code, func.count(func.distinct(both.c.event))).group_by(
        both.c.school, both.c.code)


async def taking_part(
    *, session: AsyncSession, start: dt.date, end: dt.date, codes: Iterable[str] | None = None,
    near: Near | None = None,
) -> dict[tuple[int, str | None], int]:
    """(school, activity) → counted events in [start, end) the school took part in: as the
    venue, or through a live report by one of its teachers (a school of the event's
    community). Spec: a school behind on a community-wide quota is one with none."""
    rows = await session.execute(_taking_part(codes is not None, near is not None),
                                 _params(start, end, codes, near))
    return {(int(sid), code): int(n) for sid, code, n in rows.all()}


@functools.cache
def _reported_by(codes: bool) -> Any:
    stmt = (
        select(col(Activity.activity), func.count(func.distinct(col(Activity.id))))
        .join(ActivityReport, col(ActivityReport.activity_id) == col(Activity.id))
        .where(*_done(), col(ActivityReport.member_id) == bindparam("member_id"),
               col(ActivityReport.withdrawn).is_(False))
        .group_by(col(Activity.activity))
    )
    return stmt.where(_listed(Activity.activity, "codes")) if codes else stmt


async def reported_by(
    *, session: AsyncSession, member_id: int, start: dt.date, end: dt.date,
    codes: Iterable[str] | None = None,
) -> dict[str | None, int]:
    """Activity → counted events in [start, end) the member is a reporter of (registrant or
    joined later): a teacher's own figure, however many colleagues reported the same event."""
    params = _params(start, end, codes, None) | {"member_id": member_id}
    rows = await session.execute(_reported_by(codes is not None), params)
    return {code: int(n) for code, n in rows.all()}


_SIGNED_IN = select(col(Attendance.member_id)).where(
    col(Attendance.type) == "checkin", col(Attendance.withdrawn).is_(False),
    col(Attendance.date) >= bindparam("start"), col(Attendance.date) < bindparam("end"),
).distinct()


@functools.cache
def _reporters(codes: bool) -> Any:
    stmt = select(col(ActivityReport.member_id)).join(
        Activity, col(Activity.id) == col(ActivityReport.activity_id)).where(
        col(ActivityReport.withdrawn).is_(False), *_done()).distinct()
    return stmt.where(_listed(Activity.activity, "codes")) if codes else stmt


async def members_with_entries(
    *, session: AsyncSession, start: dt.date, end: dt.date, signins: bool,
    codes: Iterable[str] | None = None,
) -> set[int]:
    """Who signed in (`signins`) or is a reporter of a counted event (of `codes`, when given)
    in [start, end): the complement is a principal's list of teachers to encourage."""
    if signins:
        stmt, params = _SIGNED_IN, {"start": start, "end": end}
    else:
        stmt, params = _reporters(codes is not None), _params(start, end, codes, None)
    return {int(m) for m in (await session.execute(stmt, params)).scalars()}
