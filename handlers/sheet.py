"""Today's sign-in sheet (签到簿) of a planned event, asked for in chat (今天培训签到情况怎么样).

Who is expected follows spec/conversation.md ("Who a plan invites"): the schools the plan's
words name (各校 / 两校 / 全体: every school of the community), else the venue school (the
community when the plan names no venue), narrowed to the plan's subject; never principals or
the organiser; plus anyone who signed in or asked for leave. The scheduler's end-of-event
summary reads the same sheet, so the two never differ. Names of the late and the missing go only to
a private chat with the organiser, a principal of that community or an admin; anyone else,
and every group, gets counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import texts
from handlers.format import md
from handlers.nlu.lexicon import SUBJECTS
from handlers.permissions import may_see_sheet
from handlers.routing import Context
from handlers.standing import County
from storage.activities import (
    planned_on,
    sheet_marks,
    sheet_of,
    teacher_columns,
    teachers_of,
)
from storage.models import Activity, Attendance, Member, Role, School
from storage.roster import members_by_id, schools_in, schools_of

ATTENDANCE_WORDS = ("签到", "打卡", "考勤")
# A plan that says these invites every school of its community.
EVERY_SCHOOL = ("各校", "两校", "三校", "各成员校", "各学校", "所有学校", "教共体全体")
MAX_NAMES = 12


def wants_sheet(ctx: Context) -> bool:
    """签到 asked about today (今天签到情况), or who has not signed in (谁还没签到)."""
    if not any(w in ctx.msg.text for w in ATTENDANCE_WORDS):
        return False
    period = ctx.parsed.period
    return period == "today" or (ctx.parsed.by == "member" and period is None)


@dataclass(frozen=True)
class Sheet:
    signed: list[str]
    late: list[str]
    early: list[str]
    leave: list[str]
    missing: list[str]


def names_list(names: list[str]) -> str:
    shown = texts.QUERY_NAME_SEP.join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        return texts.SHEET_NAMES_MORE.format(names=shown, n=len(names))
    return shown


@dataclass(frozen=True)
class Invitation:
    schools: list[int]
    subjects: frozenset[str]  # empty: every subject


def _subjects_in(text: str) -> frozenset[str]:
    return frozenset(canonical for canonical, aliases in SUBJECTS.items()
                     if any(word in text for word in (canonical, *aliases)))


# What may stand between a school's name and 老师/教师 when they name its teachers
# ("县实小语文、数学老师", "泗顶小学的青年教师"), once subjects are taken out; anything else
# ("县实小开展教师培训") is a sentence going on, not a school's teachers.
_TEACHER_QUALIFIERS = re.compile(r"(?:的|全体|全部|部分|骨干|青年|年轻|新任?|[、,，和与及]|\s)*")


def _names_teachers(between: str) -> bool:
    for word in sorted({w for c, aliases in SUBJECTS.items() for w in (c, *aliases)},
                       key=len, reverse=True):
        between = between.replace(word, "")
    return _TEACHER_QUALIFIERS.fullmatch(between) is not None


async def invitation(session: AsyncSession, plan: Activity) -> Invitation:
    """Who a plan invites: the teachers a school's name introduces ("县实小语文、数学老师送课"),
    else every school of its community for 各校 / 两校…, else the schools its words name,
    else its venue (the whole community without one); narrowed to the plan's subject."""
    return _invitation(plan, await schools_in(session=session, community_id=plan.community_id))


def _invitation(plan: Activity, community_schools: list[School]) -> Invitation:
    """`invitation` from the schools of the plan's community (by id)."""
    schools = [s for s in community_schools if s.id is not None]
    everyone = [s.id for s in schools if s.id is not None]
    text = plan.source_text or ""
    subject = frozenset({plan.subject}) if plan.subject else frozenset()
    for s in schools:
        for name in sorted((s.name, *(s.aliases or ())), key=len, reverse=True):
            for teachers in re.finditer(
                    re.escape(name) + r"(?P<who>[^，。；,;！!]{0,12}?)(?:老师|教师)", text):
                if s.id is not None and _names_teachers(teachers.group("who")):
                    return Invitation([s.id], _subjects_in(teachers.group("who")) or subject)
    if any(word in text for word in EVERY_SCHOOL):
        return Invitation(everyone, subject)
    named = [s.id for s in schools if s.id is not None
             and any(n and n in text for n in (s.name, *(s.aliases or ())))]
    if named:
        return Invitation(named, subject)
    return Invitation([plan.school_id] if plan.school_id is not None else everyone, subject)


