"""The platforms' send limits as database windows (storage.sendlog), shared by every instance.

The channels keep their own in-process windows (one instance smooths its bursts there); these
make the limits hold for several instances together: delivery reserves a row's sends here
before it hands the row to its channel, and a row that does not fit waits, uncounted.
The figures are settings (`SendLimits`, built from bot.config, whose defaults are the
platforms' documented ones): Feishu per app a second and a minute, and 5/s per chat (the
platform's, shared by every bot in the chat, so not ours to raise); WeCom per group robot,
and per member for the app (a reply through a message's response_url has no window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.feishu.channel import PER_CHAT_PER_S
from bot.channels.wecom.limits import split_text
from bot.config import (
    FEISHU_SENDS_PER_MIN,
    FEISHU_SENDS_PER_S,
    FeishuApp,
    Settings,
    WeComSettings,
)
from storage.models import OutboxMessage
from storage.outbox import progress_of

# Sends reserved a window apart reach the platform up to this much closer together (the
# request's own latency varies), so each window is kept this much longer than the limit's.
SLACK_S = 0.25


@dataclass(frozen=True, order=True)
class Limit:
    key: str
    limit: int
    period: float  # seconds, SLACK_S included
    # Counts every send of the app: while it is full, no row of the platform can go.
    app_wide: bool = False


@dataclass(frozen=True)
class FeishuAppLimits:
    """One Feishu app's configured sends a second and a minute."""

    app_id: str
    per_s: int
    per_min: int

    @classmethod
    def of(cls, app: FeishuApp) -> FeishuAppLimits:
        return cls(app.app_id, app.sends_per_s, app.sends_per_min)


@dataclass(frozen=True)
class SendLimits:
    """The configured figures the shared windows use, built once from the settings.

    `SendLimits()` holds the platforms' documented figures for every app (tests, benches).
    A row without an app goes out through the first configured one (FeishuChannel) and so
    counts against that app's windows."""

    feishu: tuple[FeishuAppLimits, ...] = ()
    wecom: WeComSettings = field(default_factory=WeComSettings)

    @classmethod
    def from_settings(cls, settings: Settings) -> SendLimits:
        return cls(feishu=tuple(FeishuAppLimits.of(a) for a in settings.feishu),
                   wecom=settings.wecom or WeComSettings())

    def feishu_app(self, app_id: str) -> FeishuAppLimits:
        if not app_id and self.feishu:
            return self.feishu[0]
        for app in self.feishu:
            if app.app_id == app_id:
                return app
        # An app not configured here (tests and benches pass no settings): the documented
        # figures.
        return FeishuAppLimits(app_id or "default", FEISHU_SENDS_PER_S, FEISHU_SENDS_PER_MIN)


def _steps(row: OutboxMessage, parts: int) -> int:
    """Sends the rest of the row takes: text parts, then attachments, less those done."""
    return max(1, parts + len(row.attachments or []) - progress_of(row))


def limits_for(row: OutboxMessage, limits: SendLimits) -> list[tuple[Limit, int]]:
    """The windows a row's sends count against, each with how many sends it needs there."""
    if row.platform == "feishu":
        app = limits.feishu_app(row.app_id)
        n = _steps(row, 1)
        return [(Limit(f"feishu:chat:{row.target}", PER_CHAT_PER_S, 1.0 + SLACK_S), n),
                (Limit(f"feishu:app:{app.app_id}", app.per_s, 1.0 + SLACK_S, True), n),
                (Limit(f"feishu:app-min:{app.app_id}", app.per_min, 60.0 + SLACK_S, True), n)]
    if row.platform == "wecom":
        parts = len(split_text(row.text)) if row.text.strip() else 0
        if row.target_kind == "user":
            return [(Limit(f"wecom:user:{row.target}", limits.wecom.member_sends_per_min,
                           60.0 + SLACK_S), _steps(row, parts))]
        if not row.reply_to:
            return [(Limit(f"wecom:hook:{row.target}", limits.wecom.webhook_sends_per_min,
                           60.0 + SLACK_S), _steps(row, parts))]
    return []
