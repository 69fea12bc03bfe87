"""The scheduled jobs: each `send_<thing>` returns the messages due for one occasion.

Jobs read storage and build `NewMessage`s with deterministic keys (what, for whom, which
period); they never enqueue or call a platform themselves — `scheduler.due` does the writing,
so a preview can run the very same code and write nothing.
Imports handlers (texts, checkin constants, format) and storage; never bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.checkin import CHECKIN_OPENS
from handlers.event_times import Timed, event_end
from handlers.format import hm, md
from handlers.ledger import assessment_data, assessment_file_name, assessment_workbook_bytes
from handlers.messages import Attachment
from handlers.periods import GUESSED_AUTUMN, GUESSED_SPRING, Period
from handlers.sheet import sheets_for
from handlers.standing import standing
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.digest import KINDS, figure, period_name, weekly_digests
from scheduler.progress import QuotaStatus, quota_progress
from scheduler.queries import Person, Roster, people_by_id
from scheduler.recipients import to_groups, to_person
from storage.blobs import BlobStorage
from storage.events import signed_in
from storage.models import Activity, EventStatus
from storage.outbox import NewMessage


@dataclass
class JobContext:
    session: AsyncSession
    config: SchedulerConfig
    calendar: SchoolCalendar
    roster: Roster
    # Where charts and workbooks sent with messages are kept; None in previews, which write
    # nothing (their messages then go without files).
    files: BlobStorage | None = None


def names_list(names: list[str], limit: int) -> str:
    shown = texts.SCHED_NAME_SEP.join(names[:limit])
    if len(names) > limit:
        return texts.SCHED_NAMES_MORE.format(names=shown, n=len(names))
    return shown


def _kinds(config: SchedulerConfig) -> list[str]:
    order = ("month", "quarter", "semester", "year")
    present = {q.period for q in config.quotas}
    return [k for k in order if k in present]


def _reminder_day(days: list[dt.date], left: int) -> dt.date | None:
    """The school day on which `left` school days remain (today and the last included)."""
    if not days:
        return None
    return days[max(len(days) - left, 0)]


# --- quotas ---------------------------------------------------------------------------------


def _periods(kinds: list[str]) -> str:
    return texts.SCHED_PERIOD_SEP.join(texts.SCHED_PERIODS[k] for k in kinds)


def _key(periods: list[Period]) -> str:
    """`month:2026-11`, or `month:2026-07+semester:2026-spring` when several end together."""
    return "+".join(f"{p.kind}:{p.label}" for p in periods)


async def send_period_starts(ctx: JobContext, day: dt.date) -> list[NewMessage]:
    """On the first school day of a month, quarter, semester or school year: what is due
    (one message for all the periods that begin that day)."""
    starting: list[Period] = []
    for kind in _kinds(ctx.config):
        period = ctx.calendar.period(kind, day)
        days = ctx.calendar.school_days(period.start, period.end)
        if days and days[0] == day:
            starting.append(period)
    if not starting:
        return []
    several = len(starting) > 1
    lines = []
    for period in starting:
        prefix = texts.SCHED_PERIODS[period.kind] if several else ""
        for q in (q for q in ctx.config.quotas if q.period == period.kind):
            each = texts.SCHED_EACH_SCHOOL if q.scope == "member_school" else ""
            name = prefix + ctx.config.name_of(q.activity)
            lines.append(texts.SCHED_START_COVER.format(activity=name, each=each) if q.cover
                         else texts.SCHED_START_LINE.format(activity=name, need=q.minimum,
                                                            each=each))
    out: list[NewMessage] = []
    for cid, community in sorted(ctx.roster.communities.items()):
        text = "\n".join([
            texts.SCHED_START_HEAD.format(period=_periods([p.kind for p in starting]),
                                          community=community),
            *lines, texts.SCHED_START_TAIL,
        ])
        out += to_groups(ctx.roster, cid, key=f"start:{_key(starting)}:community:{cid}",
                         kind="period_start", text=text)
    return out


async def send_month_results(ctx: JobContext, day: dt.date) -> list[NewMessage]:
    """On the first school day of a month, the previous month's final result of every monthly
    rule to each community's groups: met or not, and each school's count (counts only, no
    names). Once per community and month; nothing for a month without school days."""
    month = ctx.calendar.period("month", day)
    days = ctx.calendar.school_days(month.start, month.end)
    if not days or days[0] != day or not any(q.period == "month" for q in ctx.config.quotas):
        return []
    previous = ctx.calendar.period("month", month.start - dt.timedelta(days=1))
    if not ctx.calendar.school_days(previous.start, previous.end):
        return []
    statuses = await standing(session=ctx.session, county=ctx.roster, quotas=ctx.config.quotas,
                              periods={"month": previous}, per_school=True)
    out: list[NewMessage] = []
    for cid, community in sorted(ctx.roster.communities.items()):
        lines = [texts.RESULT_HEAD.format(month=previous.start.month, community=community)]
        for s in (s for s in statuses if s.community_id == cid):
            lines.append(_result_line(ctx, s))
        out += to_groups(ctx.roster, cid, key=f"result:month:{previous.label}:community:{cid}",
                         kind="period_result", text="\n".join(lines))
    return out


def _result_line(ctx: JobContext, s: QuotaStatus, *, done: bool = True) -> str:
    """A rule's final (or, for a period still running, present) result, by school."""
    name = ctx.config.name_of(s.quota.activity)
    if s.quota.cover:
        where = (texts.SCHED_WHERE.format(school=ctx.roster.schools[s.school_id].name)
                 if s.school_id is not None else " ")
        return f"· {name}{where}{figure(ctx.config, s, done=done, name=False)}"
    status = texts.DIGEST_DONE if s.met else texts.DIGEST_NOT_DONE
    if s.school_id is not None:
        return texts.RESULT_MEMBER_LINE.format(activity=name,
                                               school=ctx.roster.schools[s.school_id].name,
                                               done=s.done, need=s.need, status=status)
    schools = texts.RESULT_SEP.join(
        texts.RESULT_SCHOOL.format(school=ctx.roster.schools[sid].name, n=n)
        for sid, n in s.schools)
    return texts.RESULT_LINE.format(activity=name, done=s.done, need=s.need, status=status,
                                    schools=schools)