async def is_invited(session: AsyncSession, plan: Activity, member: Member) -> bool:
    """Whether a plan expects this person (its organiser and principals are no invitees)."""
    invited = await invitation(session, plan)
    return (member.role == Role.TEACHER and member.school_id in invited.schools
            and member.id != plan.reporter_id
            and (not invited.subjects or bool(invited.subjects & set(member.subjects or ()))))


async def sheet(ctx: Context, county: County, plan: Activity) -> Sheet:
    return await sheet_for(ctx.session, plan)


@dataclass(frozen=True)
class SheetPeople:
    """A sign-in sheet by member id, with the rows it was read from: the chat's counts and
    the exported 签到簿 come from this one reading."""

    signed: list[int]
    late: list[int]
    early: list[int]
    leave: list[int]
    missing: list[int]
    members: dict[int, Member]
    rows: list[Attendance]


async def sheet_for(session: AsyncSession, plan: Activity,
                    asked: Invitation | None = None) -> Sheet:
    """The sign-in sheet of one planned event, from the record (`asked`: its invitation,
    when the caller already has it)."""
    return _named(await sheet_people(session, plan, asked))


def _named(people: SheetPeople) -> Sheet:
    def names(ids: list[int]) -> list[str]:
        return [people.members[m].name if m in people.members else "" for m in ids]

    return Sheet(names(people.signed), names(people.late), names(people.early),
                 names(people.leave), names(people.missing))


@dataclass(frozen=True)
class _Teacher:
    """The columns of a teacher a summary reads (ORM objects cost most of a batch)."""

    id: int | None
    name: str
    school_id: int | None
    subjects: list[str] | None


@dataclass(frozen=True)
class _Mark:
    """The columns of an attendance row a summary reads."""

    member_id: int
    type: str
    late: bool
    early: bool


async def sheets_for(session: AsyncSession,
                     plans: list[Activity]) -> dict[int, tuple[Invitation, Sheet]]:
    """`invitation` and `sheet_for` of each plan (by id), from a few queries for all of them
    and columns rather than ORM objects: the end-of-event summaries of a beat cover every
    event that ended in it, a hundred at 16:00 in a county of a thousand schools."""
    plans = [p for p in plans if p.id is not None]
    if not plans:
        return {}
    by_community: dict[int, list[School]] = {}
    for school in await schools_of(session=session, community_ids=[
            p.community_id for p in plans if p.community_id is not None]):
        by_community.setdefault(school.community_id, []).append(school)
    asked = {p.id: _invitation(p, by_community.get(p.community_id, [])
                               if p.community_id is not None else [])
             for p in plans}
    teachers = [_Teacher(*row) for row in await teacher_columns(
        session=session, school_ids={sid for a in asked.values() for sid in a.schools})]
    marks: dict[int, list[_Mark]] = {p.id: [] for p in plans if p.id is not None}
    for activity_id, member_id, kind, late, early in await sheet_marks(
            session=session, activity_ids=list(marks)):
        marks[activity_id].append(_Mark(member_id, kind, late, early))
    by_school: dict[int | None, list[_Teacher]] = {}
    for t in teachers:
        by_school.setdefault(t.school_id, []).append(t)
    names: dict[int, str] = {t.id: t.name for t in teachers if t.id is not None}
    names.update({mid: m.name for mid, m in (await _members(session, sorted(
        {r.member_id for rs in marks.values() for r in rs if r.member_id not in names}))).items()})
    out: dict[int, tuple[Invitation, Sheet]] = {}
    for p in plans:
        assert p.id is not None
        theirs = [t for sid in set(asked[p.id].schools) for t in by_school.get(sid, [])]
        invited = _invited(p, asked[p.id], sorted(theirs, key=lambda t: t.id or 0))
        ids = _tally(marks[p.id], [t.id for t in invited])

        def named(members: list[int]) -> list[str]:
            return [names.get(m, "") for m in members]

        out[p.id] = (asked[p.id], Sheet(*(named(group) for group in ids)))
    return out


