"""Linking chat accounts to roster members, with proof: every link and unlink is audited,
claims that need an admin wait here, and a per-sender daily marker keeps platform lookups
and hints to strangers to one a day (it survives a restart, unlike a cache).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.audit import record_audit
from storage.models import Identity, IdentityClaim, Member, Role, School, Setting
from storage.roster import forget_lookups

PENDING, LINKED, APPROVED, REJECTED, UNDONE = "pending", "linked", "approved", "rejected", "undone"


def normalise_mobile(raw: str) -> str:
    """The 11 digits of a mainland mobile, whatever the platform or the roster wrote
    (`+86 138-0000-0000`, `8613800000000`); "" when it is not one."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) == 11 and digits.startswith("1") else ""


async def identities_of(*, session: AsyncSession, member_id: int) -> list[Identity]:
    stmt = select(Identity).where(col(Identity.member_id) == member_id)
    return list((await session.execute(stmt.order_by(col(Identity.id)))).scalars())


async def link(
    *, session: AsyncSession, member_id: int, platform: str, external_id: str, at: dt.datetime,
    actor_id: int | None, how: str,
) -> Identity:
    """Link an account to a member and say in the audit log how it was proven."""
    identity = Identity(member_id=member_id, platform=platform, external_id=external_id)
    session.add(identity)
    await session.flush()
    forget_lookups(session)
    record_audit(session=session, at=at, member_id=actor_id, action="link", entity="identity",
                 entity_id=identity.id,
                 after={"member_id": member_id, "platform": platform,
                        "external_id": external_id, "how": how})
    return identity


async def unlink(
    *, session: AsyncSession, identity: Identity, at: dt.datetime, actor_id: int | None,
    reason: str,
) -> None:
    before = {"member_id": identity.member_id, "platform": identity.platform,
              "external_id": identity.external_id}
    record_audit(session=session, at=at, member_id=actor_id, action="unlink", entity="identity",
                 entity_id=identity.id, before=before, reason=reason)
    await session.delete(identity)
    await session.flush()
    forget_lookups(session)


async def identity_by_account(
    *, session: AsyncSession, platform: str, external_id: str,
) -> Identity | None:
    stmt = select(Identity).where(col(Identity.platform) == platform,
                                  col(Identity.external_id) == external_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_claim(*, session: AsyncSession, platform: str,
                     external_id: str) -> IdentityClaim | None:
    """The account's claim still waiting for an admin, if any."""
    stmt = select(IdentityClaim).where(
        col(IdentityClaim.platform) == platform, col(IdentityClaim.external_id) == external_id,
        col(IdentityClaim.status) == PENDING)
    return (await session.execute(stmt.order_by(col(IdentityClaim.id).desc()))).scalars().first()


async def pending_claims(*, session: AsyncSession) -> list[IdentityClaim]:
    stmt = select(IdentityClaim).where(col(IdentityClaim.status) == PENDING)
    return list((await session.execute(stmt.order_by(col(IdentityClaim.id)))).scalars())


async def last_link_told_to(*, session: AsyncSession, member_id: int,
                            platform: str) -> IdentityClaim | None:
    """The newest accepted claim this principal was told of and may still undo."""
    stmt = select(IdentityClaim).where(
        col(IdentityClaim.notified_id) == member_id, col(IdentityClaim.platform) == platform,
        col(IdentityClaim.status) == LINKED)
    return (await session.execute(stmt.order_by(col(IdentityClaim.id).desc()))).scalars().first()


async def principals_to_tell(*, session: AsyncSession, school_id: int | None,
                             platform: str) -> list[tuple[Member, str]]:
    """Who hears of a teacher's link: the school's principal, else the lead school's, else
    the admins — those with an account on the platform, with that account's id."""
    school = await session.get(School, school_id) if school_id is not None else None
    tiers: list[Any] = []
    if school is not None:
        tiers.append(col(Member.school_id) == school.id)
        lead = select(col(School.id)).where(col(School.community_id) == school.community_id,
                                            col(School.is_lead).is_(True))
        tiers.append(col(Member.school_id).in_(lead))
    for where in tiers:
        found = await _reachable(session, platform, (col(Member.role) == Role.PRINCIPAL) & where)
        if found:
            return found
    return await _reachable(session, platform, col(Member.role) == Role.ADMIN)


async def admins_to_tell(*, session: AsyncSession, platform: str) -> list[tuple[Member, str]]:
    return await _reachable(session, platform, col(Member.role) == Role.ADMIN)


async def _reachable(session: AsyncSession, platform: str, where: Any) -> list[tuple[Member, str]]:
    stmt = (select(Member, col(Identity.external_id))
            .join(Identity, col(Identity.member_id) == col(Member.id))
            .where(where, col(Member.active).is_(True), col(Identity.platform) == platform)
            .order_by(col(Member.id)))
    return [(m, ext) for m, ext in (await session.execute(stmt)).all()]


def _marker_key(kind: str, platform: str, external_id: str) -> str:
    # Hashed: an account id may be longer than the key column, and a key names no one.
    digest = hashlib.sha256(f"{platform}\0{external_id}".encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


async def done_today(*, session: AsyncSession, kind: str, platform: str, external_id: str,
                     today: dt.date) -> bool:
    """Whether `kind` was already done today for this account (reads only)."""
    row = await session.get(Setting, _marker_key(kind, platform, external_id))
    return row is not None and row.value == today.isoformat()


async def mark_done_today(*, session: AsyncSession, kind: str, platform: str, external_id: str,
                          now: dt.datetime, today: dt.date) -> None:
    key = _marker_key(kind, platform, external_id)
    row = await session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=today.isoformat(), updated_at=now))
    else:
        row.value, row.updated_at = today.isoformat(), now
    await session.flush()


