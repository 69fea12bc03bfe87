"""Weekly digests: one message per recipient per week — each principal's school, the lead
principal's community with their school's own lines merged in, the admin's county.

All figures come from a fixed handful of county-wide GROUP BY queries (scheduler.queries,
handlers.standing) issued once per week, then cut per school in memory. A school's lines are
its own figures (handlers.standing's per-school reading); the community's stand apart. A
period that ended with the reported week is given as its final result (已达标 / 未达标),
never as still running. Concise for a phone; on Feishu the look's title lets the channel
render the digest as a titled card.
Imports handlers (texts, format, standing), storage and scheduler modules; never bot.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.format import hm, md
from handlers.messages import Attachment
from handlers.periods import Period
from handlers.quotas import Quota
from handlers.standing import QuotaStatus, standing
from scheduler.calendar import ONE_DAY, SchoolCalendar
from scheduler.charts import CommunityCharts
from scheduler.config import SchedulerConfig
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
from storage.blobs import BlobStorage
from storage.models import Activity
from storage.outbox import NewMessage

WEEK = dt.timedelta(days=7)
NEXT_WEEK_ITEMS = 5
RANK_EDGE = 10  # the county list keeps this many at the top and at the bottom
KINDS = ("month", "quarter", "semester", "year")


def week_label(week_start: dt.date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> dt.date:
    """`2026-W48` → the Monday of that ISO week."""
    year, _, week = text.strip().upper().partition("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


# --- when digests go ------------------------------------------------------------------------


def digest_day(calendar: SchoolCalendar, day: dt.date) -> bool:
    """The week's first school day on or after the digest weekday, unless the week it reports
    on (the one before) was all vacation: a principal is not sent a vacation month's quotas
    as shortfalls, nor every teacher as idle, on the first morning of term."""
    monday = day - dt.timedelta(days=day.weekday())
    first = monday + dt.timedelta(days=calendar.config.digest_weekday)
    if day < first or not calendar.is_school_day(day):
        return False
    if calendar.school_days(first, day):
        return False
    reported = monday - WEEK
    return any(calendar.term_of(reported + dt.timedelta(days=i)) is not None for i in range(7))


def last_day_of_term(calendar: SchoolCalendar, day: dt.date) -> bool:
    """The term's last school day: its last teaching week is reported that day, since the
    Monday after lies in the vacation, when nothing is sent."""
    term = calendar.term_of(day)
    return (term is not None and calendar.is_school_day(day)
            and not calendar.school_days(day + ONE_DAY, term.end + ONE_DAY))


def digest_weeks(calendar: SchoolCalendar, day: dt.date) -> list[dt.date]:
    """The Mondays of the weeks whose digests go on `day` (usually none)."""
    monday = day - dt.timedelta(days=day.weekday())
    weeks = [monday - WEEK] if digest_day(calendar, day) else []
    if last_day_of_term(calendar, day):
        weeks.append(monday)
    return weeks


def send_day(calendar: SchoolCalendar, week_start: dt.date) -> dt.date | None:
    """The day the digest of a week goes, or None (a week spent wholly in a vacation)."""
    for day in (week_start + dt.timedelta(days=i) for i in range(14)):
        if week_start in digest_weeks(calendar, day):
            return day
    return None


def first_digest_of_month(calendar: SchoolCalendar, day: dt.date) -> bool:
    """No digest went earlier in `day`'s month: the idle-teacher list goes once a month."""
    other = day.replace(day=1)
    while other < day:
        if digest_weeks(calendar, other):
            return False
        other += ONE_DAY
    return True


def report_periods(calendar: SchoolCalendar, config: SchedulerConfig,
                   week_start: dt.date) -> dict[str, Period]:
    """The periods a week's digest reports: the month and quarter of its Monday (so the first
    digest of a month closes the previous one), the term and school year of its school days
    (so the last teaching week reports its own term)."""
    weekdays = [week_start + dt.timedelta(days=i) for i in range(5)]
    term_day = next((d for d in weekdays if calendar.is_school_day(d)), week_start)
    present = {q.period for q in config.quotas}
    return {kind: calendar.period(kind, week_start if kind in ("month", "quarter") else term_day)
            for kind in KINDS if kind in present}