def _short_line(ctx: JobContext, status: QuotaStatus, deadline: dt.date) -> str:
    period = texts.SCHED_PERIODS[status.period.kind]
    where = ""
    if status.school_id is not None:
        where = texts.SCHED_WHERE.format(school=ctx.roster.schools[status.school_id].name)
    name = ctx.config.name_of(status.quota.activity)
    if status.quota.cover:
        return texts.SCHED_SHORT_COVER.format(
            period=period, activity=name, where=where,
            missing=names_list(list(status.missing), ctx.config.max_names),
            done=status.done, need=status.need, deadline=md(deadline))
    return texts.SCHED_SHORT_LINE.format(period=period, activity=name, where=where,
                                         done=status.done, left=status.left,
                                         deadline=md(deadline))


@dataclass(frozen=True)
class Shortfall:
    """A community's short rules of the periods whose reminder day is today."""

    community_id: int
    periods: list[Period]
    days_left: int
    lines: list[str]


async def _shortfalls(ctx: JobContext, day: dt.date, left: int) -> list[Shortfall]:
    """Per community, the short rules of every period for which `day` is the school day
    with `left` school days remaining; communities with nothing short are left out."""
    ending: list[tuple[Period, list[dt.date]]] = []
    for kind in _kinds(ctx.config):
        period = ctx.calendar.period(kind, day)
        days = ctx.calendar.school_days(period.start, period.end)
        if _reminder_day(days, left) == day:
            ending.append((period, days))
    if not ending:
        return []
    statuses = await quota_progress(session=ctx.session, roster=ctx.roster,
                                    calendar=ctx.calendar, quotas=ctx.config.quotas, day=day,
                                    kinds=[p.kind for p, _ in ending])
    out = []
    for cid in sorted(ctx.roster.communities):
        periods, lines, days_left = [], [], len(ending[0][1])
        for period, days in ending:
            short = [s for s in statuses
                     if s.period.kind == period.kind and s.community_id == cid and not s.met]
            if short:
                periods.append(period)
                days_left = min(days_left, len(days) - days.index(day))
                lines += [_short_line(ctx, s, days[-1]) for s in short]
        if periods:
            out.append(Shortfall(cid, periods, days_left, lines))
    return out


