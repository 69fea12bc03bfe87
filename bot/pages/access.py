"""Who is looking and what they may see: checked on the server for every request.

The scope follows the chat's export scope (handlers.permissions.export_scope): the county for
an admin, the community for its lead school's principal, the school for another principal;
a teacher sees their school's figures and their own entries only. Anything outside the scope
is answered as if it did not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from handlers.ledger.model import LedgerScope
from handlers.permissions import export_scope
from handlers.standing import County
from storage.models import Activity, ActivityReport, Attendance, Member


@dataclass(frozen=True)
class Viewer:
    member: Member
    csrf: str
    scope: LedgerScope | None  # None: nothing to show (no school on the roster)
    own_only: bool  # a teacher: their own entries

    @property
    def member_id(self) -> int:
        return int(self.member.id or 0)

    @property
    def manages(self) -> bool:
        """Withdraw and merge entries, download the workbook: principals and admins."""
        return not self.own_only and self.member.role in ("principal", "admin")


async def viewer_of(session: AsyncSession, member: Member, csrf: str) -> Viewer:
    scope = await export_scope(session=session, member=member)
    if scope is not None:
        return Viewer(member, csrf, scope, own_only=False)
    school = LedgerScope.school(member.school_id) if member.school_id is not None else None
    return Viewer(member, csrf, school, own_only=True)


def sees_community(viewer: Viewer, community_id: int) -> bool:
    scope = viewer.scope
    return scope is not None and (scope.kind == "county"
                                  or (scope.kind == "community" and scope.id == community_id))


def sees_school(viewer: Viewer, county: County, school_id: int) -> bool:
    school = county.schools.get(school_id)
    if school is None or viewer.scope is None:
        return False
    if viewer.scope.kind == "school":
        return viewer.scope.id == school_id
    return sees_community(viewer, school.community_id)


def school_ids(viewer: Viewer, county: County) -> list[int]:
    """The schools the viewer may pick in filters."""
    return [sid for sid in county.schools if sees_school(viewer, county, sid)]


async def sees_event(session: AsyncSession, viewer: Viewer, county: County,
                     event: Activity) -> bool:
    """Within the scope; for a school, hosted or reported by its teachers; for a teacher,
    reported or signed for by them."""
    if event.id is None or viewer.scope is None:
        return False
    if viewer.own_only:
        mine = await session.execute(select(col(ActivityReport.id)).where(
            col(ActivityReport.activity_id) == event.id,
            col(ActivityReport.member_id) == viewer.member_id).limit(1))
        if mine.first() is not None:
            return True
        signed = await session.execute(select(col(Attendance.id)).where(
            col(Attendance.activity_id) == event.id,
            col(Attendance.member_id) == viewer.member_id).limit(1))
        return signed.first() is not None
    if viewer.scope.kind == "school":
        if event.school_id == viewer.scope.id:
            return True
        theirs = await session.execute(
            select(col(ActivityReport.id))
            .join(Member, col(Member.id) == col(ActivityReport.member_id))
            .where(col(ActivityReport.activity_id) == event.id,
                   col(Member.school_id) == viewer.scope.id).limit(1))
        return theirs.first() is not None
    return event.community_id is not None and sees_community(viewer, event.community_id)
