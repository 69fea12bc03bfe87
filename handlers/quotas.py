"""The quota rules of spec/domain.md: how many of an activity a period needs.

Defaults here; a county overrides them in the `[scheduler.quotas]` table of its config.
Imports nothing of bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quota:
    activity: str
    minimum: int
    period: str  # month / quarter / semester / year
    scope: str = "community"  # community / member_school


DEFAULT_QUOTAS: tuple[Quota, ...] = (
    Quota("lesson_prep", 2, "month"),
    Quota("research", 1, "month"),
    Quota("observation", 1, "quarter"),
    Quota("contest", 1, "semester"),
    Quota("outreach", 1, "semester", "member_school"),
    Quota("supervision", 1, "semester", "member_school"),
    Quota("training", 1, "semester"),
    Quota("assessment", 1, "semester"),
    Quota("parent_school", 1, "month"),
)

PERIOD_OF_QUERY = {
    "this_month": "month",
    "last_month": "month",
    "this_quarter": "quarter",
    "this_semester": "semester",
}


def quotas_from_settings(raw: dict[str, Any] | None) -> tuple[Quota, ...]:
    """`[[scheduler.quotas]]` entries replace the defaults when present."""
    entries = (raw or {}).get("quotas")
    if not entries:
        return DEFAULT_QUOTAS
    return tuple(
        Quota(str(e["activity"]), int(e["minimum"]), str(e["period"]),
              str(e.get("scope", "community")))
        for e in entries
    )


def quota_for(quotas: tuple[Quota, ...], activity: str | None, period: str) -> Quota | None:
    """The rule that applies when someone asks about `activity` over a query `period`."""
    unit = PERIOD_OF_QUERY.get(period)
    for quota in quotas:
        if quota.activity == activity and quota.period == unit and quota.scope == "community":
            return quota
    return None