async def send_quota_reminders(ctx: JobContext, day: dt.date) -> list[NewMessage]:
    """To the community's groups while a quota is short, `group_days_left` school days before
    the period ends; nothing once every rule of the period is met."""
    out: list[NewMessage] = []
    for short in await _shortfalls(ctx, day, ctx.config.group_days_left):
        text = "\n".join([
            texts.SCHED_SHORT_HEAD.format(period=_periods([p.kind for p in short.periods]),
                                          days=short.days_left),
            *short.lines, texts.SCHED_SHORT_TAIL,
        ])
        out += to_groups(ctx.roster, short.community_id, kind="quota_short", text=text,
                         key=f"quota:{_key(short.periods)}:community:{short.community_id}:short")
    return out


def _surname(name: str) -> str:
    return name[:2] if name[:2] in texts.COMPOUND_SURNAMES else name[:1]


async def send_principal_notes(ctx: JobContext, day: dt.date) -> list[NewMessage]:
    """A private note to the lead school's principal when still short near the end."""
    out: list[NewMessage] = []
    for short in await _shortfalls(ctx, day, ctx.config.principal_days_left):
        cid = short.community_id
        for person in ctx.roster.lead_principals(cid):
            text = "\n".join([
                texts.SCHED_PRINCIPAL_HEAD.format(
                    name=_surname(person.name), community=ctx.roster.communities[cid],
                    period=_periods([p.kind for p in short.periods]), days=short.days_left),
                *short.lines, texts.SCHED_PRINCIPAL_TAIL,
            ])
            out += to_person(ctx.roster, person, kind="principal_note", text=text,
                             key=f"quota:{_key(short.periods)}:community:{cid}:principal",
                             community_id=cid)
    return out


# --- planned activities ---------------------------------------------------------------------


def end_of(config: SchedulerConfig, event: Timed) -> dt.datetime | None:
    """The one end of an event (handlers.event_times), with the county's lengths."""
    return event_end(event, config.lengths, config.timezone)


def event_key(calendar: SchoolCalendar, activity: Activity) -> str:
    """`activity:41:2026-11-26T1400` (untimed: `…T day`): the prefix of every key queued for
    the event at its present time, so a moved plan's reminders are not blocked by the ones
    already sent for its old time, and `activity:41:` still finds them all."""
    day = activity.date.isoformat() if activity.date else "undated"
    start = (calendar.local(activity.starts_at).strftime("%H%M")
             if activity.starts_at is not None else "day")
    return f"activity:{activity.id}:{day}T{start}"


def _what(ctx: JobContext, activity: Activity) -> str:
    what = f"{activity.grade or ''}{activity.subject or ''}{ctx.config.name_of(activity.activity)}"
    school = ctx.roster.schools.get(activity.school_id or -1)
    if school is not None:
        what += texts.SCHED_WHERE.format(school=school.name)
    if activity.topic:
        what += f"《{activity.topic}》"
    return what


def _checkin_hint(ctx: JobContext, activity: Activity) -> str:
    if activity.starts_at is None:
        return ""
    opens = ctx.calendar.local(activity.starts_at - CHECKIN_OPENS)
    return texts.SCHED_CHECKIN_OPENS.format(opens=hm(opens))