async def sheet_people(session: AsyncSession, plan: Activity,
                       asked: Invitation | None = None) -> SheetPeople:
    """Who signed in, was late, left early, asked for leave or is missing, by member id."""
    assert plan.id is not None
    rows = await sheet_of(session=session, activity_id=plan.id)
    asked = asked or await invitation(session, plan)
    invited = _invited(plan, asked, await teachers_of(session=session, school_ids=asked.schools))
    members = {m.id: m for m in invited if m.id is not None}
    members.update(await _members(session, [r.member_id for r in rows
                                            if r.member_id not in members]))
    return _people(rows, invited, members)


_T = TypeVar("_T", Member, _Teacher)


def _invited(plan: Activity, asked: Invitation, teachers: list[_T]) -> list[_T]:
    """The invitation's teachers (teachers_of its schools, by id) the plan expects."""
    return [m for m in teachers if m.id != plan.reporter_id
            and (not asked.subjects or bool(asked.subjects & set(m.subjects or ())))]


def _people(rows: list[Attendance], invited: list[Member],
            members: dict[int, Member]) -> SheetPeople:
    """The sheet from its rows (at, id order), the invited and everyone on it by id."""
    return SheetPeople(*_tally(rows, [m.id for m in invited]), members, rows)


def _tally(rows: Sequence[Attendance] | Sequence[_Mark],
           invited: list[int | None]) -> tuple[list[int], list[int], list[int], list[int],
                                               list[int]]:
    """(signed, late, early, leave, missing) member ids from the rows (at, id order) and
    the invited (by id)."""

    def who(kind: str, flag: str | None = None) -> list[int]:
        out: list[int] = []
        for r in rows:
            if r.type == kind and (flag is None or getattr(r, flag)) and r.member_id not in out:
                out.append(r.member_id)
        return out

    signed = who("checkin")
    # Leave matters for those expected; a colleague's note about another plan is no absence.
    expected = set(invited)
    leave = [m for m in who("leave") if m not in signed and m in expected]
    missing = [m for m in invited if m is not None and m not in signed and m not in leave]
    return signed, who("checkin", "late"), who("checkout", "early"), leave, missing


async def _members(session: AsyncSession, ids: list[int]) -> dict[int, Member]:
    """People on the sheet who were not invited, in one query."""
    return {m.id: m for m in await members_by_id(session=session, ids=ids) if m.id is not None}


def _entitled(ctx: Context, county: County, plan: Activity) -> bool:
    """The organiser, a principal of the plan's community, or an admin (privately only)."""
    member = ctx.member
    assert member is not None
    school = county.schools.get(member.school_id or -1)
    return may_see_sheet(member=member, plan=plan,
                         community_id=school.community_id if school is not None else None)


async def answer_sheet(ctx: Context, county: County, communities: list[int]) -> None:
    today = ctx.now.date()
    plans: list[Activity] = []
    for cid in communities:
        plans += await planned_on(session=ctx.session, community_id=cid, day=today)
    if ctx.parsed.activity is not None:
        plans = [p for p in plans if p.activity == ctx.parsed.activity]
    if not plans:
        where = county.communities[communities[0]] if len(communities) == 1 else ""
        ctx.reply(texts.SHEET_NONE.format(date=texts.PERIODS["today"], community=where))
        return
    lines: list[str] = []
    for plan in plans:
        got = await sheet(ctx, county, plan)
        school = county.schools.get(plan.school_id or -1)
        what = f"{plan.subject or ''}{ctx.activity_name(plan.activity)}"
        if school is not None:
            what += f"（{school.name}）"
        lines.append(texts.SHEET.format(date=md(plan.date), what=what, signed=len(got.signed),
                                        late=len(got.late), early=len(got.early),
                                        leave=len(got.leave), missing=len(got.missing)))
        if not (got.late or got.missing):
            continue
        if not _entitled(ctx, county, plan):
            continue
        if ctx.msg.is_group:
            lines.append(texts.SHEET_NAMES_PRIVATE)
            continue
        if got.late:
            lines.append(texts.SHEET_LATE.format(names=names_list(got.late)))
        if got.missing:
            lines.append(texts.SHEET_MISSING.format(names=names_list(got.missing)))
    ctx.reply("\n".join(lines))

