"""Set-based reads for reminders and digests: one GROUP BY over the whole county at a time.

Nothing here loops over schools issuing queries; every function answers for all communities
at once, so a county of a thousand schools costs the same handful of statements as the demo.
Imports storage and handlers.standing (the county) only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from handlers.standing import County, load_county
from storage.activities import count_done as count_done
from storage.activities import covered_subjects as covered_subjects
from storage.models import (
    PLAN_STATUSES,
    Activity,
    ActivityReport,
    Attendance,
    ChatGroup,
    EventStatus,
    Identity,
    Member,
    Role,
)


@dataclass(frozen=True)
class GroupRow:
    id: int
    platform: str
    chat_id: str
    name: str
    app_id: str


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    school_id: int | None


@dataclass
class Roster(County):
    """The county (communities, schools, subjects) and who to reach in it."""

    groups: dict[int, list[GroupRow]] = field(default_factory=dict)  # by community
    principals: dict[int, list[Person]] = field(default_factory=dict)  # by school
    admins: list[Person] = field(default_factory=list)
    identities: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # member → ids

    def lead_principals(self, community_id: int) -> list[Person]:
        return [p for s in self.schools_of(community_id) if s.is_lead
                for p in self.principals.get(s.id, [])]


async def load_roster(*, session: AsyncSession) -> Roster:
    """Communities, schools, subjects, groups, principals and admins with their identities."""
    roster = Roster()
    await load_county(session=session, county=roster)
    # Community-wide groups only: a school's own group is not where community quotas go.
    groups = await session.execute(
        select(ChatGroup).where(col(ChatGroup.community_id).is_not(None),
                                col(ChatGroup.school_id).is_(None)).order_by(col(ChatGroup.id))
    )
    for g in groups.scalars():
        assert g.id is not None and g.community_id is not None
        roster.groups.setdefault(g.community_id, []).append(
            GroupRow(g.id, g.platform, g.chat_id, g.name or g.chat_id, g.app_id))
    people = await session.execute(
        select(col(Member.id), col(Member.name), col(Member.role), col(Member.school_id))
        .where(col(Member.role).in_((Role.PRINCIPAL.value, Role.ADMIN.value)),
               col(Member.active).is_(True))
        .order_by(col(Member.id))
    )
    ids = []
    for mid, name, role, sid in people.all():
        person = Person(_id(mid), name, role, sid)
        ids.append(_id(mid))
        if role == Role.ADMIN:
            roster.admins.append(person)
        elif sid is not None:
            roster.principals.setdefault(sid, []).append(person)
    if ids:
        idents = await session.execute(
            select(col(Identity.member_id), col(Identity.platform), col(Identity.external_id))
            .where(col(Identity.member_id).in_(ids)).order_by(col(Identity.id))
        )
        for mid, platform, ext in idents.all():
            roster.identities.setdefault(_id(mid), []).append((platform, ext))
    return roster


def _id(value: Any) -> int:
    """Primary keys come back as `int | None` to the type checker; they are never None."""
    return int(value)


async def planned_between(
    *, session: AsyncSession, start: dt.date, end: dt.date,
) -> list[Activity]:
    """Plans still on (planned or held; never cancelled or withdrawn) dated in [start, end),
    in date and time order."""
    stmt = select(Activity).where(
        col(Activity.status).in_(PLAN_STATUSES), col(Activity.withdrawn).is_(False),
        col(Activity.date) >= start, col(Activity.date) < end,
    ).order_by(col(Activity.date), col(Activity.starts_at), col(Activity.id))
    return list((await session.execute(stmt)).scalars())


@dataclass
class PlannedTimes:
    """Just enough of a plan to tell when its reminders, summary and outcome question fall
    due (handlers.event_times.event_end needs the activity for its length). Plain attributes,
    not frozen, so that it is a `handlers.event_times.Timed`."""

    id: int
    date: dt.date | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    activity: str | None
    status: str

    @property
    def day(self) -> dt.date:
        assert self.date is not None
        return self.date


Moments = tuple[tuple[dt.datetime, dt.datetime], ...]


@dataclass(frozen=True)
class Touching:
    """Which plans can have an occasion in a scheduler window (scheduler.due): those whose
    start, stated end, or start less some activity's length lies in one of the closed
    ranges given for it; those without a time dated `untimed_days`; any dated `days`."""

    starts: Moments
    stated_ends: Moments
    starts_ending: Moments
    untimed_days: tuple[dt.date, ...]
    days: tuple[dt.date, ...]


async def planned_times(
    *, session: AsyncSession, start: dt.date, end: dt.date, touching: Touching | None = None,
) -> list[PlannedTimes]:
    """Plans still on (planned or held), not withdrawn, dated in [start, end): ids and times
    only, so that an idle beat builds no ORM objects. Cancelled plans get nothing. With
    `touching`, only those of them it names: a minute's beat reads a handful of rows, not
    every plan of four days."""
    starts_at, ends_at, date = col(Activity.starts_at), col(Activity.ends_at), col(Activity.date)
    stmt = select(col(Activity.id), date, starts_at,
                  ends_at, col(Activity.activity), col(Activity.status)).where(
        col(Activity.status).in_(PLAN_STATUSES), col(Activity.withdrawn).is_(False),
        date >= start, date < end,
    ).order_by(date, starts_at, col(Activity.id))
    if touching is not None:
        stmt = stmt.where(or_(
            *(and_(starts_at >= lo, starts_at <= hi) for lo, hi in touching.starts),
            *(and_(ends_at >= lo, ends_at <= hi) for lo, hi in touching.stated_ends),
            *(and_(ends_at.is_(None), starts_at >= lo, starts_at <= hi)
              for lo, hi in touching.starts_ending),
            and_(ends_at.is_(None), starts_at.is_(None), date.in_(touching.untimed_days)),
            date.in_(touching.days),
        ))
    rows = (await session.execute(stmt)).all()
    return [PlannedTimes(_id(i), d, s, e, a, st) for i, d, s, e, a, st in rows if d is not None]


async def people_by_id(
    *, session: AsyncSession, ids: Iterable[int],
) -> tuple[dict[int, Person], dict[int, list[tuple[str, str]]]]:
    """Active members (any role) with their platform identities: organisers to ask privately."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}, {}
    rows = await session.execute(
        select(col(Member.id), col(Member.name), col(Member.role), col(Member.school_id))
        .where(col(Member.id).in_(wanted), col(Member.active).is_(True)))
    people = {_id(m): Person(_id(m), n, r, s) for m, n, r, s in rows.all()}
    idents: dict[int, list[tuple[str, str]]] = {}
    found = await session.execute(
        select(col(Identity.member_id), col(Identity.platform), col(Identity.external_id))
        .where(col(Identity.member_id).in_(wanted)).order_by(col(Identity.id)))
    for mid, platform, ext in found.all():
        idents.setdefault(_id(mid), []).append((platform, ext))
    return people, idents