def _community_of(ctx: JobContext, activity: Activity) -> int | None:
    if activity.community_id is not None:
        return activity.community_id
    school = ctx.roster.schools.get(activity.school_id or -1)
    return school.community_id if school else None


async def send_day_before(ctx: JobContext, activity: Activity, day: dt.date) -> list[NewMessage]:
    """The group's reminder on the last working day before the activity, at reminder time."""
    cid = _community_of(ctx, activity)
    if cid is None or activity.date is None:
        return []
    if activity.date == day + dt.timedelta(days=1):
        when = texts.SCHED_TOMORROW.format(date=md(activity.date))
    else:
        when = texts.SCHED_ON_DAY.format(date=md(activity.date),
                                         weekday=texts.WEEKDAYS[activity.date.weekday()])
    if activity.starts_at is not None:
        when += f" {hm(ctx.calendar.local(activity.starts_at))} "
    text = texts.SCHED_DAY_BEFORE.format(when=when, what=_what(ctx, activity),
                                         checkin=_checkin_hint(ctx, activity))
    return to_groups(ctx.roster, cid, key=f"{event_key(ctx.calendar, activity)}:day_before",
                     kind="activity_day_before", text=text, group_id=activity.group_id)


async def send_hour_before(ctx: JobContext, activity: Activity) -> list[NewMessage]:
    cid = _community_of(ctx, activity)
    if cid is None or activity.starts_at is None:
        return []
    text = texts.SCHED_HOUR_BEFORE.format(time=hm(ctx.calendar.local(activity.starts_at)),
                                          what=_what(ctx, activity),
                                          checkin=_checkin_hint(ctx, activity))
    return to_groups(ctx.roster, cid, key=f"{event_key(ctx.calendar, activity)}:hour_before",
                     kind="activity_hour_before", text=text, group_id=activity.group_id)


async def send_activity_summaries(
    ctx: JobContext, activities: Iterable[Activity],
) -> list[NewMessage]:
    """One message per finished activity to its group, with counts only (签到 N 人，迟到 N 人，
    早退 N 人，请假 N 人，未签到 N 人); the names of the late, early and missing go privately to
    the organiser and the principals of the invited schools and the lead school. The sheet is
    the chat's own (handlers/sheet.py), so a question and the summary never differ."""
    out: list[NewMessage] = []
    summed = [a for a in activities if a.id is not None and _community_of(ctx, a) is not None]
    # The sheets and the organisers, in a few reads for the beat rather than six per event.
    sheets = await sheets_for(ctx.session, summed)
    organisers = await people_by_id(session=ctx.session, ids=[a.reporter_id for a in summed])
    for a in summed:
        cid = _community_of(ctx, a)
        assert a.id is not None and cid is not None
        asked, got = sheets[a.id]
        what = _what(ctx, a)
        key = f"{event_key(ctx.calendar, a)}:summary"
        text = texts.SCHED_SUMMARY.format(date=md(a.date), what=what, checked=len(got.signed),
                                          late=len(got.late), early=len(got.early),
                                          leave=len(got.leave), missing=len(got.missing))
        if got.signed and not got.missing:
            text += texts.SCHED_SUMMARY_ALL_IN
        out += to_groups(ctx.roster, cid, key=key, kind="activity_summary", text=text,
                         group_id=a.group_id)
        names = [template.format(names=names_list(group, ctx.config.max_names))
                 for template, group in ((texts.SCHED_SUMMARY_MISSING, got.missing),
                                         (texts.SCHED_SUMMARY_LATE, got.late),
                                         (texts.SCHED_SUMMARY_EARLY, got.early)) if group]
        if not names:
            continue
        private = texts.SCHED_SUMMARY_NAMES.format(date=md(a.date), what=what,
                                                   names="".join(names))
        for person in _told_names(ctx, a, cid, asked.schools, organisers):
            out += to_person(ctx.roster, person, key=f"{key}:names", kind="activity_names",
                             text=private, community_id=cid)
    return out


