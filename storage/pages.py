"""The pages' durable state: one-time links, sessions and the signing key.

A link's nonce is spent once, by an UPDATE that only one request can win; a session's cookie
holds a random token of which only the SHA-256 is kept, so a copy of the database opens no
session. The signing key, when none is configured, is made once and kept in a Setting row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Member, PageLink, PageSession, Setting

SECRET_KEY = "pages:secret"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def page_secret(*, session: AsyncSession, now: dt.datetime) -> str:
    """The stored signing key, made on first use; every instance reads the same one."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    await session.execute(module.insert(Setting).values(
        key=SECRET_KEY, value=secrets.token_hex(32), updated_at=now,
    ).on_conflict_do_nothing(index_elements=["key"]))
    stmt = select(col(Setting.value)).where(col(Setting.key) == SECRET_KEY)
    return str((await session.execute(stmt)).scalar_one())


async def mint_link(*, session: AsyncSession, member_id: int, now: dt.datetime,
                    lifetime: dt.timedelta) -> str:
    """A new one-time nonce for this member, good for `lifetime`."""
    nonce = secrets.token_urlsafe(24)
    # Links a day past their expiry are of no use, even to show "expired".
    await session.execute(delete(PageLink).where(
        col(PageLink.expires_at) < now - dt.timedelta(days=1)))
    session.add(PageLink(nonce=nonce, member_id=member_id, expires_at=now + lifetime))
    await session.flush()
    return nonce


async def link_member(*, session: AsyncSession, nonce: str, now: dt.datetime) -> int | None:
    """Whose unspent, unexpired link this is (without spending it)."""
    link = await session.get(PageLink, nonce)
    if link is None or link.spent_at is not None or link.expires_at <= now:
        return None
    return link.member_id


async def spend_link(*, session: AsyncSession, nonce: str, now: dt.datetime) -> int | None:
    """Spend a link: the member it was for, or None when unknown, expired or spent before."""
    member_id = await link_member(session=session, nonce=nonce, now=now)
    if member_id is None:
        return None
    won = await session.execute(
        update(PageLink).where(col(PageLink.nonce) == nonce, col(PageLink.spent_at).is_(None))
        .values(spent_at=now))
    return member_id if won.rowcount == 1 else None  # type: ignore[attr-defined]


async def open_session(*, session: AsyncSession, member_id: int, now: dt.datetime,
                       lifetime: dt.timedelta) -> str:
    """A new session for this member; returns the cookie's token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    await session.execute(delete(PageSession).where(col(PageSession.expires_at) <= now))
    session.add(PageSession(token_hash=_hash(token), member_id=member_id,
                            csrf=secrets.token_urlsafe(24), expires_at=now + lifetime,
                            created_at=now))
    await session.flush()
    return token


async def session_of(*, session: AsyncSession, token: str,
                     now: dt.datetime) -> tuple[Member, str] | None:
    """The active member and the session's CSRF token, or None (unknown, expired, gone)."""
    row = await session.get(PageSession, _hash(token))
    if row is None or row.expires_at <= now:
        return None
    member = await session.get(Member, row.member_id)
    if member is None or not member.active:
        return None
    return member, row.csrf

