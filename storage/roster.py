"""Who is who: communities, schools, members, platform identities and chat groups."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ChatGroup, Community, Conversation, Identity, Member, School

# Asked for every message: built once (building a statement costs more than running it).
_MEMBER_BY_IDENTITY = (
    select(Member)
    .join(Identity, col(Identity.member_id) == col(Member.id))
    .where(col(Identity.platform) == bindparam("platform"),
           col(Identity.external_id) == bindparam("external_id"))
)
_GROUP_BY_CHAT = select(ChatGroup).where(col(ChatGroup.platform) == bindparam("platform"),
                                         col(ChatGroup.chat_id) == bindparam("chat_id"))

_SCHOOL_NAMED = select(School).where(col(School.name) == bindparam("name"))


# Who sent a message and which chat it is, remembered for the rest of the transaction: the
# worker handles several events in one (bot.worker), often from the same people and chats.
# Whatever links, unlinks or binds forgets them (`forget_lookups`).
_LOOKUPS = "roster_lookups"


def _lookups(session: AsyncSession) -> dict[tuple[str, str, str], Member | ChatGroup | None]:
    found: dict[tuple[str, str, str], Member | ChatGroup | None]
    found = session.info.setdefault(_LOOKUPS, {})
    return found


def forget_lookups(session: AsyncSession) -> None:
    """After an identity or a chat group changes: the next look-up reads the database."""
    session.info.pop(_LOOKUPS, None)


async def _remembered(session: AsyncSession, key: tuple[str, str, str], statement: Any,
                      params: dict[str, str]) -> Member | ChatGroup | None:
    found = _lookups(session)
    if key not in found:
        found[key] = (await session.execute(statement, params)).scalar_one_or_none()
    return found[key]


async def member_by_identity(
    *, session: AsyncSession, platform: str, external_id: str,
) -> Member | None:
    member = await _remembered(session, ("member", platform, external_id), _MEMBER_BY_IDENTITY,
                               {"platform": platform, "external_id": external_id})
    assert member is None or isinstance(member, Member)
    return member


async def group_by_chat(*, session: AsyncSession, platform: str, chat_id: str) -> ChatGroup | None:
    group = await _remembered(session, ("group", platform, chat_id), _GROUP_BY_CHAT,
                              {"platform": platform, "chat_id": chat_id})
    assert group is None or isinstance(group, ChatGroup)
    return group


@dataclass(frozen=True)
class Sender:
    """Who sent a message, the chat group it came from and the question pending for them."""

    member: Member | None
    group: ChatGroup | None
    pending: Conversation | None


@functools.cache
def _sender_statement(with_group: bool) -> Any:
    """Member, pending question and (`with_group`) chat group in one round trip: outer joins
    from a one-row table, so an unknown sender or chat still gives a row of Nones."""
    one = select(literal(1).label("one")).subquery()
    stmt = select(Member, Conversation, *([ChatGroup] if with_group else [])).select_from(one)
    stmt = stmt.outerjoin(Identity, and_(col(Identity.platform) == bindparam("platform"),
                                         col(Identity.external_id) == bindparam("external_id")))
    stmt = stmt.outerjoin(Member, col(Member.id) == col(Identity.member_id))
    stmt = stmt.outerjoin(Conversation, and_(
        col(Conversation.platform) == bindparam("platform"),
        col(Conversation.chat_id) == bindparam("chat_id"),
        col(Conversation.member_id) == col(Member.id)))
    if with_group:
        stmt = stmt.outerjoin(ChatGroup, and_(col(ChatGroup.platform) == bindparam("platform"),
                                              col(ChatGroup.chat_id) == bindparam("chat_id")))
    return stmt


async def sender_of(
    *, session: AsyncSession, platform: str, external_id: str, chat_id: str, in_group: bool,
) -> Sender:
    """`member_by_identity`, `group_by_chat` (in a group) and the pending question in that
    chat, read together; the chat group comes from the transaction's look-ups when known."""
    found = _lookups(session)
    group_key = ("group", platform, chat_id)
    with_group = in_group and group_key not in found
    params = {"platform": platform, "external_id": external_id, "chat_id": chat_id}
    row = (await session.execute(_sender_statement(with_group), params)).one()
    member, pending = row[0], row[1]
    found[("member", platform, external_id)] = member
    if with_group:
        found[group_key] = row[2]
    group = found[group_key] if in_group else None
    assert group is None or isinstance(group, ChatGroup)
    return Sender(member, group, pending)


async def all_schools(*, session: AsyncSession) -> list[School]:
    return list((await session.execute(select(School).order_by(col(School.id)))).scalars())


async def schools_in(*, session: AsyncSession, community_id: int | None) -> list[School]:
    if community_id is None:
        return []
    stmt = select(School).where(col(School.community_id) == community_id)
    return list((await session.execute(stmt.order_by(col(School.id)))).scalars())


async def schools_of(*, session: AsyncSession, community_ids: Iterable[int]) -> list[School]:
    """The schools of several communities, by id (`schools_in` of each, together)."""
    wanted = sorted(set(community_ids))
    if not wanted:
        return []
    stmt = select(School).where(col(School.community_id).in_(wanted))
    return list((await session.execute(stmt.order_by(col(School.id)))).scalars())


async def members_by_id(*, session: AsyncSession, ids: Iterable[int]) -> list[Member]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(Member).where(col(Member.id).in_(wanted))
    return list((await session.execute(stmt.order_by(col(Member.id)))).scalars())


async def school_named(*, session: AsyncSession, name: str) -> School | None:
    """A school by canonical name or by one of its aliases."""
    exact = (await session.execute(_SCHOOL_NAMED, {"name": name})).scalar_one_or_none()
    if exact is not None:
        return exact
    for school in await all_schools(session=session):
        if name in (school.aliases or []):
            return school
    return None


async def community_named(*, session: AsyncSession, name: str) -> Community | None:
    stmt = select(Community).where(col(Community.name) == name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def members_named(
    *, session: AsyncSession, name: str, school_id: int | None = None,
) -> list[Member]:
    stmt = select(Member).where(col(Member.name) == name, col(Member.active).is_(True))
    if school_id is not None:
        stmt = stmt.where(col(Member.school_id) == school_id)
    return list((await session.execute(stmt.order_by(col(Member.id)))).scalars())


async def link_identity(
    *, session: AsyncSession, member_id: int, platform: str, external_id: str,
) -> Identity:
    identity = Identity(member_id=member_id, platform=platform, external_id=external_id)
    session.add(identity)
    await session.flush()
    forget_lookups(session)
    return identity


async def school_community(*, session: AsyncSession, school_id: int | None) -> int | None:
    if school_id is None:
        return None
    school = await session.get(School, school_id)
    return school.community_id if school else None


async def bind_group(
    *, session: AsyncSession, platform: str, chat_id: str, scope: str, app_id: str = "",
    name: str = "",
) -> ChatGroup | None:
    """Bind (or re-bind) a chat to a community or school by name; None if no such scope."""
    community = await community_named(session=session, name=scope)
    school: School | None = None
    if community is None:
        school = await school_named(session=session, name=scope)
        if school is None:
            return None
    group = await group_by_chat(session=session, platform=platform, chat_id=chat_id)
    if group is None:
        group = ChatGroup(platform=platform, chat_id=chat_id, app_id=app_id)
    group.name = name or group.name or scope
    group.community_id = community.id if community else (school.community_id if school else None)
    group.school_id = school.id if school else None
    session.add(group)
    await session.flush()
    forget_lookups(session)
    return group