def _told_names(
    ctx: JobContext, a: Activity, cid: int, schools: list[int],
    organisers: tuple[dict[int, Person], dict[int, list[tuple[str, str]]]],
) -> list[Person]:
    """The organiser (from `organisers`, people_by_id of the beat's organisers), the
    principals of the invited schools, the lead school's principals."""
    people = [p for sid in sorted(schools) for p in ctx.roster.principals.get(sid, [])]
    people += ctx.roster.lead_principals(cid)
    found, identities = organisers
    if a.reporter_id in identities:
        ctx.roster.identities.setdefault(a.reporter_id, identities[a.reporter_id])
    if a.reporter_id in found:
        people.insert(0, found[a.reporter_id])
    unique: dict[int, Person] = {}
    for person in people:
        unique.setdefault(person.id, person)
    return list(unique.values())


def _still_open(ctx: JobContext, plan: Activity) -> bool:
    """Planned, live, and not yet asked about its present time (a plan moved after it was
    asked is asked again about its new time)."""
    if plan.status != EventStatus.PLANNED or plan.withdrawn or plan.id is None:
        return False
    end = end_of(ctx.config, plan)
    return end is not None and (plan.outcome_asked_at is None or plan.outcome_asked_at < end)


async def send_outcome_questions(
    ctx: JobContext, plans: Iterable[Activity],
) -> list[NewMessage]:
    """One question to the organiser of each ended plan with no sign-in and no report
    (still `planned`): did it take place? Privately when they have an account the bot can
    reach, else in the plan's group. `extra["activity_id"]` lets the caller stamp
    `outcome_asked_at` on the plans actually asked."""
    open_plans = [p for p in plans if _still_open(ctx, p)]
    if not open_plans:
        return []
    signed = await signed_in(session=ctx.session, event_ids=[p.id for p in open_plans if p.id])
    open_plans = [p for p in open_plans if p.id not in signed]
    people, identities = await people_by_id(session=ctx.session,
                                            ids=[p.reporter_id for p in open_plans])
    for mid, ids in identities.items():
        ctx.roster.identities.setdefault(mid, ids)
    out: list[NewMessage] = []
    for plan in open_plans:
        assert plan.date is not None
        when = md(plan.date)
        if plan.starts_at is not None:
            when += f" {hm(ctx.calendar.local(plan.starts_at))}"
        question = texts.SCHED_OUTCOME_ASK.format(when=when, what=_what(ctx, plan))
        key = f"{event_key(ctx.calendar, plan)}:outcome"
        extra = {"activity_id": plan.id}
        cid = _community_of(ctx, plan)
        organiser = people.get(plan.reporter_id)
        asked = (to_person(ctx.roster, organiser, key=key, kind="activity_outcome",
                           text=question, community_id=cid, extra=extra)
                 if organiser is not None else [])
        if not asked and organiser is not None and cid is not None:
            text = texts.SCHED_OUTCOME_ASK_IN_GROUP.format(name=organiser.name,
                                                           question=question)
            asked = to_groups(ctx.roster, cid, key=key, kind="activity_outcome", text=text,
                              extra=extra, group_id=plan.group_id)
        out += asked
    return out


