"""Who is this sender? The platform's word, before anyone has to say `我是…`.

For a message whose sender has no linked account, the worker asks here once per sender and
day (remembered in the database, so a restart does not ask again): Feishu's contact API
gives the account's mobile, WeCom's user/get its name and user/getuserid the userid behind a
roster mobile. A unique roster match is linked (audited) and the message is then handled as
that member; no match, several, or a platform that will not say leaves the sender to the
claim path (handlers.bind). Mobiles are compared here and never logged or stored elsewhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from handlers.clock import SHANGHAI
from handlers.messages import IncomingMessage
from storage.db import transaction
from storage.identity import (
    done_today,
    identities_of,
    identity_by_account,
    link,
    mark_done_today,
    normalise_mobile,
)
from storage.models import Member

log = logging.getLogger(__name__)
# How many linked accounts a worker remembers before it starts over (memory stays flat).
KNOWN_LIMIT = 50_000

# user/getuserid calls per unknown sender and day: a name shared by more roster members than
# this is left to an admin rather than spending the app's allowance of mistaken calls.
MAX_MOBILE_PROBES = 3


@dataclass(frozen=True)
class PlatformProfile:
    """What a platform says about an account; a field it will not give is ""."""

    name: str = ""
    mobile: str = ""
    employee_no: str = ""


class Directory(Protocol):
    """One platform's user directory, as far as the bot may read it."""

    async def whois(self, sender_id: str) -> PlatformProfile | None:
        """The account's profile; None when the platform does not know it or will not say."""

    async def userid_by_mobile(self, mobile: str) -> str | None:
        """The account id behind a mobile; None where the platform cannot tell."""


class FeishuDirectory:
    def __init__(self, api: Any) -> None:
        self.api = api

    async def whois(self, sender_id: str) -> PlatformProfile | None:
        from bot.channels.feishu.api import get_contact_user

        result = await get_contact_user(self.api, sender_id)
        if not result.ok or not result.data:
            log.info("feishu contact lookup gave nothing: %s", result.error)
            return None
        user = result.data
        return PlatformProfile(name=str(user.get("name") or ""),
                               mobile=str(user.get("mobile") or ""),
                               employee_no=str(user.get("employee_no") or ""))

    async def userid_by_mobile(self, mobile: str) -> str | None:
        return None  # the contact record already carries the mobile


class WeComDirectory:
    def __init__(self, api: Any) -> None:
        self.api = api

    async def whois(self, sender_id: str) -> PlatformProfile | None:
        from bot.channels.wecom.api import get_user

        result = await get_user(self.api, sender_id)
        if not result.ok or not result.data:
            log.info("wecom user/get gave nothing: %s", result.error)
            return None
        return PlatformProfile(name=str(result.data.get("name") or ""),
                               mobile=str(result.data.get("mobile") or ""))

    async def userid_by_mobile(self, mobile: str) -> str | None:
        from bot.channels.wecom.api import get_userid_by_mobile

        result = await get_userid_by_mobile(self.api, mobile)
        if not result.ok or not result.data:
            return None
        return str(result.data.get("userid") or "") or None


def directory_for(channel: object, msg: IncomingMessage) -> Directory | None:
    """The directory of the app the message came through; None for the console and for a
    WeCom set-up without a self-built app (the robot alone cannot read the directory)."""
    from bot.channels.feishu.api import FeishuApi
    from bot.channels.wecom.api import WeComApi

    apis = getattr(channel, "api", None)
    if msg.platform == "feishu" and isinstance(apis, dict):
        api = apis.get(msg.app_id) or apis.get(getattr(channel, "default_app", ""))
        return FeishuDirectory(api) if isinstance(api, FeishuApi) else None
    if msg.platform == "wecom" and isinstance(apis, WeComApi) and apis.wecom.app_secret:
        return WeComDirectory(apis)
    return None


