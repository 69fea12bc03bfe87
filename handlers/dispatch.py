"""From one neutral message to replies: identify, parse, continue a question or route.

Called by the worker inside the transaction that also marks the inbox row done.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.activity import continue_followup
from handlers.admin import handle_admin_command, is_admin_command
from handlers.messages import IncomingMessage, Reply
from handlers.nlu import ParseResult
from handlers.routing import Context, Dispatcher, Services
from storage.conversations import pending_conversation
from storage.roster import group_by_chat, member_by_identity


def _parse(msg: IncomingMessage, services: Services) -> ParseResult:
    if msg.kind == "action":
        return ParseResult(intent=str((msg.action or {}).get("intent", "undo")), confidence=1.0)
    if msg.kind == "bot_added":
        return ParseResult(intent="bot_added", confidence=1.0)
    return services.parser.parse(msg.text, msg.received_at)


async def handle_message(
    *, session: AsyncSession, msg: IncomingMessage, services: Services, dispatcher: Dispatcher,
    inbox_id: int | None = None,
) -> list[Reply]:
    member = await member_by_identity(session=session, platform=msg.platform,
                                      external_id=msg.sender_id)
    group = None
    if msg.is_group:
        group = await group_by_chat(session=session, platform=msg.platform, chat_id=msg.chat_id)
    parsed = _parse(msg, services)
    ctx = Context(session=session, msg=msg, parsed=parsed, member=member, group=group,
                  services=services, inbox_id=inbox_id)
    if msg.kind == "bot_added":
        ctx.reply(texts.GROUP_WELCOME)
        return ctx.replies
    if msg.kind == "message" and is_admin_command(msg.text):
        await handle_admin_command(ctx)
        return ctx.replies
    if member is not None and msg.kind == "message":
        conv = await pending_conversation(session=session, platform=msg.platform,
                                          chat_id=msg.chat_id, member_id=member.id or 0,
                                          now=ctx.now)
        if conv is not None and await continue_followup(ctx, conv):
            return ctx.replies
    route = dispatcher.route_for(parsed.intent) or dispatcher.route_for("unknown")
    if route is None:
        return ctx.replies
    if route.needs_member and member is None:
        ctx.reply(texts.WHO_ARE_YOU)
        return ctx.replies
    await route.handler(ctx)
    return ctx.replies
