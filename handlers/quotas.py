"""The quota rules of spec/domain.md: how many of an activity a period needs.

Defaults here; a county replaces them with `[[scheduler.quotas]]` entries in its config
(docs/scheduler.md). A rule counts done, not withdrawn activities of its codes over a period
(month / quarter / semester / school year), either for the whole community or for each
member school (where the activity took place). A `cover = "subject"` rule asks instead that
every subject taught in the scope is covered at least once in the period.
Imports nothing of bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PERIODS = ("month", "quarter", "semester", "year")
SCOPES = ("community", "member_school")
COVERS = ("", "subject")


class QuotaConfigError(ValueError):
    """A `[[scheduler.quotas]]` entry that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Quota:
    activity: str
    minimum: int
    period: str  # month / quarter / semester / year (the school year)
    scope: str = "community"  # community / member_school
    cover: str = ""  # "" counts activities; "subject" asks for every subject once
    also: tuple[str, ...] = ()  # further activity codes that count towards this rule

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.activity, *self.also)


DEFAULT_QUOTAS: tuple[Quota, ...] = (
    Quota("lesson_prep", 2, "month"),
    Quota("lesson_prep", 1, "year", cover="subject"),
    Quota("research", 1, "month"),
    # 听评课 / 公开课 count together (seed 003, plan 1).
    Quota("observation", 1, "quarter", also=("open_class",)),
    Quota("contest", 1, "semester"),
    Quota("outreach", 1, "semester", "member_school"),
    Quota("outreach", 1, "year", "member_school", cover="subject"),
    Quota("supervision", 1, "semester", "member_school"),
    Quota("training", 1, "semester"),
    Quota("assessment", 1, "semester"),
    Quota("parent_school", 1, "month"),
)

def _quota(entry: Mapping[str, Any], index: int) -> Quota:
    where = f"scheduler.quotas[{index}]"
    try:
        activity = str(entry["activity"])
        period = str(entry["period"])
    except KeyError as exc:
        raise QuotaConfigError(f"{where}: missing {exc.args[0]!r}") from exc
    scope = str(entry.get("scope", "community"))
    cover = str(entry.get("cover", ""))
    if period not in PERIODS:
        raise QuotaConfigError(f"{where}: period must be one of {', '.join(PERIODS)}")
    if scope not in SCOPES:
        raise QuotaConfigError(f"{where}: scope must be one of {', '.join(SCOPES)}")
    if cover not in COVERS:
        raise QuotaConfigError(f"{where}: cover must be \"subject\" or absent")
    minimum = int(entry.get("minimum", 1))
    if minimum < 1:
        raise QuotaConfigError(f"{where}: minimum must be at least 1")
    also = tuple(str(a) for a in entry.get("also", ()))
    return Quota(activity, minimum, period, scope, cover, also)


def quotas_from_settings(raw: Mapping[str, Any] | None) -> tuple[Quota, ...]:
    """`[[scheduler.quotas]]` entries replace the defaults when present."""
    entries = (raw or {}).get("quotas")
    if not entries:
        return DEFAULT_QUOTAS
    return tuple(_quota(e, i) for i, e in enumerate(entries))


def rule_for(quotas: tuple[Quota, ...], activity: str | None, kind: str) -> Quota | None:
    """The counting rule (never a coverage rule) that a figure of `activity` over a period of
    `kind` is measured against: 公开课 finds the quarterly rule it shares with 听评课."""
    for quota in quotas:
        if activity in quota.codes and quota.period == kind and not quota.cover:
            return quota
    return None


def codes_for(quotas: tuple[Quota, ...], activity: str) -> tuple[str, ...]:
    """Every activity counted together with `activity` (its rule's codes, whatever the
    period asked), so 本学期听评课 counts the 公开课 that the quarterly rule counts too."""
    for quota in quotas:
        if activity in quota.codes and not quota.cover:
            return quota.codes
    return (activity,)


# --- rotation and shadowing, counted in people (spec/conversation.md) ------------------------


class ExchangeConfigError(ValueError):
    """A `[scheduler.rotation]` value that cannot be used."""


@dataclass(frozen=True)
class ExchangeTargets:
    lead: int = 6
    member: int = 3


def exchange_targets(scheduler: Mapping[str, Any] | None) -> ExchangeTargets:
    """`[scheduler.rotation]` of the config, defaults where absent."""
    raw = (scheduler or {}).get("rotation") or {}
    values = {}
    for key in ("lead", "member"):
        value = raw.get(key, getattr(ExchangeTargets, key))
        if not isinstance(value, int) or value < 0:
            raise ExchangeConfigError(f"scheduler.rotation.{key}: expected a whole number ≥ 0")
        values[key] = value
    return ExchangeTargets(**values)
