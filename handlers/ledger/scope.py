"""Which communities a ledger scope covers, and what the document calls it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from handlers.ledger.model import LedgerScope
from handlers.standing import County
from storage.models import Community


class UnknownScope(LookupError):
    """A community or school id the roster does not have."""


async def county_name(session: AsyncSession) -> str:
    """The county as its bureau names it (融安县教育局 → 融安县), else 全县."""
    bureaus = (await session.execute(select(col(Community.bureau)))).scalars()
    for bureau in bureaus:
        if bureau:
            return bureau.removesuffix("教育局") or bureau
    return "全县"


async def resolve_scope(session: AsyncSession, county: County,
                        scope: LedgerScope) -> tuple[str, list[int]]:
    """The scope's name and the communities it covers."""
    if scope.kind == "community" and scope.id in county.communities:
        return county.communities[scope.id], [scope.id]
    if scope.kind == "school" and scope.id in county.schools:
        school = county.schools[scope.id]
        return school.name, [school.community_id]
    if scope.kind == "county":
        return await county_name(session), sorted(county.communities)
    raise UnknownScope(f"no {scope.kind} #{scope.id}")