async def identify_sender(*, factory: async_sessionmaker[AsyncSession], channel: object,
                          msg: IncomingMessage, now: datetime,
                          known: set[tuple[str, str]] | None = None) -> int | None:
    """Link the sender when the platform proves who they are; the member's id, or None.

    Its own short transactions, before the worker's: no database snapshot or lock is held
    while the platform answers (on SQLite a long-held snapshot would make the event's own
    writes fail once a webhook has written in between)."""
    if msg.kind != "message" or not msg.sender_id:
        return None
    # Accounts already seen linked need no proof: a link is only ever made, or undone by an
    # admin or principal (the handlers then find no member and the next day's check runs).
    account = (msg.platform, msg.sender_id)
    if known is not None and account in known:
        return None
    directory = directory_for(channel, msg)
    if directory is None:
        return None
    today = now.astimezone(SHANGHAI).date()
    async with factory() as session:
        if await identity_by_account(session=session, platform=msg.platform,
                                     external_id=msg.sender_id) is not None:
            if known is not None:
                if len(known) >= KNOWN_LIMIT:
                    known.clear()
                known.add(account)
            return None
        if await done_today(session=session, kind="whois", platform=msg.platform,
                            external_id=msg.sender_id, today=today):
            return None
    profile = await directory.whois(msg.sender_id)
    candidates = await _candidates(factory, msg.platform, profile) if profile else []
    found = await _prove(directory, msg, profile, candidates) if profile else None
    async with transaction(factory) as session:
        await mark_done_today(session=session, kind="whois", platform=msg.platform,
                              external_id=msg.sender_id, now=now, today=today)
        if found is None:
            return None
        member_id, how = found
        # Another worker may have linked either side meanwhile: one account per member.
        held = await identities_of(session=session, member_id=member_id)
        if any(i.platform == msg.platform for i in held) or await identity_by_account(
                session=session, platform=msg.platform, external_id=msg.sender_id):
            return None
        await link(session=session, member_id=member_id, platform=msg.platform,
                   external_id=msg.sender_id, at=now, actor_id=member_id, how=how)
    log.info("%s account linked to member %s by %s", msg.platform, member_id, how)
    return member_id


async def _unheld(session: AsyncSession, platform: str, members: list[Member]) -> list[Member]:
    """Members with no account on this platform yet (one account per member and platform)."""
    out = []
    for member in members:
        held = await identities_of(session=session, member_id=member.id or 0)
        if not any(i.platform == platform for i in held):
            out.append(member)
    return out


@dataclass(frozen=True)
class _Candidate:
    member_id: int
    mobile: str  # normalised
    unheld: bool  # no account on this platform yet


async def _candidates(factory: async_sessionmaker[AsyncSession], platform: str,
                      profile: PlatformProfile) -> list[_Candidate]:
    """The roster members the profile could be: same mobile, or (no mobile given) same name
    with a mobile to ask the platform about."""
    mobile = normalise_mobile(profile.mobile)
    async with factory() as session:
        roster = list((await session.execute(
            select(Member).where(col(Member.active).is_(True), col(Member.phone) != "")
            .order_by(col(Member.id)))).scalars())
        fits = [m for m in roster if normalise_mobile(m.phone) and (
            normalise_mobile(m.phone) == mobile if mobile else m.name == profile.name)]
        unheld = {m.id for m in await _unheld(session, platform, fits)}
    return [_Candidate(m.id or 0, normalise_mobile(m.phone), m.id in unheld)
            for m in fits]


async def _prove(directory: Directory, msg: IncomingMessage, profile: PlatformProfile,
                 candidates: list[_Candidate]) -> tuple[int, str] | None:
    """The one member the platform's answer proves, and how; None when not exactly one."""
    platform, sender_id = msg.platform, msg.sender_id
    if normalise_mobile(profile.mobile):
        if len(candidates) == 1 and candidates[0].unheld:
            return candidates[0].member_id, f"{platform} directory: mobile"
        return None
    if not profile.name:
        return None
    proven = []
    for candidate in [c for c in candidates if c.unheld][:MAX_MOBILE_PROBES]:
        if await directory.userid_by_mobile(candidate.mobile) == sender_id:
            proven.append(candidate)
    if len(proven) == 1:
        return proven[0].member_id, f"{platform} directory: name and mobile"
    return None
