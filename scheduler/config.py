"""The `[scheduler]` table of the config, typed: times, quiet hours, semesters, quotas.

Built from the raw TOML tables (the scheduler never imports bot); see docs/scheduler.md for
every key. Imports handlers only: quotas, event lengths, the terms (handlers.periods, where
semesters are defined) and handlers.nlu.lexicon for activity names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.event_times import EventLengths
from handlers.periods import DEFAULT_SEMESTERS, Semester
from handlers.quotas import (
    DEFAULT_QUOTAS,
    ExchangeConfigError,
    ExchangeTargets,
    Quota,
    QuotaConfigError,
    exchange_targets,
    quotas_from_settings,
)


class SchedulerConfigError(ValueError):
    """A `[scheduler]` value that cannot be used; the message names the key."""


@dataclass(frozen=True)
class SchedulerConfig:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    reminder_time: dt.time = dt.time(8, 0)
    digest_time: dt.time = dt.time(8, 0)
    digest_weekday: int = 0  # Monday; moves to the week's first school day when that is off
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(7, 0)
    # A short quota is announced when this many school days are left (today and the last
    # included); the lead principal's private note when `principal_days_left` are left.
    group_days_left: int = 3
    principal_days_left: int = 2
    hour_before: dt.timedelta = dt.timedelta(hours=1)
    # Most names listed in one message (未签到, teachers without records).
    max_names: int = 12
    semesters: tuple[Semester, ...] = DEFAULT_SEMESTERS
    extra_holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    quotas: tuple[Quota, ...] = DEFAULT_QUOTAS
    activity_names: Mapping[str, str] = field(default_factory=dict)
    tick_seconds: int = 60
    enabled: bool = True
    # How long an activity lasts when its end is not stated (spec: "End of an event"); an
    # untimed plan ends at 18:00. Summaries and outcome questions go at the end.
    lengths: EventLengths = field(default_factory=EventLengths)
    # People each school sends on rotation per school year (`[scheduler.rotation]`).
    rotation: ExchangeTargets = field(default_factory=ExchangeTargets)

    def name_of(self, code: str | None) -> str:
        return self.activity_names.get(code or "", code or "")


def _time(raw: Mapping[str, Any], key: str, default: dt.time) -> dt.time:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise SchedulerConfigError(f"scheduler.{key}: expected HH:MM, got {value!r}") from exc


def _date(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise SchedulerConfigError(f"scheduler.{key}: expected YYYY-MM-DD, got {value!r}") from exc


def _semesters(entries: Any) -> tuple[Semester, ...]:
    """The configured terms in order; two that overlap are refused, since a day would then
    count for either (a semester's window runs from the previous term's end)."""
    if not entries:
        return DEFAULT_SEMESTERS
    out = []
    for i, e in enumerate(entries):
        start = _date(e.get("start"), f"semesters[{i}].start")
        end = _date(e.get("end"), f"semesters[{i}].end")
        if end < start:
            raise SchedulerConfigError(f"scheduler.semesters[{i}]: end before start")
        out.append(Semester(
            str(e.get("name", f"{start.year}{'秋' if start.month >= 8 else '春'}")), start, end))
    out.sort(key=lambda s: s.start)
    for before, after in zip(out, out[1:], strict=False):
        if after.start <= before.end:
            raise SchedulerConfigError(f"scheduler.semesters: {after.name} starts before "
                                       f"{before.name} ends")
    return tuple(out)


# The `[scheduler]` keys scheduler_config reads, and those of its sub-tables.
SCHEDULER_KEYS = frozenset({
    "timezone", "reminder_time", "digest_time", "digest_weekday", "quiet_hours", "calendar",
    "remind_days_left", "principal_days_left", "remind_minutes_before", "max_names",
    "semesters", "quotas", "tick_seconds", "enabled", "default_length_minutes",
})
_SUB_KEYS = {
    "calendar": frozenset({"holidays", "workdays"}),
    "semesters": frozenset({"name", "start", "end"}),
    "quotas": frozenset({"activity", "minimum", "period", "scope", "cover", "also"}),
}


def check_scheduler_table(raw: Mapping[str, Any] | None) -> None:
    """Refuse a key scheduler_config would silently ignore (a misspelt `reminder_tme`)."""
    raw = raw or {}
    for key, value in raw.items():
        if key not in SCHEDULER_KEYS:
            raise SchedulerConfigError(f"scheduler.{key}: unknown key")
        known = _SUB_KEYS.get(key)
        if known is None:
            continue
        tables = [(f"{key}[{i}]", t) for i, t in enumerate(value)] \
            if isinstance(value, list) else [(key, value)]
        for where, table in tables:
            if not isinstance(table, Mapping):
                raise SchedulerConfigError(f"scheduler.{where}: expected a table")
            for sub in table:
                if sub not in known:
                    raise SchedulerConfigError(f"scheduler.{where}.{sub}: unknown key")
    for key in ("enabled",):
        if key in raw and not isinstance(raw[key], bool):
            raise SchedulerConfigError(f"scheduler.{key}: expected true or false")
    for key in ("remind_minutes_before", "max_names"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise SchedulerConfigError(f"scheduler.{key}: expected a whole number, "
                                       f"got {value!r}")


def _check_quota_codes(quotas: tuple[Quota, ...], names: Mapping[str, str]) -> None:
    """A quota on an activity code nobody can report would silently count nothing."""
    for i, quota in enumerate(quotas):
        for code in quota.codes:
            if code not in names:
                raise SchedulerConfigError(
                    f"scheduler.quotas[{i}].activity: unknown activity code {code!r} "
                    f"(known: {', '.join(sorted(names))})")


def scheduler_config(
    raw: Mapping[str, Any] | None, *, timezone: str = "Asia/Shanghai",
    activity_names: Mapping[str, str] | None = None,
) -> SchedulerConfig:
    """`[scheduler]` (raw TOML table) → SchedulerConfig. Unknown keys are refused by
    `check_scheduler_table` (the config loader runs it); quota codes are checked against
    `activity_names` when given."""
    raw = raw or {}
    quiet = raw.get("quiet_hours", ["21:00", "07:00"])
    if not isinstance(quiet, list | tuple) or len(quiet) != 2:
        raise SchedulerConfigError("scheduler.quiet_hours: expected [\"21:00\", \"07:00\"]")
    cal = raw.get("calendar", {})
    for key, low, high in (("digest_weekday", 1, 7), ("remind_days_left", 1, 60),
                           ("principal_days_left", 1, 60), ("tick_seconds", 1, 3600)):
        value = raw.get(key)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            raise SchedulerConfigError(f"scheduler.{key}: expected a whole number {low}–{high}")
    try:
        config = SchedulerConfig(
            timezone=ZoneInfo(str(raw.get("timezone", timezone))),
            reminder_time=_time(raw, "reminder_time", dt.time(8, 0)),
            digest_time=_time(raw, "digest_time", dt.time(8, 0)),
            digest_weekday=int(raw.get("digest_weekday", 1)) - 1,
            quiet_start=_time({"q": quiet[0]}, "q", dt.time(21, 0)),
            quiet_end=_time({"q": quiet[1]}, "q", dt.time(7, 0)),
            group_days_left=int(raw.get("remind_days_left", 3)),
            principal_days_left=int(raw.get("principal_days_left", 2)),
            hour_before=dt.timedelta(minutes=int(raw.get("remind_minutes_before", 60))),
            max_names=int(raw.get("max_names", 12)),
            semesters=_semesters(raw.get("semesters")),
            extra_holidays=frozenset(_date(d, "calendar.holidays")
                                     for d in cal.get("holidays", ())),
            extra_workdays=frozenset(_date(d, "calendar.workdays")
                                     for d in cal.get("workdays", ())),
            quotas=quotas_from_settings(raw),
            activity_names=dict(activity_names or {}),
            tick_seconds=int(raw.get("tick_seconds", 60)),
            enabled=bool(raw.get("enabled", True)),
            lengths=EventLengths.from_setting(raw.get("default_length_minutes")),
            rotation=exchange_targets(raw),
        )
    except ZoneInfoNotFoundError as exc:
        raise SchedulerConfigError(f"scheduler.timezone: unknown time zone "
                                   f"{raw.get('timezone', timezone)!r}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SchedulerConfigError | QuotaConfigError | ExchangeConfigError):
            raise
        raise SchedulerConfigError(f"scheduler: {exc}") from exc
    if activity_names:
        _check_quota_codes(config.quotas, activity_names)
    return config


def config_for(
    *, scheduler: Mapping[str, Any] | None, nlu: Mapping[str, Any] | None,
    timezone: str = "Asia/Shanghai",
) -> SchedulerConfig:
    """The scheduler's config from the raw `[scheduler]` and `[nlu]` tables (activity names)."""
    from handlers.nlu.lexicon import activity_names

    return scheduler_config(scheduler, timezone=timezone, activity_names=activity_names(nlu))
