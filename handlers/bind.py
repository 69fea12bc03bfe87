"""Bind: link the sender's platform identity to a roster member when name and school match.

An unknown person is never stored as someone else: a name that matches nobody, or a member
already linked to another account, gets an explanation instead.
"""

from __future__ import annotations

from handlers import texts
from handlers.routing import Context, Router
from storage.audit import record_audit
from storage.models import School
from storage.roster import identity_of, link_identity, members_named, school_named

router = Router("bind")


@router.on("bind", needs_member=False)
async def handle_bind(ctx: Context) -> None:
    name, school_name = ctx.parsed.name, ctx.parsed.school
    if ctx.member is not None:
        school = await ctx.session.get(School, ctx.member.school_id) if ctx.member.school_id else None
        ctx.reply(texts.BIND_ALREADY.format(school=school.name if school else "",
                                            name=ctx.member.name))
        return
    if not name:
        ctx.reply(texts.BIND_NEED_NAME)
        return
    school = await school_named(session=ctx.session, name=school_name) if school_name else None
    candidates = await members_named(session=ctx.session, name=name,
                                     school_id=school.id if school else None)
    if len(candidates) != 1 or (school_name and school is None):
        ctx.reply(texts.BIND_NOT_FOUND.format(school=school.name if school else (school_name or ""),
                                              name=name))
        return
    member = candidates[0]
    assert member.id is not None
    if await identity_of(session=ctx.session, member_id=member.id, platform=ctx.msg.platform):
        ctx.reply(texts.BIND_TAKEN.format(name=name))
        return
    identity = await link_identity(session=ctx.session, member_id=member.id,
                                   platform=ctx.msg.platform, external_id=ctx.msg.sender_id)
    record_audit(session=ctx.session, at=ctx.now, member_id=member.id, action="bind",
                 entity="identity", entity_id=identity.id,
                 after={"platform": ctx.msg.platform, "external_id": ctx.msg.sender_id})
    if school is None and member.school_id is not None:
        school = await ctx.session.get(School, member.school_id)
    ctx.reply(texts.BIND_OK.format(school=school.name if school else "", name=member.name))
