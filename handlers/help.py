"""Help, and what to do with messages the bot does not understand."""

from __future__ import annotations

from handlers import texts
from handlers.routing import Context, Router

router = Router("help")


@router.on("help", needs_member=False)
async def handle_help(ctx: Context) -> None:
    ctx.reply(texts.HELP)


@router.on("unknown", needs_member=False)
async def handle_unknown(ctx: Context) -> None:
    """Silence in a group: the bot must never answer ordinary conversation."""
    if not ctx.msg.is_group:
        ctx.reply(texts.PRIVATE_HINT)