async def send_term_summaries(ctx: JobContext, day: dt.date) -> list[NewMessage]:
    """On the term's last school day: every rule of the term and the subjects still missing
    from the coverage rules, per community and by school; to each principal their
    community's, to the admins every community's."""
    term = ctx.calendar.period("semester", day)
    cover = [q for q in ctx.config.quotas if q.cover]
    kinds = {"semester"} | {q.period for q in cover}
    periods = {kind: ctx.calendar.period(kind, day) for kind in sorted(kinds)
               if any(q.period == kind for q in ctx.config.quotas)}
    rules = [q for q in ctx.config.quotas if q.period == "semester" or q.cover]
    statuses = await standing(session=ctx.session, county=ctx.roster, quotas=rules,
                              periods=periods, per_school=True)
    name = period_name(term, True)
    statuses.sort(key=lambda s: KINDS.index(s.period.kind))  # the term's rules, then the year's
    blocks = {cid: [_result_line(ctx, s, done=s.period.end <= term.end)
                    for s in statuses if s.community_id == cid]
              for cid in sorted(ctx.roster.communities)}
    key = f"term:{term.label}"
    out: list[NewMessage] = []
    for cid, lines in blocks.items():
        title = texts.TERM_TITLE.format(term=name, community=ctx.roster.communities[cid])
        for school in ctx.roster.schools_of(cid):
            for person in ctx.roster.principals.get(school.id, []):
                out += to_person(ctx.roster, person, key=f"{key}:community:{cid}",
                                 kind="term_summary", text="\n".join([title, *lines]),
                                 community_id=cid, title=title)
    title = texts.TERM_TITLE_COUNTY.format(term=name)
    text = "\n".join([title, *(line for cid, lines in blocks.items() for line in [
        texts.TERM_COMMUNITY.format(community=ctx.roster.communities[cid]), *lines])])
    workbook = await _assessment_file(ctx, term, day) if ctx.roster.admins else None
    for admin in ctx.roster.admins:
        out += to_person(ctx.roster, admin, key=f"{key}:county", kind="term_summary", text=text,
                         title=title,
                         attachments=(workbook,) if workbook else ())
    return out


async def _assessment_file(ctx: JobContext, term: Period, day: dt.date) -> Attachment | None:
    """The county's term assessment (捆绑考核) workbook, kept for the admins' term summary;
    None in previews, which keep nothing."""
    if ctx.files is None:
        return None
    assessment = await assessment_data(
        ctx.session, term=term.label, community_id=None, quotas=ctx.config.quotas,
        period_of=ctx.calendar.period, today=day, targets=ctx.config.rotation,
        activity_names=dict(ctx.config.activity_names))
    data = await asyncio.to_thread(assessment_workbook_bytes, assessment)
    blob = ctx.files.put(data)
    return Attachment(kind="file", sha256=blob.sha256, size=blob.size,
                      name=assessment_file_name(assessment.name, term))


# --- digests and warnings -------------------------------------------------------------------


async def send_weekly_digests(ctx: JobContext, week_start: dt.date) -> list[NewMessage]:
    """The digests of the ISO week starting `week_start` (sent the week after)."""
    return await weekly_digests(session=ctx.session, roster=ctx.roster, calendar=ctx.calendar,
                                config=ctx.config, week_start=week_start, files=ctx.files)


def calendar_warning_keys(calendar: SchoolCalendar) -> list[str]:
    """One key per fact worth a warning: a year without holiday data, guessed terms."""
    keys = [f"calendar:unknown-year:{year}" for year in sorted(calendar.unknown_years)]
    if calendar.guessed_terms and calendar.config.semesters:
        keys.append(f"calendar:guessed-terms:{calendar.config.semesters[-1].end.isoformat()}")
    return keys


def _guess(span: tuple[tuple[int, int], tuple[int, int]]) -> str:
    """9月1日—1月20日: a guessed term's dates (handlers.periods), as the warning names them."""
    (sm, sd), (em, ed) = span
    return f"{sm}月{sd}日—{em}月{ed}日"


async def send_calendar_warning(ctx: JobContext, key: str) -> list[NewMessage]:
    """Tell every admin (once: the caller keeps a Setting row) that the calendar guesses."""
    what = key.split(":")
    if what[1] == "unknown-year":
        text = texts.SCHED_CALENDAR_UNKNOWN.format(year=what[2])
    else:
        text = texts.SCHED_TERMS_GUESSED.format(last=md(dt.date.fromisoformat(what[2])),
                                                autumn=_guess(GUESSED_AUTUMN),
                                                spring=_guess(GUESSED_SPRING))
    out: list[NewMessage] = []
    for admin in ctx.roster.admins:
        out += to_person(ctx.roster, admin, key=key, kind="calendar_warning", text=text)
    return out
