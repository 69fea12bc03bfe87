"""The platforms' send limits as database windows (storage.sendlog), shared by every instance.

The channels keep their own in-process windows (one instance smooths its bursts there); these
make the limits hold for several instances together: delivery reserves a row's sends here
before it hands the row to its channel, and a row that does not fit waits, uncounted.
Limits from the platforms' documentation (docs/feishu.md, docs/wecom.md): Feishu 5/s per
chat, 50/s and 1000/min per app; WeCom 20/min per group robot, 30/min per member for the app
(a reply through a message's response_url has no window).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.feishu.channel import PER_APP_PER_S, PER_CHAT_PER_S
from bot.channels.wecom.channel import PER_MEMBER_PER_MIN, PER_ROBOT_PER_MIN
from bot.channels.wecom.limits import split_text
from storage.models import OutboxMessage
from storage.outbox import progress_of

PER_APP_PER_MIN = 1000
# Sends reserved a window apart reach the platform up to this much closer together (the
# request's own latency varies), so each window is kept this much longer than the limit's.
SLACK_S = 0.25


@dataclass(frozen=True, order=True)
class Limit:
    key: str
    limit: int
    period: float  # seconds, SLACK_S included


def _steps(row: OutboxMessage, parts: int) -> int:
    """Sends the rest of the row takes: text parts, then attachments, less those done."""
    return max(1, parts + len(row.attachments or []) - progress_of(row))


def limits_for(row: OutboxMessage) -> list[tuple[Limit, int]]:
    """The windows a row's sends count against, each with how many sends it needs there."""
    if row.platform == "feishu":
        app = row.app_id or "default"
        n = _steps(row, 1)
        return [(Limit(f"feishu:chat:{row.target}", PER_CHAT_PER_S, 1.0 + SLACK_S), n),
                (Limit(f"feishu:app:{app}", PER_APP_PER_S, 1.0 + SLACK_S), n),
                (Limit(f"feishu:app-min:{app}", PER_APP_PER_MIN, 60.0 + SLACK_S), n)]
    if row.platform == "wecom":
        parts = len(split_text(row.text)) if row.text.strip() else 0
        if row.target_kind == "user":
            return [(Limit(f"wecom:user:{row.target}", PER_MEMBER_PER_MIN, 60.0 + SLACK_S),
                     _steps(row, parts))]
        if not row.reply_to:
            return [(Limit(f"wecom:hook:{row.target}", PER_ROBOT_PER_MIN, 60.0 + SLACK_S),
                     _steps(row, parts))]
    return []