def finished(period: Period, week_start: dt.date) -> bool:
    return period.end <= week_start + WEEK


def period_name(period: Period, done: bool) -> str:
    """本月 while the period runs; 11月, 第4季度, 2026秋学期 once it is over."""
    if not done or period.kind == "year":
        return texts.SCHED_PERIODS[period.kind]
    if period.kind == "month":
        return texts.PERIOD_MONTH_DONE.format(month=period.start.month)
    if period.kind == "quarter":
        return texts.PERIOD_QUARTER_DONE.format(quarter=(period.start.month - 1) // 3 + 1)
    year, _, season = period.label.partition("-")
    return texts.PERIOD_TERM_DONE.format(term=year + ("秋" if season == "autumn" else "春"))


# --- the figures ----------------------------------------------------------------------------


@dataclass
class WeekData:
    week_start: dt.date
    by_school: dict[int | None, dict[str | None, int]]
    statuses: list[QuotaStatus]
    done: dict[str, bool]  # by period kind: over by the end of the reported week
    turnout: dict[int | None, WeekTurnout]
    idle: dict[int, list[str]]  # empty unless this is the month's first digest
    idle_month: Period | None
    next_week: list[Activity]


async def week_data(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, config: SchedulerConfig,
    week_start: dt.date,
) -> WeekData:
    end = week_start + WEEK
    by_school: dict[int | None, dict[str | None, int]] = defaultdict(dict)
    for (_, sid, code), n in (await count_done(session=session, start=week_start,
                                               end=end)).items():
        by_school[sid][code] = by_school[sid].get(code, 0) + n
    periods = report_periods(calendar, config, week_start)
    statuses = await standing(session=session, county=roster, quotas=config.quotas,
                              periods=periods, until=end, per_school=True)
    day = send_day(calendar, week_start)
    idle: dict[int, list[str]] = {}
    month: Period | None = None
    if day is None or first_digest_of_month(calendar, day):
        month = calendar.period("month", week_start)
        idle = await idle_teachers(session=session, start=month.start,
                                   end=min(month.end, end))
    return WeekData(
        week_start=week_start, by_school=by_school, statuses=statuses,
        done={kind: finished(p, week_start) for kind, p in periods.items()},
        turnout=await turnout_by_school(session=session, start=week_start, end=end),
        idle=idle, idle_month=month,
        next_week=await planned_between(session=session, start=end, end=end + WEEK),
    )


def _names(names: list[str], limit: int) -> str:
    shown = texts.SCHED_NAME_SEP.join(names[:limit])
    return texts.SCHED_NAMES_MORE.format(names=shown, n=len(names)) if len(names) > limit \
        else shown


def figure(config: SchedulerConfig, s: QuotaStatus, *, done: bool, name: bool = True) -> str:
    """One rule's figure in plain words: `集体备课 1/2，还差 1 次`, `… 未达标` once over, the
    missing subjects named for a coverage rule."""
    activity = config.name_of(s.quota.activity) if name else ""
    if s.quota.cover:
        if s.met:
            return texts.DIGEST_COVERED.format(activity=activity).strip()
        template = texts.DIGEST_UNCOVERED_DONE if done else texts.DIGEST_UNCOVERED
        return template.format(activity=activity, n=len(s.missing),
                               missing=_names(list(s.missing), config.max_names)).strip()
    if s.met:
        status = texts.DIGEST_DONE if done else texts.DIGEST_MET
    else:
        status = texts.DIGEST_NOT_DONE if done else texts.DIGEST_SHORT.format(left=s.left)
    return texts.DIGEST_COUNT.format(activity=activity, done=s.done, need=s.need,
                                     status=status).strip()


def _by_kind(statuses: list[QuotaStatus]) -> dict[str, list[QuotaStatus]]:
    """Statuses by period kind, shortest period first."""
    out: dict[str, list[QuotaStatus]] = defaultdict(list)
    for s in statuses:
        out[s.period.kind].append(s)
    return {kind: out[kind] for kind in KINDS if kind in out}


def _own_lines(config: SchedulerConfig, data: WeekData, statuses: list[QuotaStatus],
               sid: int) -> list[str]:
    """The school's own figures: events it took part in for a community-wide rule, its own
    standing for a per-member-school one."""
    lines = []
    for kind, group in _by_kind(statuses).items():
        items = []
        for s in group:
            if s.school_id == sid:
                items.append(figure(config, s, done=data.done[kind]))
            elif s.school_id is None and not s.quota.cover and s.schools:
                n = dict(s.schools).get(sid, 0)
                items.append(texts.DIGEST_TAKING_PART.format(
                    activity=config.name_of(s.quota.activity), n=n))
        if items:
            lines.append(texts.DIGEST_OWN.format(period=period_name(group[0].period,
                                                                    data.done[kind]),
                                                 items=texts.DIGEST_ITEM_SEP.join(items)))
    return lines


def _community_lines(config: SchedulerConfig, roster: Roster, data: WeekData,
                     statuses: list[QuotaStatus]) -> list[str]:
    """The community's figures; a per-member-school rule folded into one line per rule."""
    lines = []
    for kind, group in _by_kind(statuses).items():
        name = period_name(group[0].period, data.done[kind])
        items = [figure(config, s, done=data.done[kind]) for s in group if s.school_id is None]
        if items:
            lines.append(texts.DIGEST_COMMUNITY.format(period=name,
                                                       items=texts.DIGEST_ITEM_SEP.join(items)))
        each: dict[Quota, list[QuotaStatus]] = defaultdict(list)
        for s in group:
            if s.school_id is not None:
                each[s.quota].append(s)
        for quota, rows in each.items():
            schools = [texts.DIGEST_SCHOOL_FIGURE.format(
                school=roster.schools[s.school_id].name,
                figure=figure(config, s, done=data.done[kind], name=False))
                for s in rows if s.school_id is not None]
            lines.append(texts.DIGEST_EACH_SCHOOL.format(
                period=name, activity=config.name_of(quota.activity),
                items=texts.DIGEST_ITEM_SEP.join(schools)))
    return lines


def score(statuses: list[QuotaStatus]) -> tuple[int, int]:
    """(rules met, rules) over the month's and the term's rules, as the county ranks them."""
    scored = [s for s in statuses if s.period.kind in ("month", "semester")]
    return sum(1 for s in scored if s.met), len(scored)


def _week_line(config: SchedulerConfig, counts: dict[str | None, int], *, own: bool) -> str:
    total = sum(counts.values())
    if not total:
        return texts.DIGEST_OWN_WEEK_NONE if own else texts.DIGEST_WEEK_NONE
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    return (texts.DIGEST_OWN_WEEK if own else texts.DIGEST_WEEK).format(
        total=total, detail="、".join(f"{config.name_of(code)} {n}" for code, n in ranked))


def _turnout_line(t: WeekTurnout | None) -> str | None:
    if t is None or not t.events:
        return None
    return texts.DIGEST_TURNOUT.format(events=t.events, checkins=t.checkins, late=t.late,
                                       leaves=t.leaves)


def _idle_line(config: SchedulerConfig, data: WeekData, sid: int) -> str | None:
    idle = data.idle.get(sid)
    if not idle or data.idle_month is None:
        return None
    names = _names(idle, config.max_names)
    if finished(data.idle_month, data.week_start):
        return texts.DIGEST_IDLE_DONE.format(month=data.idle_month.start.month, names=names)
    return texts.DIGEST_IDLE.format(names=names)


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
             title: str, lines: list[str],
             attachments: Sequence[Attachment] = ()) -> list[NewMessage]:
    folded = list(dict.fromkeys(lines))  # a line said once is enough
    return to_person(roster, person, key=key, kind=kind, text="\n".join([title, *folded]),
                     community_id=community_id, title=title,
                     attachments=attachments)


