"""Who may change what: the one place every privileged act in chat asks.

Teachers change their own entries; the organiser of a plan, a principal of that community
and a bureau admin may cancel or move it; principals (of the person's school, or the lead
school's for the whole community) and admins may withdraw or merge others' records.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.model import LedgerScope
from storage.models import Activity, Member, School
from storage.roster import school_community


async def _community_of(session: AsyncSession, member: Member) -> int | None:
    return await school_community(session=session, school_id=member.school_id)


async def may_manage_plan(*, session: AsyncSession, member: Member | None,
                          event: Activity) -> bool:
    """Cancel or move a plan: its organiser, a principal of its community, an admin."""
    if member is None:
        return False
    if member.role == "admin" or event.reporter_id == member.id:
        return True
    return (member.role == "principal" and event.community_id is not None
            and await _community_of(session, member) == event.community_id)


async def may_act_for(*, session: AsyncSession, member: Member | None, other: Member) -> bool:
    """Withdraw or merge another person's records: an admin, the principal of that person's
    school, or the lead school's principal of that person's community."""
    if member is None:
        return False
    if member.role == "admin":
        return True
    if member.role != "principal" or member.school_id is None:
        return False
    if member.school_id == other.school_id:
        return True
    own = await session.get(School, member.school_id)
    return (own is not None and own.is_lead
            and await _community_of(session, other) == own.community_id)


async def export_scope(*, session: AsyncSession, member: Member) -> LedgerScope | None:
    """What a workbook asked for in chat covers: the county for an admin, the community for
    its lead school's principal, the school for another principal; None for a teacher."""
    if member.role == "admin":
        return LedgerScope.county()
    if member.role != "principal" or member.school_id is None:
        return None
    own = await session.get(School, member.school_id)
    if own is not None and own.is_lead:
        return LedgerScope.community(own.community_id)
    return LedgerScope.school(member.school_id)
