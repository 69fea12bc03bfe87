"""Writes the 融安县 demo county (storage.demo_county) into an empty database.

Console identities are the members' names and console chat ids the group names, so the
console chat can speak as anyone with `/as 姓名`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.demo_county import ADMIN, BUREAU, COMMUNITIES, COMMUNITY_TYPE
from storage.models import ChatGroup, Community, Identity, Member, Role, School

CONSOLE = "console"


async def has_roster(*, session: AsyncSession) -> bool:
    return int((await session.execute(
        select(func.count()).select_from(Community))).scalar_one()) > 0


def _subjects(text: str) -> list[str]:
    return [s for s in text.split("、") if s]


async def seed_demo(*, session: AsyncSession) -> int:
    """Insert the demo county; returns the number of members written."""
    members: list[Member] = []
    for demo in COMMUNITIES:
        community = Community(name=demo.name, kind=COMMUNITY_TYPE, bureau=BUREAU)
        session.add(community)
        await session.flush()
        session.add(ChatGroup(platform=CONSOLE, chat_id=demo.group, name=demo.group,
                              community_id=community.id))
        for demo_school in demo.schools:
            school = School(name=demo_school.name, community_id=community.id or 0,
                            is_lead=demo_school is demo.lead, aliases=list(demo_school.aliases))
            session.add(school)
            await session.flush()
            members.append(Member(name=demo_school.principal, role=Role.PRINCIPAL,
                                  school_id=school.id, subjects=[]))
            members.extend(
                Member(name=name, role=Role.TEACHER, school_id=school.id, subjects=_subjects(subj))
                for name, subj in demo_school.teachers
            )
    members.append(Member(name=ADMIN[0], role=Role.ADMIN, school_id=None, subjects=[]))
    names = [m.name for m in members]
    if len(names) != len(set(names)):
        raise ValueError("demo roster names must be unique for console identities")
    session.add_all(members)
    await session.flush()
    session.add_all(
        Identity(member_id=m.id or 0, platform=CONSOLE, external_id=m.name) for m in members
    )
    return len(members)
