"""Deciding who is who in chat: `解除` from the principal told of a link, and `批准 N` /
`驳回 N` from an admin for a claim that waits. Private chats only: they name people.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.bind import person_label, platform_label, school_name_of
from handlers.messages import Target
from handlers.permissions import may_decide_claims, may_undo_link
from handlers.routing import Context
from storage.identity import (
    PENDING,
    ClaimError,
    approve_claim,
    last_link_told_to,
    reject_claim,
    undo_link,
)
from storage.models import IdentityClaim

UNLINK = re.compile(r"^\s*解除\s*[。!！]?\s*$")
DECIDE = re.compile(r"^\s*(批准|驳回)\s*#?\s*(\d{1,9})\s*$")


async def handle_unlink(ctx: Context, match: re.Match[str]) -> bool:
    """`解除`: undo the newest link this principal was told of."""
    if ctx.member is None:
        return False
    if ctx.msg.is_group:
        ctx.reply(texts.PRIVATE_ONLY)
        return True
    claim = (await last_link_told_to(session=ctx.session, member_id=ctx.member.id or 0,
                                     platform=ctx.msg.platform)
             if may_undo_link(ctx.member) else None)
    if claim is None:
        ctx.reply(texts.UNLINK_NONE)
        return True
    await undo_link(session=ctx.session, claim=claim, at=ctx.now, actor_id=ctx.member.id)
    ctx.reply(texts.UNLINK_OK.format(name=claim.name, platform=platform_label(claim.platform),
                                     account=claim.account_name or claim.external_id))
    ctx.reply(texts.UNLINKED_NOTICE.format(name=claim.name),
              to=Target(kind="user", id=claim.external_id, name=claim.account_name))
    return True


async def handle_decide(ctx: Context, match: re.Match[str]) -> bool:
    """`批准 12` / `驳回 12` by an admin, privately."""
    if ctx.member is None:
        return False
    if not may_decide_claims(ctx.member):
        ctx.reply(texts.CLAIM_ADMIN_ONLY)
        return True
    if ctx.msg.is_group:
        ctx.reply(texts.PRIVATE_ONLY)
        return True
    claim_id = int(match.group(2))
    claim = await ctx.session.get(IdentityClaim, claim_id)
    if claim is None or claim.status != PENDING or claim.platform != ctx.msg.platform:
        ctx.reply(texts.CLAIM_UNKNOWN.format(id=claim_id))
        return True
    claimant = Target(kind="user", id=claim.external_id, name=claim.account_name)
    if match.group(1) == "驳回":
        await reject_claim(session=ctx.session, claim=claim, at=ctx.now, actor_id=ctx.member.id)
        ctx.reply(texts.CLAIM_REJECTED.format(id=claim_id))
        ctx.reply(texts.CLAIM_REJECTED_NOTICE, to=claimant)
        return True
    if claim.member_id is None:
        ctx.reply(texts.CLAIM_PICK_MEMBER.format(id=claim_id))
        return True
    try:
        await approve_claim(session=ctx.session, claim=claim, at=ctx.now, actor_id=ctx.member.id)
    except ClaimError:
        ctx.reply(texts.CLAIM_ACCOUNT_TAKEN.format(id=claim_id))
        return True
    school = await school_name_of(ctx, claim.school_id)
    who = person_label(school, claim.name)
    ctx.reply(texts.CLAIM_APPROVED.format(id=claim_id, who=who))
    ctx.reply(texts.CLAIM_APPROVED_NOTICE.format(who=who), to=claimant)
    return True