# --- the messages ---------------------------------------------------------------------------


async def weekly_digests(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, config: SchedulerConfig,
    week_start: dt.date, files: BlobStorage | None = None,
) -> list[NewMessage]:
    """One digest per recipient: a principal's school; the lead principal's community with
    their own school's lines; the county for admins. Keys `digest:2026-W48:member:12`.
    The month's first digest of a community carries its chart (with `files` to keep it)."""
    data = await week_data(session=session, roster=roster, calendar=calendar, config=config,
                           week_start=week_start)
    charts = (CommunityCharts(calendar=calendar, config=config, month=data.idle_month,
                              communities=dict(roster.communities))
              if files is not None and data.idle_month is not None else None)
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
        statuses = status_by_community[cid]
        own = _own_lines(config, data, statuses, sid)
        turnout = _turnout_line(data.turnout.get(sid))
        idle = _idle_line(config, data, sid)
        upcoming = _next_line(config, calendar, roster, planned_by_community.get(cid, []))
        if school.is_lead:
            title = texts.DIGEST_TITLE_COMMUNITY.format(community=roster.communities[cid], **span)
            lines = _lead_lines(config, roster, data, cid, statuses)
            lines += [_week_line(config, data.by_school.get(sid, {}), own=True), *own]
            kind = "digest_community"
        else:
            title = texts.DIGEST_TITLE_SCHOOL.format(school=school.name, **span)
            met, total = score(statuses)
            lines = [_week_line(config, data.by_school.get(sid, {}), own=False), *own,
                     texts.DIGEST_COMMUNITY_SCORE.format(community=roster.communities[cid],
                                                         total=total, met=met)]
            if turnout is not None:
                lines.append(turnout)
            kind = "digest_school"
        lines += [line for line in (idle, upcoming) if line is not None]
        chart = (charts.of(cid) if charts is not None and school.is_lead
                 and any(roster.identities.get(p.id) for p in principals) else None)
        for p in principals:
            out += _message(roster, p, cid, key=f"digest:{label}", kind=kind, title=title,
                            lines=lines, attachments=(chart,) if chart else ())
    if roster.admins:
        title = texts.DIGEST_TITLE_COUNTY.format(**span)
        lines = _county_lines(roster, data, status_by_community)
        for admin in roster.admins:
            out += _message(roster, admin, None, key=f"digest:{label}:county",
                            kind="digest_county", title=title, lines=lines)
    return out


