"""Admin chat commands: binding a group chat to a community or school.

These are exact commands, not natural language, so they are matched before the parser.
Only in a group (the chat being bound is the one it is sent in), and only by whom
handlers.permissions allows; a refusal says why and changes nothing.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.permissions import may_bind_group
from handlers.routing import Context
from storage.audit import record_audit, snapshot
from storage.roster import bind_group, community_named, school_named

# The name may come with spaces, quotes or a full stop ("绑定本群：融安县第二实验小学 教共体。").
BIND_GROUP = re.compile(r"^\s*绑定本群\s*[:：]?\s*[“\"「]?(.+?)[”\"」]?\s*[。.!！]?\s*$")


async def handle_bind_group(ctx: Context, match: re.Match[str]) -> bool:
    """`绑定本群 教共体名称` by an admin or the community's lead principal, in the group."""
    await _bind(ctx, match)
    return True


async def _community_of_scope(ctx: Context, scope: str) -> int | None:
    community = await community_named(session=ctx.session, name=scope)
    if community is not None:
        return community.id
    school = await school_named(session=ctx.session, name=scope)
    return school.community_id if school is not None else None


async def _bind(ctx: Context, match: re.Match[str]) -> None:
    if not ctx.msg.is_group:
        ctx.reply(texts.GROUP_BIND_IN_GROUP)
        return
    if ctx.member is None or not await may_bind_group(session=ctx.session, member=ctx.member,
                                                      community_id=None):
        ctx.reply(texts.GROUP_BIND_ADMIN_ONLY)
        return
    scope = "".join(match.group(1).split())
    community_id = await _community_of_scope(ctx, scope)
    if community_id is None:
        ctx.reply(texts.GROUP_BIND_UNKNOWN.format(scope=scope))
        return
    if not await may_bind_group(session=ctx.session, member=ctx.member,
                                community_id=community_id):
        ctx.reply(texts.GROUP_BIND_ADMIN_ONLY)
        return
    before = snapshot(ctx.group) if ctx.group is not None else None
    if ctx.group is not None and ctx.group.community_id is not None and not await may_bind_group(
            session=ctx.session, member=ctx.member, community_id=ctx.group.community_id):
        # Moving a group away from its community is that community's (or an admin's) call.
        ctx.reply(texts.GROUP_BIND_ADMIN_ONLY)
        return
    group = await bind_group(session=ctx.session, platform=ctx.msg.platform,
                             chat_id=ctx.msg.chat_id, scope=scope, app_id=ctx.msg.app_id)
    assert group is not None
    record_audit(session=ctx.session, at=ctx.now, member_id=ctx.member.id, action="bind",
                 entity="chatgroup", entity_id=group.id, before=before, after=snapshot(group))
    ctx.reply(texts.GROUP_BIND_OK.format(scope=scope))
