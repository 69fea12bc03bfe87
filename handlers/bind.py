"""Bind: `我是…的王芳` links the sender's account to a roster member only when that is safe.

The platform's own word (bot.identify) comes first and needs no claim. A claim in chat is
accepted by itself only for a teacher's entry that no account holds yet and that is the one
entry matching; the school's principal is told privately and may answer 解除. A claim to a
principal's or admin's entry, to an entry already held, or to a name that fits several
waits for an admin (storage.identity), and the claimant is told so. Nobody becomes someone
else by saying so.
"""

from __future__ import annotations

from handlers import texts
from handlers.messages import Target
from handlers.routing import Context, Router
from storage.identity import (
    LINKED,
    PENDING,
    admins_to_tell,
    first_time_today,
    identities_of,
    link,
    open_claim,
    principals_to_tell,
)
from storage.models import IdentityClaim, Member, Role, School
from storage.roster import members_named, school_named

router = Router("bind")
PRIVILEGED_ROLES = (Role.PRINCIPAL, Role.ADMIN)


def account_label(ctx: Context) -> str:
    """How notices name the account: its display name on the platform, else its id."""
    return ctx.msg.sender_name or ctx.msg.sender_id


def platform_label(platform: str) -> str:
    return texts.PLATFORM_NAMES.get(platform, platform)


def person_label(school: str, name: str) -> str:
    """王芳 of 沙子乡中心小学 as people say it; the name alone without a school."""
    return texts.PERSON_AT_SCHOOL.format(school=school, name=name) if school else name


async def school_name_of(ctx: Context, school_id: int | None) -> str:
    school = await ctx.session.get(School, school_id) if school_id is not None else None
    return school.name if school is not None else ""


@router.on("bind", needs_member=False)
async def handle_bind(ctx: Context) -> None:
    name, school_name = ctx.parsed.name, ctx.parsed.school
    if ctx.member is not None:
        own = await school_name_of(ctx, ctx.member.school_id)
        ctx.reply(texts.BIND_ALREADY.format(school=own, name=ctx.member.name) if own
                  else texts.BIND_ALREADY_NO_SCHOOL.format(name=ctx.member.name))
        return
    if not name:
        ctx.reply(texts.BIND_NEED_NAME)
        return
    waiting = await open_claim(session=ctx.session, platform=ctx.msg.platform,
                               external_id=ctx.msg.sender_id)
    if waiting is not None:
        ctx.reply(texts.BIND_STILL_WAITING.format(name=waiting.name))
        return
    school = await school_named(session=ctx.session, name=school_name) if school_name else None
    candidates = [] if school_name and school is None else await members_named(
        session=ctx.session, name=name, school_id=school.id if school else None)
    if not candidates:
        ctx.reply(texts.BIND_NOT_FOUND.format(
            school=school.name if school else (school_name or ""), name=name))
        return
    if len(candidates) > 1:
        await _wait_for_admin(ctx, name, school.id if school else None, None, "ambiguous")
        return
    member = candidates[0]
    assert member.id is not None
    if member.role in PRIVILEGED_ROLES:
        await _wait_for_admin(ctx, name, member.school_id, member, "privileged")
        return
    if await identities_of(session=ctx.session, member_id=member.id):
        # Held on this platform or another: only an admin may give it a second account.
        await _wait_for_admin(ctx, name, member.school_id, member, "taken")
        return
    await _accept(ctx, member)


async def _accept(ctx: Context, member: Member) -> None:
    assert member.id is not None
    identity = await link(session=ctx.session, member_id=member.id, platform=ctx.msg.platform,
                          external_id=ctx.msg.sender_id, at=ctx.now, actor_id=member.id,
                          how="claim")
    told = await principals_to_tell(session=ctx.session, school_id=member.school_id,
                                    platform=ctx.msg.platform)
    claim = IdentityClaim(platform=ctx.msg.platform, external_id=ctx.msg.sender_id,
                          account_name=account_label(ctx)[:100], name=member.name,
                          school_id=member.school_id, member_id=member.id, status=LINKED,
                          reason="claim", identity_id=identity.id,
                          notified_id=told[0][0].id if told else None, created_at=ctx.now)
    ctx.session.add(claim)
    await ctx.session.flush()
    ctx.reply(texts.BIND_OK.format(school=await school_name_of(ctx, member.school_id),
                                   name=member.name))
    notice = texts.BIND_NOTICE.format(name=member.name, platform=platform_label(ctx.msg.platform),
                                      account=account_label(ctx))
    for principal, account in told[:1]:
        ctx.reply(notice, to=Target(kind="user", id=account, name=principal.name))


async def _wait_for_admin(ctx: Context, name: str, school_id: int | None, member: Member | None,
                          why: str) -> None:
    # One claim a day per account reaches the admins: a turned-down claimant cannot flood them.
    if not await first_time_today(session=ctx.session, kind="claim", platform=ctx.msg.platform,
                                  external_id=ctx.msg.sender_id, now=ctx.now,
                                  today=ctx.now.date()):
        ctx.reply(texts.BIND_TRY_TOMORROW)
        return
    claim = IdentityClaim(platform=ctx.msg.platform, external_id=ctx.msg.sender_id,
                          account_name=account_label(ctx)[:100], name=name, school_id=school_id,
                          member_id=member.id if member else None, status=PENDING, reason=why,
                          created_at=ctx.now)
    ctx.session.add(claim)
    await ctx.session.flush()
    school = await school_name_of(ctx, school_id)
    notice = texts.CLAIM_FOR_ADMIN.format(id=claim.id, platform=platform_label(ctx.msg.platform),
                                          account=account_label(ctx),
                                          who=person_label(school, name),
                                          why=texts.CLAIM_WHY[why])
    ctx.reply(texts.BIND_WAITS.format(who=person_label(school, name)))
    # An admin whose own entry is claimed hears of it too: that is the point.
    for admin, account in await admins_to_tell(session=ctx.session, platform=ctx.msg.platform):
        ctx.reply(notice, to=Target(kind="user", id=account, name=admin.name))
