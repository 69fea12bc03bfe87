"""Who may change what: the one place every privileged act in chat asks.

Teachers change their own entries; the organiser of a plan, a principal of that community
and a bureau admin may cancel or move it; principals (of the person's school, or the lead
school's for the whole community) and admins may withdraw or merge others' records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, Member, Role, School
from storage.roster import school_community

if TYPE_CHECKING:
    from handlers.ledger.model import LedgerScope


async def _community_of(session: AsyncSession, member: Member) -> int | None:
    return await school_community(session=session, school_id=member.school_id)


async def may_manage_plan(*, session: AsyncSession, member: Member | None,
                          event: Activity) -> bool:
    """Cancel or move a plan: its organiser, a principal of its community, an admin."""
    if member is None:
        return False
    if member.role == Role.ADMIN or event.reporter_id == member.id:
        return True
    return (member.role == Role.PRINCIPAL and event.community_id is not None
            and await _community_of(session, member) == event.community_id)


async def may_act_for(*, session: AsyncSession, member: Member | None, other: Member) -> bool:
    """Withdraw or merge another person's records: an admin, the principal of that person's
    school, or the lead school's principal of that person's community."""
    if member is None:
        return False
    if member.role == Role.ADMIN:
        return True
    if member.role != Role.PRINCIPAL or member.school_id is None:
        return False
    if member.school_id == other.school_id:
        return True
    own = await session.get(School, member.school_id)
    return (own is not None and own.is_lead
            and await _community_of(session, other) == own.community_id)


async def export_scope(*, session: AsyncSession, member: Member) -> LedgerScope | None:
    """What a workbook asked for in chat covers: the county for an admin, the community for
    its lead school's principal, the school for another principal; None for a teacher."""
    from handlers.ledger.model import LedgerScope  # the ledger reads sheets, which ask us

    if not may_export(member):
        return None
    if member.role == Role.ADMIN:
        return LedgerScope.county()
    if member.role != Role.PRINCIPAL or member.school_id is None:
        return None
    own = await session.get(School, member.school_id)
    if own is not None and own.is_lead:
        return LedgerScope.community(own.community_id)
    return LedgerScope.school(member.school_id)


async def may_bind_group(*, session: AsyncSession, member: Member | None,
                         community_id: int | None) -> bool:
    """Bind a group to a community (or one of its schools): an admin, or the principal of
    that community's lead school — no principal may take over another community's group.
    `community_id` None: whether they may bind any group at all (asked before the name is
    looked up, so a refusal tells an outsider nothing about which names exist)."""
    if member is None or not member.active:
        return False
    if member.role == Role.ADMIN:
        return True
    if member.role != Role.PRINCIPAL or member.school_id is None:
        return False
    own = await session.get(School, member.school_id)
    return (own is not None and own.is_lead
            and (community_id is None or own.community_id == community_id))


def may_decide_claims(member: Member | None) -> bool:
    """Approve or reject who someone is: only a bureau admin."""
    return member is not None and member.active and member.role == Role.ADMIN


def may_export(member: Member | None) -> bool:
    """Workbooks and assessment sheets (names, mobiles): principals and admins."""
    return member is not None and member.active and member.role in (Role.PRINCIPAL, Role.ADMIN)


def may_undo_link(member: Member | None) -> bool:
    """`解除` a link just made: the principal (or admin) who was told of it."""
    return member is not None and member.active and member.role in (Role.PRINCIPAL, Role.ADMIN)


def may_see_community(*, member: Member, own: int | None, group: int | None,
                      wanted: int) -> bool:
    """Figures of a community: a group sees only its own community's (whoever asks in it);
    a private chat sees the asker's scope (an admin: the county)."""
    if group is not None:
        return wanted == group
    return member.role == Role.ADMIN or wanted == own


def sees_whole_county(member: Member | None) -> bool:
    """A bureau admin's scope is every community; everyone else's their own."""
    return member is not None and member.role == Role.ADMIN


def may_see_names(member: Member | None) -> bool:
    """Who is missing, idle or late, by name (privately only): principals and admins."""
    return member is not None and member.role in (Role.PRINCIPAL, Role.ADMIN)


def may_see_sheet(*, member: Member, plan: Activity, community_id: int | None) -> bool:
    """A plan's sign-in sheet: its organiser, a principal of its community (`community_id` is
    the asker's), an admin."""
    if member.role == Role.ADMIN or member.id == plan.reporter_id:
        return True
    return (member.role == Role.PRINCIPAL and community_id is not None
            and community_id == plan.community_id)


def may_get_digest(member: Member | None) -> bool:
    """A digest on demand covers a scope (a school, a community, the county): principals
    and admins, whose weekly digests they are."""
    return member is not None and member.active and member.role in (Role.PRINCIPAL, Role.ADMIN)
