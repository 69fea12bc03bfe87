"""From one neutral message to replies: identify, parse, continue a question or route.

Called by the worker inside the transaction that also marks the inbox row done.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.activity import FOLLOWUP_KINDS, continue_followup
from handlers.commands import run_command
from handlers.messages import IncomingMessage, Reply
from handlers.nlu import ParseResult
from handlers.photos import attach_with_text, handle_pictures
from handlers.plans import FOLLOWUP_PICK, continue_pick
from handlers.routing import Context, Dispatcher, Services
from storage.conversations import end_conversation
from storage.identity import first_time_today
from storage.models import Conversation
from storage.roster import sender_of

# A reply this short that names an activity, a day or a number answers a question; a new
# report says more ("今天上午开展了集体备课").
ANSWER_LENGTH = 8


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
    sender = await sender_of(session=session, platform=msg.platform,
                             external_id=msg.sender_id, chat_id=msg.chat_id,
                             in_group=msg.is_group)
    member = sender.member
    parsed = _parse(msg, services)
    ctx = Context(session=session, msg=msg, parsed=parsed, member=member, group=sender.group,
                  services=services, inbox_id=inbox_id)
    if msg.kind == "bot_added":
        ctx.reply(texts.GROUP_WELCOME)
        return ctx.replies
    if msg.images and not msg.text.strip():
        # A picture on its own answers no question and runs no command.
        await handle_pictures(ctx)
        return ctx.replies
    way = await _handle(ctx, dispatcher, sender.pending)
    if msg.images and member is not None:
        await attach_with_text(ctx, unknown=way == "route" and parsed.intent == "unknown")
    return ctx.replies


async def _handle(ctx: Context, dispatcher: Dispatcher, pending: Conversation | None) -> str:
    """Answer the words of a message (`pending`: the sender's question in this chat); which
    way it went: "expired", "command", "conversation", "route" or "" (not handled)."""
    conv = await _conversation(ctx, pending)
    if ctx.replies:  # an answer to a question that expired
        return "expired"
    if await run_command(ctx, followup_pending=conv is not None):
        return "command"
    if conv is not None and await _continue(ctx, conv):
        return "conversation"
    route = dispatcher.route_for(ctx.parsed.intent) or dispatcher.route_for("unknown")
    if route is None:
        return ""
    if route.needs_member and ctx.member is None:
        # A stranger's message changes nothing; one hint a day is enough.
        if await first_time_today(session=ctx.session, kind="hint", platform=ctx.msg.platform,
                                  external_id=ctx.msg.sender_id, now=ctx.now,
                                  today=ctx.now.date()):
            ctx.reply(texts.WHO_ARE_YOU)
        return "route"
    await route.handler(ctx)
    return "route"


async def _conversation(ctx: Context, conv: Conversation | None) -> Conversation | None:
    """The sender's pending question in this chat, if still open. One that expired is
    dropped, and a message that answers it is told so rather than taken for something new."""
    if ctx.member is None or ctx.msg.kind != "message":
        return None
    if conv is None or conv.expires_at > ctx.now:
        return conv
    await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                           chat_id=ctx.msg.chat_id, member_id=ctx.member.id or 0)
    answer, text = ctx.parsed, ctx.msg.text.strip()
    if (answer.intent in ("unknown", "report", "plan") and len(text) <= ANSWER_LENGTH
            and (answer.activity or text.isdigit() or any(ch.isdigit() for ch in text))):
        ctx.reply(texts.FOLLOWUP_EXPIRED)
    return None


async def _continue(ctx: Context, conv: Conversation) -> bool:
    if conv.kind == FOLLOWUP_PICK:
        return await continue_pick(ctx, conv)
    if conv.kind in FOLLOWUP_KINDS:
        return await continue_followup(ctx, conv)
    return False