def _lead_lines(config: SchedulerConfig, roster: Roster, data: WeekData, cid: int,
                statuses: list[QuotaStatus]) -> list[str]:
    """The community part of the lead principal's digest: every school's week, the
    community's figures, the community's turnout."""
    schools = roster.schools_of(cid)
    per_school = [texts.DIGEST_SCHOOL_ITEM.format(
        school=s.name, n=sum(data.by_school.get(s.id, {}).values())) for s in schools]
    lines = [texts.DIGEST_SCHOOLS.format(items=texts.DIGEST_ITEM_SEP.join(per_school)),
             *_community_lines(config, roster, data, statuses)]
    if (turnout := _turnout_line(_sum([data.turnout[s.id] for s in schools
                                       if s.id in data.turnout]))) is not None:
        lines.append(turnout)
    return lines


def _county_lines(roster: Roster, data: WeekData,
                  status_by_community: dict[int, list[QuotaStatus]]) -> list[str]:
    rows = []
    for cid, name in roster.communities.items():
        met, total = score(status_by_community[cid])
        week = sum(sum(data.by_school.get(s.id, {}).values()) for s in roster.schools_of(cid))
        ratio = met / total if total else 1.0
        rows.append((-ratio, -week, name, met, total, week))
    rows.sort()
    lines = [texts.DIGEST_RANK.format(rank=i + 1, community=name, met=met, total=total,
                                      week=week)
             for i, (_, _, name, met, total, week) in enumerate(rows)]
    if len(lines) > 2 * RANK_EDGE:
        lines = [*lines[:RANK_EDGE], texts.DIGEST_RANK_GAP.format(n=len(lines) - 2 * RANK_EDGE),
                 *lines[-RANK_EDGE:]]
    return [texts.DIGEST_RANK_HEAD, *lines]
