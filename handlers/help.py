"""Help, and what to do with messages the bot does not understand."""

from __future__ import annotations

import re

from handlers import texts
from handlers.messages import without_mentions
from handlers.routing import Context, Router

router = Router("help")


@router.on("help", needs_member=False)
async def handle_help(ctx: Context) -> None:
    ctx.reply(texts.HELP)


# Thanks, acknowledgements and greetings (收到, 好的, 谢谢, 辛苦了, 👍): no hint for these.
SMALL_TALK = re.compile(
    r"^\W*(?:谢谢|多谢|感谢|收到|好的|好滴|好|嗯+|哦+|ok|OK|辛苦了?|你好|您好|大家好|早上好|早安|"
    r"下午好|晚上好|晚安|在吗|👍|🙏|👌|❤️|[!！。.~～])+\W*$"
)


@router.on("unknown", needs_member=False)
async def handle_unknown(ctx: Context) -> None:
    """The reply table of spec/conversation.md: silence in a group unless the bot is
    addressed; never a hint for thanks, acknowledgements and greetings, except one short
    line in a private chat."""
    if not ctx.msg.text.strip() and not ctx.msg.images:
        # A file, video, place or link with no words (WeCom): the reply table's hint for
        # something with nothing to attach to.
        if not ctx.msg.is_group or ctx.msg.addressed:
            ctx.reply(texts.NOT_KEPT_HINT)
        return
    small_talk = SMALL_TALK.match(without_mentions(ctx.msg.text)) is not None
    if not ctx.msg.is_group:
        ctx.reply(texts.SMALL_TALK_REPLY if small_talk else texts.PRIVATE_HINT)
    elif ctx.msg.addressed and not small_talk:
        ctx.reply(texts.GROUP_HINT)
