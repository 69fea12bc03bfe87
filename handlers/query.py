"""Queries: figures a principal can act on, for the scope and period asked.

The scope is a person (a named teacher, or 我: their own reports and sign-ins), a school (named,
or 我们学校/我校/本校), every school of the community (`by` school: those behind first), or
the community (of the group, else the asker's); a bureau admin outside a community's group
gets every community. Anyone but an admin sees only their own community, and is told so.
Quota figures come from handlers.standing, as digests and reminders do, over the period the
school calendar gives (`Services.period_of`); every line names its scope and period, and a
finished period says whether it was met. Today's sign-in sheet lives in handlers.sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from handlers import texts
from handlers.nlu.numbers import to_int
from handlers.periods import Period, query_period
from handlers.permissions import may_see_community, may_see_names, sees_whole_county
from handlers.quotas import Quota, codes_for, rule_for
from handlers.routing import Context, Router
from handlers.sheet import ATTENDANCE_WORDS, answer_sheet, names_list, wants_sheet
from handlers.standing import County, QuotaStatus, load_county, standing
from storage.activities import (
    count_attendance,
    members_with_entries,
    reported_by,
    taking_part,
    teachers_of,
)
from storage.models import Member, Role
from storage.roster import members_named, school_community, school_named

router = Router("query")

NAMED_MONTH = "named_month"
# "11月" / "十月份" as a period: not 本月/上月, not the month of a date (11月26日).
MONTH_NAMED = re.compile(r"(?<![本上下这个每])"
                         r"(?P<m>1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月份?"
                         r"(?![\d一二三四五六七八九十]+\s*[日号])")
LAST_QUARTER = re.compile(r"上个?季度")

# "我" as a word of its own (我的, 我这周…) asks about the sender's own records; 我们, 我校 do not.
OWN = re.compile(r"我(?![们校])")
OUR_SCHOOL = ("我们学校", "我们校", "我校", "本校")


@dataclass(frozen=True)
class Asked:
    """What the question measures: the period, the activities counted together, the rule."""

    word: str
    period: Period
    finished: bool
    codes: tuple[str, ...] | None  # None: every activity
    rule: Quota | None  # the quota of this period kind, when there is one
    reading: str  # "community" or "member_school": how one school's figure is read

    def label(self) -> str:
        if self.finished and self.word in ("last_month", NAMED_MONTH):
            return texts.MONTH.format(month=self.period.start.month)
        return texts.PERIODS.get(self.word, "")


def _named_period(ctx: Context) -> tuple[str, Period] | None:
    """A month named by number (11月集体备课开展了几次: its latest one, this year's or last
    year's) or 上季度, which the parser's period words do not cover."""
    today = ctx.now.date()
    if LAST_QUARTER.search(ctx.msg.text):
        return "last_quarter", query_period("last_quarter", today, ctx.services.period_of)
    match = MONTH_NAMED.search(ctx.msg.text)
    if match is None:
        return None
    month = to_int(match.group("m"))
    if month is None or not 1 <= month <= 12:
        return None
    year = today.year if month <= today.month else today.year - 1
    return NAMED_MONTH, ctx.services.period_of("month", dt.date(year, month, 1))


def _asked(ctx: Context) -> Asked:
    named = None if ctx.parsed.period else _named_period(ctx)
    if named is not None:
        word, period = named
    else:
        word = ctx.parsed.period or "this_month"
        period = query_period(word, ctx.now.date(), ctx.services.period_of)
    quotas = ctx.services.quotas
    activity = ctx.parsed.activity
    codes = codes_for(quotas, activity) if activity is not None else None
    rule = rule_for(quotas, activity, period.kind) if activity is not None else None
    any_rule = next((q for q in quotas if codes and codes[0] in q.codes and not q.cover), None)
    reading = any_rule.scope if any_rule is not None else "community"
    return Asked(word, period, period.end <= ctx.now.date(), codes, rule, reading)


def _activity_label(ctx: Context, codes: tuple[str, ...]) -> str:
    names = [ctx.activity_name(c) for c in codes]
    if len(names) == 1:
        return names[0]
    return texts.QUERY_ACTIVITIES.format(first=names[0], rest=texts.QUERY_NAME_SEP.join(names[1:]))


def _status(done: int, need: int, finished: bool) -> str:
    if done >= need:
        return texts.QUOTA_DONE if finished else texts.QUOTA_MET
    return texts.QUOTA_NOT_DONE if finished else texts.QUOTA_SHORT.format(left=need - done)


def _mark(s: QuotaStatus, finished: bool) -> str:
    if s.met:
        return texts.QUERY_MARK_MET
    return texts.QUERY_MARK_NOT_DONE if finished else texts.QUERY_MARK_SHORT.format(left=s.left)


@dataclass
class Scope:
    """Where the figures are for: communities (several only for an admin), or one school."""

    communities: list[int]
    school_id: int | None = None
    note: str = ""  # said first when the asker was given their own community instead


def _rule(asked: Asked) -> Quota:
    """The asked rule, or one with no minimum that counts the same codes the same way, so
    figures without a quota come from the very same fold."""
    if asked.rule is not None:
        return asked.rule
    assert asked.codes is not None
    return Quota(asked.codes[0], 0, asked.period.kind, asked.reading, also=asked.codes[1:])


async def _statuses(ctx: Context, county: County, asked: Asked,
                    communities: list[int]) -> list[QuotaStatus]:
    return await standing(session=ctx.session, county=county, quotas=[_rule(asked)],
                          periods={asked.period.kind: asked.period}, per_school=True,
                          communities=communities)


async def _scope(ctx: Context, county: County) -> Scope:
    member = ctx.member
    assert member is not None
    admin = sees_whole_county(member)
    own_school = county.schools.get(member.school_id or -1)
    own = own_school.community_id if own_school is not None else None
    group = ctx.group.community_id if ctx.group is not None else None

    def refused(cid: int) -> bool:
        return not may_see_community(member=member, own=own, group=group, wanted=cid)

    note = ""
    fallback = group if group is not None else own
    if ctx.parsed.school:
        school = await school_named(session=ctx.session, name=ctx.parsed.school)
        if school is not None and school.id is not None:
            if not refused(school.community_id):
                return Scope([school.community_id], school.id)
            note = texts.QUERY_OWN_ONLY.format(
                community=county.communities.get(fallback or -1, ""))
    elif (own_school is not None and any(w in ctx.msg.text for w in OUR_SCHOOL)
          and not refused(own_school.community_id)):
        return Scope([own_school.community_id], own_school.id)
    if fallback is not None:
        return Scope([fallback], note=note)
    return Scope(sorted(county.communities) if admin else [], note=note)


@router.on("query")
async def handle_query(ctx: Context) -> None:
    assert ctx.member is not None
    person = await _person(ctx)
    if isinstance(person, str):
        ctx.reply(texts.QUERY_PERSON_UNKNOWN.format(name=person))
        return
    if person is not None:
        await _person_answer(ctx, person)
        return
    county = await load_county(session=ctx.session)
    scope = await _scope(ctx, county)
    if wants_sheet(ctx):
        await answer_sheet(ctx, county, scope.communities)
        return
    asked = _asked(ctx)
    if ctx.parsed.by == "member":
        lines = await _teachers_without(ctx, county, scope, asked)
    else:
        lines = await _answer(ctx, county, scope, asked)
    ctx.reply("\n".join([scope.note, *lines] if scope.note else lines))


async def _teachers_without(ctx: Context, county: County, scope: Scope,
                            asked: Asked) -> list[str]:
    """哪些老师本月还没签到 / 没参加集体备课: how many, and who — names only in a private chat
    with a principal or an admin (spec: lists of idle people go only privately)."""
    assert ctx.member is not None
    signins = asked.codes is None and any(w in ctx.msg.text for w in ATTENDANCE_WORDS)
    active = await members_with_entries(session=ctx.session, start=asked.period.start,
                                        end=asked.period.end, signins=signins,
                                        codes=asked.codes)
    own = county.schools.get(ctx.member.school_id or -1)
    if scope.school_id is None and ctx.member.role == Role.PRINCIPAL and own and not own.is_lead:
        # A member school's principal answers for their own teachers.
        scope = Scope(scope.communities, own.id, scope.note)
    schools = ([scope.school_id] if scope.school_id is not None else
               [s.id for cid in scope.communities for s in county.schools_of(cid)])
    idle = [m.name for m in await teachers_of(session=ctx.session, school_ids=schools)
            if m.id not in active]
    what = texts.QUERY_SIGNED_IN if signins else (
        texts.QUERY_TOOK_PART.format(activity=_activity_label(ctx, asked.codes))
        if asked.codes is not None else texts.QUERY_ANY_ENTRY)
    where = (county.schools[scope.school_id].name if scope.school_id is not None
             else "、".join(county.communities[c] for c in scope.communities))
    lines = [texts.QUERY_IDLE_COUNT.format(scope=where, period=asked.label(), what=what,
                                           n=len(idle))]
    if not idle or not may_see_names(ctx.member):
        return lines
    if ctx.msg.is_group:
        return [*lines, texts.SHEET_NAMES_PRIVATE]
    return [*lines, texts.QUERY_IDLE_NAMES.format(names=names_list(idle))]


async def _answer(ctx: Context, county: County, scope: Scope, asked: Asked) -> list[str]:
    if asked.codes is None:
        return await _everything(ctx, county, scope, asked)
    statuses = await _statuses(ctx, county, asked, scope.communities)
    if scope.school_id is not None:
        return [_school_line(ctx, county, asked, statuses, scope.school_id)]
    if ctx.parsed.by == "school":
        return _by_school(ctx, county, asked, statuses, scope.communities)
    if len(scope.communities) > 1:
        return [_county_head(ctx, asked),
                *(texts.QUERY_COMMUNITY_LINE.format(line=line)
                  for cid in scope.communities
                  for line in _community_lines(ctx, county, asked, statuses, cid, short=True))]
    return _community_lines(ctx, county, asked, statuses, scope.communities[0])


def _county_head(ctx: Context, asked: Asked, reading: str = "") -> str:
    assert asked.codes is not None
    return f"{texts.QUERY_COUNTY} {asked.label()}{_activity_label(ctx, asked.codes)}{reading}"


def _community_lines(ctx: Context, county: County, asked: Asked, statuses: list[QuotaStatus],
                     cid: int, *, short: bool = False) -> list[str]:
    """The community's figure against the rule (a per-member-school rule: each member
    school's); `short` leaves out the period and activity a county list names once."""
    assert asked.codes is not None
    name = county.communities[cid]
    period, activity = ("", "") if short else (asked.label(), _activity_label(ctx, asked.codes))
    mine = [s for s in statuses if s.community_id == cid]
    if asked.reading == "member_school":
        if short:
            head = f"{name}："
        elif asked.rule is not None:
            head = texts.QUERY_EACH_SCHOOL.format(scope=name, period=period, activity=activity,
                                                  need=asked.rule.minimum)
        else:
            head = texts.QUERY_EACH_SCHOOL_PLAIN.format(scope=name, period=period,
                                                        activity=activity)
        return [head + texts.QUERY_ITEM_SEP.join(_member_item(county, asked, s) for s in mine)]
    [status] = mine
    if asked.rule is None:
        template = texts.QUERY_COUNT_SHORT if short else texts.QUERY_COUNT
        return [template.format(scope=name, period=period, activity=activity,
                                count=status.done)]
    template = texts.QUERY_QUOTA_SHORT if short else texts.QUERY_QUOTA
    return [template.format(scope=name, period=period, activity=activity, count=status.done,
                            need=status.need,
                            status=_status(status.done, status.need, asked.finished))]


def _member_item(county: County, asked: Asked, s: QuotaStatus) -> str:
    assert s.school_id is not None
    school = county.schools[s.school_id].name
    if asked.rule is None:
        return f"{school} {s.done} 次"
    return f"{school} {s.done}/{s.need} 次{_status(s.done, s.need, asked.finished)}"


def _school_line(ctx: Context, county: County, asked: Asked, statuses: list[QuotaStatus],
                 school_id: int) -> str:
    assert asked.codes is not None
    school = county.schools[school_id]
    activity = _activity_label(ctx, asked.codes)
    if asked.reading == "member_school":
        own = next((s for s in statuses if s.school_id == school_id), None)
        if own is not None and asked.rule is not None:
            return texts.QUERY_QUOTA.format(scope=school.name, period=asked.label(),
                                            activity=activity, count=own.done, need=own.need,
                                            status=_status(own.done, own.need, asked.finished))
        return texts.QUERY_COUNT.format(scope=school.name, period=asked.label(),
                                        activity=activity, count=own.done if own else 0)
    [community] = [s for s in statuses if s.community_id == school.community_id]
    count = dict(community.schools).get(school_id, 0)
    if asked.rule is None:
        return texts.QUERY_COUNT.format(scope=school.name, period=asked.label(),
                                        activity=activity, count=count)
    return texts.QUERY_SCHOOL_IN_COMMUNITY.format(
        school=school.name, period=asked.label(), activity=activity, count=count,
        done=community.done, need=community.need, mark=_mark(community, asked.finished))


def _by_school(ctx: Context, county: County, asked: Asked, statuses: list[QuotaStatus],
               communities: list[int]) -> list[str]:
    """Who is behind (by name, saying which reading), then one line per school."""
    assert asked.codes is not None
    activity = _activity_label(ctx, asked.codes)
    member = asked.reading == "member_school"
    reading = texts.READING_MEMBER if member else texts.READING_COMMUNITY
    behind = {cid: _behind(county, asked, [s for s in statuses if s.community_id == cid])
              for cid in communities}
    if len(communities) > 1:
        lines = [_county_head(ctx, asked, reading)]
        order = sorted(communities, key=lambda c: (not behind[c], c))
        for cid in order:
            names = texts.QUERY_NAME_SEP.join(behind[cid])
            lines.append(texts.QUERY_BEHIND_COMMUNITY.format(
                community=county.communities[cid], names=names) if names else
                texts.QUERY_BEHIND_COMMUNITY_NONE.format(community=county.communities[cid]))
        return lines
    [cid] = communities
    names = texts.QUERY_NAME_SEP.join(behind[cid])
    if member:
        head = (texts.QUERY_BEHIND_MEMBER.format(period=asked.label(), activity=activity,
                                                 names=names, reading=reading) if names else
                texts.QUERY_BEHIND_MEMBER_NONE.format(period=asked.label(), activity=activity,
                                                      reading=reading))
    else:
        head = (texts.QUERY_BEHIND.format(period=asked.label(), activity=activity, names=names,
                                          reading=reading) if names else
                texts.QUERY_BEHIND_NONE.format(period=asked.label(), activity=activity,
                                               reading=reading))
    lines = [] if member else _community_lines(ctx, county, asked, statuses, cid)
    return [*lines, head,
            *_school_lines(county, asked, [s for s in statuses if s.community_id == cid])]


def _behind(county: County, asked: Asked, statuses: list[QuotaStatus]) -> list[str]:
    if asked.reading == "member_school":
        return [county.schools[s.school_id].name for s in statuses
                if s.school_id is not None and s.done < max(s.need, 1)]
    return [county.schools[sid].name for s in statuses for sid in s.behind]


def _school_lines(county: County, asked: Asked, statuses: list[QuotaStatus]) -> list[str]:
    """One line per school, those behind first (then in the community's school order)."""
    if asked.reading == "member_school":
        rows = sorted((s for s in statuses if s.school_id is not None),
                      key=lambda s: s.done >= max(s.need, 1))
        return [texts.QUERY_SCHOOL_QUOTA_LINE.format(
            school=county.schools[s.school_id].name, count=s.done, need=s.need,
            status=_status(s.done, s.need, asked.finished)) if asked.rule is not None else
            texts.QUERY_SCHOOL_LINE.format(school=county.schools[s.school_id].name,
                                           count=s.done)
            for s in rows if s.school_id is not None]
    [status] = statuses
    rows_ = sorted(status.schools, key=lambda row: row[1] > 0)
    return [texts.QUERY_SCHOOL_LINE.format(school=county.schools[sid].name, count=n)
            for sid, n in rows_]


async def _everything(ctx: Context, county: County, scope: Scope, asked: Asked) -> list[str]:
    """No activity named: sign-ins when asked about, else every activity of the scope."""
    start, end = asked.period.start, asked.period.end
    if scope.school_id is not None:
        name = county.schools[scope.school_id].name
    elif len(scope.communities) == 1:
        name = county.communities[scope.communities[0]]
    else:
        name = texts.QUERY_COUNTY
    if any(w in ctx.msg.text for w in ATTENDANCE_WORDS):
        count = 0
        if scope.school_id is not None:
            count = await count_attendance(session=ctx.session, start=start, end=end,
                                           school_id=scope.school_id)
        else:
            for cid in scope.communities:
                count += await count_attendance(session=ctx.session, start=start, end=end,
                                                community_id=cid)
        return [texts.QUERY_ATTENDANCE.format(scope=name, period=asked.label(), count=count)]
    counts: dict[str | None, int] = {}
    if scope.school_id is not None:
        for (sid, code), n in (await taking_part(session=ctx.session, start=start,
                                                  end=end)).items():
            if sid == scope.school_id:
                counts[code] = counts.get(code, 0) + n
    else:
        statuses = await standing(
            session=ctx.session, county=county, communities=scope.communities,
            periods={asked.period.kind: asked.period},
            quotas=[Quota(code, 0, asked.period.kind) for code in _all_codes(ctx)])
        for s in statuses:
            if s.done:
                counts[s.quota.activity] = counts.get(s.quota.activity, 0) + s.done
    total = sum(counts.values())
    if total == 0:
        return [texts.QUERY_NOTHING.format(scope=name, period=asked.label())]
    return [texts.QUERY_ALL.format(scope=name, period=asked.label(), count=total,
                                   detail=_detail(ctx, counts))]


def _all_codes(ctx: Context) -> list[str]:
    return sorted(ctx.services.activity_names)


def _detail(ctx: Context, counts: dict[str | None, int]) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    return texts.QUERY_DETAIL.format(items=texts.QUERY_NAME_SEP.join(
        texts.QUERY_DETAIL_ITEM.format(activity=ctx.activity_name(code), count=n)
        for code, n in ranked))


# --- one person's own entries ---------------------------------------------------------------


async def _person(ctx: Context) -> Member | str | None:
    """The teacher asked about by name (just the name when the roster has nobody of that
    name), or the asker for 我; None for any other scope."""
    assert ctx.member is not None
    if ctx.parsed.name and ctx.parsed.by != "member":
        found = await members_named(session=ctx.session, name=ctx.parsed.name)
        if not sees_whole_county(ctx.member):
            # A person's figures stay within the asker's community.
            own = await school_community(session=ctx.session, school_id=ctx.member.school_id)
            found = [m for m in found if m.id == ctx.member.id or await school_community(
                session=ctx.session, school_id=m.school_id) == own]
        if not found:
            return ctx.parsed.name
        same = [m for m in found if m.school_id == ctx.member.school_id]
        return (same or found)[0]
    if OWN.search(ctx.msg.text):
        return ctx.member
    return None


async def _person_answer(ctx: Context, person: Member) -> None:
    """Reports the person is a reporter of (registrant or joined), and their sign-ins."""
    assert person.id is not None
    asked = _asked(ctx)
    start, end = asked.period.start, asked.period.end
    checkins = await count_attendance(session=ctx.session, start=start, end=end,
                                      member_id=person.id)
    if asked.codes is None and any(w in ctx.msg.text for w in ATTENDANCE_WORDS):
        ctx.reply(texts.QUERY_PERSON_ATTENDANCE.format(name=person.name, period=asked.label(),
                                                       count=checkins))
        return
    counts = await reported_by(session=ctx.session, member_id=person.id, start=start, end=end,
                               codes=asked.codes)
    if asked.codes is not None:
        ctx.reply(texts.QUERY_PERSON_ACTIVITY.format(
            name=person.name, period=asked.label(),
            activity=_activity_label(ctx, asked.codes), count=sum(counts.values())))
        return
    total = sum(counts.values())
    ctx.reply(texts.QUERY_PERSON_ALL.format(name=person.name, period=asked.label(), count=total,
                                            detail=_detail(ctx, counts) if total else "",
                                            checkins=checkins))