async def first_time_today(
    *, session: AsyncSession, kind: str, platform: str, external_id: str, now: dt.datetime,
    today: dt.date,
) -> bool:
    """True (and remembered) the first time today `kind` is done for this account."""
    if await done_today(session=session, kind=kind, platform=platform, external_id=external_id,
                        today=today):
        return False
    await mark_done_today(session=session, kind=kind, platform=platform,
                          external_id=external_id, now=now, today=today)
    return True


class ClaimError(Exception):
    """A claim that cannot be decided as asked; the message says why, in one line."""


async def approve_claim(
    *, session: AsyncSession, claim: IdentityClaim, at: dt.datetime, actor_id: int | None,
    member_id: int | None = None,
) -> Identity:
    """An admin says the claimant is who they said (or, for an ambiguous name, `member_id`):
    link the account, replacing the member's earlier account on that platform (audited)."""
    if claim.status != PENDING:
        raise ClaimError(f"claim {claim.id} is {claim.status}, not pending")
    chosen = member_id if member_id is not None else claim.member_id
    if chosen is None:
        raise ClaimError(f"claim {claim.id} fits several members: name one with --member")
    member = await session.get(Member, chosen)
    if member is None or not member.active:
        raise ClaimError(f"no active member {chosen}")
    if await identity_by_account(session=session, platform=claim.platform,
                                 external_id=claim.external_id) is not None:
        raise ClaimError(f"claim {claim.id}: the account is already linked to someone")
    for old in await identities_of(session=session, member_id=chosen):
        if old.platform == claim.platform:
            await unlink(session=session, identity=old, at=at, actor_id=actor_id,
                         reason=f"replaced by approved claim {claim.id}")
    identity = await link(session=session, member_id=chosen, platform=claim.platform,
                          external_id=claim.external_id, at=at, actor_id=actor_id,
                          how=f"approved claim {claim.id}")
    claim.member_id, claim.identity_id = chosen, identity.id
    claim.status, claim.decided_by, claim.decided_at = APPROVED, actor_id, at
    session.add(claim)
    await session.flush()
    return identity


async def reject_claim(*, session: AsyncSession, claim: IdentityClaim, at: dt.datetime,
                       actor_id: int | None) -> None:
    if claim.status != PENDING:
        raise ClaimError(f"claim {claim.id} is {claim.status}, not pending")
    claim.status, claim.decided_by, claim.decided_at = REJECTED, actor_id, at
    session.add(claim)
    record_audit(session=session, at=at, member_id=actor_id, action="reject", entity="claim",
                 entity_id=claim.id, after={"platform": claim.platform,
                                            "external_id": claim.external_id,
                                            "member_id": claim.member_id})
    await session.flush()


async def undo_link(*, session: AsyncSession, claim: IdentityClaim, at: dt.datetime,
                    actor_id: int | None) -> None:
    """`解除`: the principal who was told of a link says it is not that teacher."""
    identity = await session.get(Identity, claim.identity_id) if claim.identity_id else None
    if identity is not None:
        await unlink(session=session, identity=identity, at=at, actor_id=actor_id,
                     reason=f"解除 of claim {claim.id}")
    claim.status, claim.decided_by, claim.decided_at = UNDONE, actor_id, at
    session.add(claim)
    await session.flush()
