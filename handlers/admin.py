"""Admin chat commands: binding a group chat to a community or school.

These are exact commands, not natural language, so they are matched before the parser.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.routing import Context
from storage.audit import record_audit, snapshot
from storage.roster import bind_group

BIND_GROUP = re.compile(r"^\s*绑定本群\s*[:：]?\s*(\S+)\s*$")
BINDER_ROLES = ("admin", "principal")


async def handle_bind_group(ctx: Context, match: re.Match[str]) -> bool:
    """`绑定本群 教共体名称` by an admin or principal."""
    await _bind(ctx, match)
    return True


async def _bind(ctx: Context, match: re.Match[str]) -> None:
    if ctx.member is None or ctx.member.role not in BINDER_ROLES:
        ctx.reply(texts.GROUP_BIND_ADMIN_ONLY)
        return
    scope = match.group(1)
    group = await bind_group(session=ctx.session, platform=ctx.msg.platform, chat_id=ctx.msg.chat_id,
                             scope=scope, app_id=ctx.msg.app_id)
    if group is None:
        ctx.reply(texts.GROUP_BIND_UNKNOWN.format(scope=scope))
        return
    record_audit(session=ctx.session, at=ctx.now, member_id=ctx.member.id, action="bind",
                 entity="chatgroup", entity_id=group.id, after=snapshot(group))
    ctx.reply(texts.GROUP_BIND_OK.format(scope=scope))
