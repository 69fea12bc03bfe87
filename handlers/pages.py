"""看板: a one-time link to the standing pages, always privately.

Anyone on the roster may ask; what the pages show follows their role, checked by the web
app on every request. The link comes from `Services.page_link`, which the composition root
provides only when `[pages] public_url` is set; without it the asker is told why.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.messages import Target
from handlers.routing import Context

PAGES = re.compile(r"^\s*(?:打开|查看|看看|发一下|发个|给我)?\s*(?:网页)?看板"
                   r"\s*(?:链接)?\s*[。!！?？]?\s*$")


async def handle_pages(ctx: Context, match: re.Match[str]) -> bool:
    """The link goes to the asker alone; a group gets one line saying so."""
    if ctx.member is None or ctx.member.id is None:
        return False
    if ctx.services.page_link is None:
        ctx.reply(texts.PAGE_UNAVAILABLE)
        return True
    url = await ctx.services.page_link(ctx.session, ctx.member.id, ctx.now)
    text = texts.PAGE_LINK.format(minutes=ctx.services.page_link_minutes, url=url)
    if ctx.msg.is_group:
        ctx.reply(text, to=Target(kind="user", id=ctx.msg.sender_id, name=ctx.member.name))
        ctx.reply(texts.PAGE_SENT_PRIVATELY)
    else:
        ctx.reply(text)
    return True