async def activities_by_id(*, session: AsyncSession, ids: Iterable[int]) -> dict[int, Activity]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Activity).where(col(Activity.id).in_(wanted)))
    return {a.id: a for a in rows.scalars() if a.id is not None}


@dataclass(frozen=True)
class WeekTurnout:
    events: int
    checkins: int
    late: int
    leaves: int


async def turnout_by_school(
    *, session: AsyncSession, start: dt.date, end: dt.date,
) -> dict[int | None, WeekTurnout]:
    """Per school (where the activity was held): plans still on (planned or held, not
    cancelled) and their attendance."""
    events = await session.execute(
        select(col(Activity.school_id), func.count()).where(
            col(Activity.status).in_(PLAN_STATUSES), col(Activity.withdrawn).is_(False),
            col(Activity.date) >= start, col(Activity.date) < end,
        ).group_by(col(Activity.school_id))
    )
    counts = {sid: int(n) for sid, n in events.all()}
    is_checkin = col(Attendance.type) == "checkin"
    att = await session.execute(
        select(col(Activity.school_id),
               func.sum(case((is_checkin, 1), else_=0)),
               func.sum(case((and_(is_checkin, col(Attendance.late).is_(True)), 1), else_=0)),
               func.sum(case((col(Attendance.type) == "leave", 1), else_=0)))
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(col(Activity.status).in_(PLAN_STATUSES), col(Activity.withdrawn).is_(False),
               col(Activity.date) >= start, col(Activity.date) < end,
               col(Attendance.withdrawn).is_(False))
        .group_by(col(Activity.school_id))
    )
    sums = {sid: (int(c or 0), int(late or 0), int(leave or 0))
            for sid, c, late, leave in att.all()}
    return {sid: WeekTurnout(counts.get(sid, 0), *sums.get(sid, (0, 0, 0)))
            for sid in set(counts) | set(sums)}


async def idle_teachers(
    *, session: AsyncSession, start: dt.date, end: dt.date,
) -> dict[int, list[str]]:
    """Active teachers with neither a report nor an attendance in [start, end), by school.

    A record is a live event that is not cancelled, registered or joined by the teacher:
    whoever joined an event has a record as much as its registrant."""
    live = [col(Activity.withdrawn).is_(False),
            col(Activity.status) != EventStatus.CANCELLED.value,
            col(Activity.date) >= start, col(Activity.date) < end]
    registered = exists().where(col(Activity.reporter_id) == col(Member.id), *live)
    joined = exists().where(col(ActivityReport.member_id) == col(Member.id),
                            col(ActivityReport.withdrawn).is_(False),
                            col(Activity.id) == col(ActivityReport.activity_id), *live)
    attended = exists().where(col(Attendance.member_id) == col(Member.id),
                              col(Attendance.withdrawn).is_(False),
                              col(Attendance.date) >= start, col(Attendance.date) < end)
    rows = await session.execute(
        select(col(Member.school_id), col(Member.name))
        .where(col(Member.role) == Role.TEACHER, col(Member.active).is_(True),
               col(Member.school_id).is_not(None), ~registered, ~joined, ~attended)
        .order_by(col(Member.school_id), col(Member.id))
    )
    out: dict[int, list[str]] = defaultdict(list)
    for sid, name in rows.all():
        out[_id(sid)].append(name)
    return out
