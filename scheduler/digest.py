"""Weekly digests: each principal's school, the lead principal's community, the county.

All figures come from a fixed handful of county-wide GROUP BY queries (scheduler.queries,
scheduler.progress) issued once per week, then cut per school in memory. Concise for a phone;
on Feishu `extra["card"]` lets the channel render a card titled `extra["title"]`.
Imports handlers (texts, format), storage and scheduler modules; never bot.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.format import hm, md
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.progress import QuotaStatus, quota_progress
from scheduler.queries import (
    Person,
    Roster,
    WeekTurnout,
    count_done,
    idle_teachers,
    planned_between,
    turnout_by_school,
)
from scheduler.recipients import to_person
from storage.models import Activity
from storage.outbox import NewMessage

WEEK = dt.timedelta(days=7)
NEXT_WEEK_ITEMS = 5
RANK_EDGE = 10  # the county list keeps this many at the top and at the bottom


def week_label(week_start: dt.date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> dt.date:
    """`2026-W48` → the Monday of that ISO week."""
    year, _, week = text.strip().upper().partition("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


@dataclass
class WeekData:
    week_start: dt.date
    by_school: dict[int | None, dict[str | None, int]]
    statuses: list[QuotaStatus]
    turnout: dict[int | None, WeekTurnout]
    idle: dict[int, list[str]]
    next_week: list[Activity]


async def week_data(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, config: SchedulerConfig,
    week_start: dt.date,
) -> WeekData:
    end = week_start + WEEK
    last = end - dt.timedelta(days=1)
    by_school: dict[int | None, dict[str | None, int]] = defaultdict(dict)
    for (_, sid, code), n in (await count_done(session=session, start=week_start,
                                               end=end)).items():
        by_school[sid][code] = by_school[sid].get(code, 0) + n
    statuses = await quota_progress(session=session, roster=roster, calendar=calendar,
                                    quotas=config.quotas, day=last, until=end)
    return WeekData(
        week_start=week_start, by_school=by_school, statuses=statuses,
        turnout=await turnout_by_school(session=session, start=week_start, end=end),
        idle=await idle_teachers(session=session, start=last.replace(day=1), end=end),
        next_week=await planned_between(session=session, start=end, end=end + WEEK),
    )


def _item(config: SchedulerConfig, roster: Roster, s: QuotaStatus, *, where: bool) -> str:
    place = ""
    if where and s.school_id is not None:
        place = roster.schools[s.school_id].name
    mark = texts.DIGEST_MET if s.met else ""
    template = texts.DIGEST_COVER_ITEM if s.quota.cover else texts.DIGEST_ITEM
    return template.format(activity=config.name_of(s.quota.activity),
                           where=f" {place}" if place else "", done=s.done, need=s.need,
                           mark=mark)


def _progress_lines(config: SchedulerConfig, roster: Roster, statuses: list[QuotaStatus],
                    *, where: bool) -> list[str]:
    lines = []
    for kind in ("month", "quarter", "semester", "year"):
        items = [_item(config, roster, s, where=where) for s in statuses if s.period.kind == kind]
        if items:
            lines.append(texts.DIGEST_PROGRESS.format(period=texts.SCHED_PERIODS[kind],
                                                      items=texts.DIGEST_ITEM_SEP.join(items)))
    return lines


def _week_line(config: SchedulerConfig, counts: dict[str | None, int]) -> str:
    total = sum(counts.values())
    if not total:
        return texts.DIGEST_WEEK_NONE
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    return texts.DIGEST_WEEK.format(total=total, detail="、".join(
        f"{config.name_of(code)} {n}" for code, n in ranked))


def _turnout_line(t: WeekTurnout | None) -> str | None:
    if t is None or not t.events:
        return None
    return texts.DIGEST_TURNOUT.format(events=t.events, checkins=t.checkins, late=t.late,
                                       leaves=t.leaves)


def _next_line(config: SchedulerConfig, calendar: SchoolCalendar, roster: Roster,
               planned: list[Activity]) -> str:
    if not planned:
        return texts.DIGEST_NEXT_NONE
    items = []
    for a in planned[:NEXT_WEEK_ITEMS]:
        when = md(a.date) + (f" {hm(calendar.local(a.starts_at))}" if a.starts_at else "")
        school = roster.schools.get(a.school_id or -1)
        what = f"{a.subject or ''}{config.name_of(a.activity)}"
        items.append(f"{when} {what}" + (f"（{school.name}）" if school else ""))
    more = f" 等 {len(planned)} 项" if len(planned) > NEXT_WEEK_ITEMS else ""
    return texts.DIGEST_NEXT.format(items="；".join(items) + more)


def _sum(turnouts: list[WeekTurnout]) -> WeekTurnout:
    return WeekTurnout(sum(t.events for t in turnouts), sum(t.checkins for t in turnouts),
                       sum(t.late for t in turnouts), sum(t.leaves for t in turnouts))


def _message(roster: Roster, person: Person, community_id: int | None, *, key: str, kind: str,
             title: str, lines: list[str]) -> list[NewMessage]:
    return to_person(roster, person, key=key, kind=kind, text="\n".join([title, *lines]),
                     community_id=community_id, extra={"card": True, "title": title})


async def weekly_digests(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, config: SchedulerConfig,
    week_start: dt.date,
) -> list[NewMessage]:
    data = await week_data(session=session, roster=roster, calendar=calendar, config=config,
                           week_start=week_start)
    label = week_label(week_start)
    span = {"start": md(week_start), "end": md(week_start + dt.timedelta(days=6))}
    planned_by_community: dict[int | None, list[Activity]] = defaultdict(list)
    for a in data.next_week:
        sid_community = roster.schools[a.school_id].community_id if a.school_id in roster.schools \
            else None
        planned_by_community[a.community_id or sid_community].append(a)
    status_by_community: dict[int, list[QuotaStatus]] = defaultdict(list)
    for s in data.statuses:
        status_by_community[s.community_id].append(s)
    out: list[NewMessage] = []
    for sid, principals in sorted(roster.principals.items()):
        school = roster.schools.get(sid)
        if school is None:
            continue
        cid = school.community_id
        own = [s for s in status_by_community[cid]
               if (s.school_id is None or s.school_id == sid) and s.period.kind != "year"]
        lines = [_week_line(config, data.by_school.get(sid, {})),
                 *_progress_lines(config, roster, own, where=False)]
        if (turnout := _turnout_line(data.turnout.get(sid))) is not None:
            lines.append(turnout)
        if idle := data.idle.get(sid):
            lines.append(texts.DIGEST_IDLE.format(names="、".join(idle[:config.max_names])
                                                  + (f" 等 {len(idle)} 人"
                                                     if len(idle) > config.max_names else "")))
        lines.append(_next_line(config, calendar, roster, planned_by_community.get(cid, [])))
        title = texts.DIGEST_TITLE_SCHOOL.format(school=school.name, **span)
        for p in principals:
            out += _message(roster, p, cid, key=f"digest:{label}", kind="digest_school",
                            title=title, lines=lines)
        if school.is_lead:
            out += _community_digest(config, calendar, roster, data, cid, principals, label, span,
                                     status_by_community[cid], planned_by_community.get(cid, []))
    if roster.admins:
        title = texts.DIGEST_TITLE_COUNTY.format(**span)
        lines = _county_lines(roster, data, status_by_community)
        for admin in roster.admins:
            out += _message(roster, admin, None, key=f"digest:{label}:county",
                            kind="digest_county", title=title, lines=lines)
    return out


def _community_digest(
    config: SchedulerConfig, calendar: SchoolCalendar, roster: Roster, data: WeekData, cid: int,
    principals: list[Person], label: str, span: dict[str, str], statuses: list[QuotaStatus],
    planned: list[Activity],
) -> list[NewMessage]:
    schools = roster.schools_of(cid)
    per_school = [texts.DIGEST_SCHOOL_ITEM.format(
        school=s.name, n=sum(data.by_school.get(s.id, {}).values())) for s in schools]
    lines = [texts.DIGEST_SCHOOLS.format(items=texts.DIGEST_ITEM_SEP.join(per_school)),
             *_progress_lines(config, roster, statuses, where=True)]
    if (turnout := _turnout_line(_sum([data.turnout[s.id] for s in schools
                                       if s.id in data.turnout]))) is not None:
        lines.append(turnout)
    lines.append(_next_line(config, calendar, roster, planned))
    title = texts.DIGEST_TITLE_COMMUNITY.format(community=roster.communities[cid], **span)
    out: list[NewMessage] = []
    for p in principals:
        out += _message(roster, p, cid, key=f"digest:{label}:community:{cid}",
                        kind="digest_community", title=title, lines=lines)
    return out


def _county_lines(roster: Roster, data: WeekData,
                  status_by_community: dict[int, list[QuotaStatus]]) -> list[str]:
    rows = []
    for cid, name in roster.communities.items():
        scored = [s for s in status_by_community[cid] if s.period.kind in ("month", "semester")]
        met = sum(1 for s in scored if s.met)
        week = sum(sum(data.by_school.get(s.id, {}).values()) for s in roster.schools_of(cid))
        ratio = met / len(scored) if scored else 1.0
        rows.append((-ratio, -week, name, met, len(scored), week))
    rows.sort()
    lines = [texts.DIGEST_RANK_LINE.format(rank=i + 1, community=name, met=met, total=total,
                                           week=week)
             for i, (_, _, name, met, total, week) in enumerate(rows)]
    if len(lines) > 2 * RANK_EDGE:
        lines = [*lines[:RANK_EDGE], texts.DIGEST_RANK_GAP.format(n=len(lines) - 2 * RANK_EDGE),
                 *lines[-RANK_EDGE:]]
    return [texts.DIGEST_RANK_HEAD, *lines]
