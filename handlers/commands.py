"""Short exact commands, recognised in front of the parser (spec/conversation.md).

An ordered table: the first command whose pattern matches and whose handler takes the
message wins; a handler may decline (return False), and the message then goes on to the
follow-up question or the parser. Each handler checks the sender's role itself, through
handlers.permissions.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.admin import BIND_GROUP, handle_bind_group
from handlers.claims import DECIDE, UNLINK, handle_decide, handle_unlink
from handlers.export_request import EXPORT
from handlers.exports import handle_export
from handlers.messages import without_mentions
from handlers.pages import PAGES, handle_pages
from handlers.plans import OUTCOME, handle_outcome
from handlers.routing import Context
from handlers.schedule import (
    DIGEST_NOW,
    REMIND_OTHERS,
    SCHEDULE,
    handle_digest_now,
    handle_remind_others,
    handle_schedule,
)
from handlers.undo import UNDO_OTHER, handle_undo_other

CommandHandler = Callable[[Context, re.Match[str]], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    name: str
    pattern: re.Pattern[str]
    handler: CommandHandler
    # Whether a follow-up question the sender has pending in this chat comes first.
    after_followup: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("bind_group", BIND_GROUP, handle_bind_group),
    Command("unlink", UNLINK, handle_unlink),
    Command("decide_claim", DECIDE, handle_decide),
    Command("undo_other", UNDO_OTHER, handle_undo_other),
    Command("plan_outcome", OUTCOME, handle_outcome, after_followup=True),
    Command("digest_now", DIGEST_NOW, handle_digest_now),
    Command("export", EXPORT, handle_export),
    Command("pages", PAGES, handle_pages),
    Command("schedule", SCHEDULE, handle_schedule, after_followup=True),
    Command("remind_others", REMIND_OTHERS, handle_remind_others, after_followup=True),
)


async def run_command(ctx: Context, *, followup_pending: bool) -> bool:
    """Handle the message as a command; False when none takes it."""
    if ctx.msg.kind != "message":
        return False
    text = without_mentions(ctx.msg.text)
    for command in COMMANDS:
        if command.after_followup and followup_pending:
            continue
        match = command.pattern.search(text)
        if match is not None and await command.handler(ctx, match):
            return True
    return False
