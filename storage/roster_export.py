"""The roster as sheet rows, in the columns that roster import reads back unchanged.

Active members only, by community (lead school first), school, role and name; members
without a school (bureau administrators) come last. Imports nothing of ours but storage.*.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Community, Identity, Member, Role, School
from storage.roster_vocab import (
    COMMUNITY,
    LIST_SEPARATOR,
    NAME,
    PHONE,
    PLATFORM_COLUMNS,
    ROLE,
    ROLE_LABELS,
    SCHOOL,
    SCHOOL_TYPE,
    SCHOOL_TYPE_LABELS,
    SUBJECTS,
)

_ROLE_ORDER: dict[str, int] = {Role.PRINCIPAL: 0, Role.TEACHER: 1, Role.ADMIN: 2}


async def export_roster(*, session: AsyncSession) -> list[dict[str, str]]:
    """One dict per active member, keyed by the columns of `roster_vocab.EXPORT_COLUMNS`."""
    communities = {c.id: c for c in (await session.scalars(select(Community))).all()}
    schools = {s.id: s for s in (await session.scalars(select(School))).all()}
    members = (await session.scalars(select(Member).where(col(Member.active)))).all()
    ids: dict[int, dict[str, list[str]]] = {}
    for ident in (await session.scalars(select(Identity).order_by(col(Identity.id)))).all():
        ids.setdefault(ident.member_id, {}).setdefault(ident.platform, []).append(
            ident.external_id
        )

    def sort_key(member: Member) -> tuple[bool, str, bool, str, int, str, int]:
        school = schools.get(member.school_id)
        community = communities.get(school.community_id) if school else None
        return (
            school is None,
            community.name if community else "",
            not (school.is_lead if school else False),
            school.name if school else "",
            _ROLE_ORDER.get(member.role, 3),
            member.name,
            member.id or 0,
        )

    rows = []
    for member in sorted(members, key=sort_key):
        school = schools.get(member.school_id)
        community = communities.get(school.community_id) if school else None
        row = {
            COMMUNITY: community.name if community else "",
            SCHOOL: school.name if school else "",
            SCHOOL_TYPE: SCHOOL_TYPE_LABELS[school.is_lead] if school else "",
            NAME: member.name,
            ROLE: ROLE_LABELS.get(member.role, member.role),
            SUBJECTS: LIST_SEPARATOR.join(member.subjects or []),
            PHONE: member.phone,
        }
        for column, platform in PLATFORM_COLUMNS.items():
            row[column] = LIST_SEPARATOR.join(ids.get(member.id or -1, {}).get(platform, []))
        rows.append(row)
    return rows
