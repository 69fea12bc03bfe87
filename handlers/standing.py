"""Quota standing: the one place that counts a quota, for queries, digests and reminders.

Each rule of handlers.quotas is counted over a Period (made by the caller: the scheduler's
school calendar, or a query's words) from a few county-wide GROUP BYs, folded in memory per
community and per school, so the same question never gets two figures. A school's own figure
follows spec/conversation.md: for a per-member-school rule (送教下乡, 视导) the events held
at it; for a community-wide rule the events it took part in (venue or a reporter's school),
which makes "behind" simply a figure of 0.
Imports handlers.quotas, handlers.periods and storage only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from handlers.periods import Period
from handlers.quotas import Quota
from storage.activities import Near, count_done, covered_subjects, taking_part
from storage.models import Community, Member, Role, School


@dataclass(frozen=True)
class SchoolRow:
    id: int
    name: str
    community_id: int
    is_lead: bool


@dataclass
class County:
    """Communities and their schools (and subjects taught, for coverage rules)."""

    communities: dict[int, str] = field(default_factory=dict)
    schools: dict[int, SchoolRow] = field(default_factory=dict)
    subjects: dict[int, set[str]] = field(default_factory=dict)  # by school
    _by_community: dict[int, list[SchoolRow]] = field(default_factory=dict, repr=False)

    def schools_of(self, community_id: int) -> list[SchoolRow]:
        """Lead school first, then the members by id."""
        if not self._by_community:
            for s in sorted(self.schools.values(), key=lambda s: (not s.is_lead, s.id)):
                self._by_community.setdefault(s.community_id, []).append(s)
        return self._by_community.get(community_id, [])


def _id(value: Any) -> int:
    """Primary keys come back as `int | None` to the type checker; they are never None."""
    return int(value)


async def load_county(*, session: AsyncSession, county: County | None = None,
                      subjects: bool = True, subjects_of: int | None = None) -> County:
    """Fill `county` (a new one by default) with every community, school and subject taught.
    Reading every teacher's subjects is most of the cost on a large county: `subjects=False`
    reads none (callers without coverage rules), `subjects_of` only one community's (callers
    that count that community alone)."""
    out = county if county is not None else County()
    for cid, name in (await session.execute(select(col(Community.id), col(Community.name)))).all():
        out.communities[_id(cid)] = name
    rows = await session.execute(select(col(School.id), col(School.name),
                                        col(School.community_id), col(School.is_lead)))
    for sid, name, cid, lead in rows.all():
        out.schools[_id(sid)] = SchoolRow(_id(sid), name, cid, bool(lead))
    if subjects:
        # Each school's distinct lists, as text: a county has tens of thousands of teachers
        # and a school a handful of lists, and JSON has no equality on PostgreSQL.
        stmt = (select(col(Member.school_id), cast(col(Member.subjects), Text))
                .where(col(Member.role) == Role.TEACHER, col(Member.active).is_(True),
                       col(Member.school_id).is_not(None)))
        if subjects_of is not None:
            stmt = stmt.where(col(Member.school_id).in_(
                [s.id for s in out.schools.values() if s.community_id == subjects_of]))
        taught = await session.execute(stmt.distinct())
        for sid, subs in taught.all():
            out.subjects.setdefault(_id(sid), set()).update(
                (json.loads(subs) if subs else None) or ())
    out._by_community.clear()
    return out


@dataclass(frozen=True)
class QuotaStatus:
    quota: Quota
    period: Period
    community_id: int
    school_id: int | None  # set for member_school rules
    done: int  # activities, or subjects covered for a coverage rule
    need: int  # the minimum, or the number of subjects to cover
    missing: tuple[str, ...] = ()  # subjects not yet covered
    # For a community-wide counting rule, when asked for: (school, events it took part in),
    # in the community's school order.
    schools: tuple[tuple[int, int], ...] = ()

    @property
    def met(self) -> bool:
        return self.done >= self.need

    @property
    def left(self) -> int:
        return max(self.need - self.done, 0)

    @property
    def behind(self) -> tuple[int, ...]:
        """The schools behind (spec/conversation.md), in school order."""
        if self.school_id is not None:
            return () if self.met else (self.school_id,)
        return tuple(sid for sid, n in self.schools if n == 0)


async def standing(
    *, session: AsyncSession, county: County, quotas: Iterable[Quota],
    periods: Mapping[str, Period], until: dt.date | None = None, per_school: bool = False,
    communities: Iterable[int] | None = None,
) -> list[QuotaStatus]:
    """Every rule's status for each period kind given (counted up to `until`, exclusive,
    when given), for every community or the ones listed. Rules of kinds without a period
    are left out. `per_school` adds each school's figure to community-wide rules."""
    by_kind: dict[str, list[Quota]] = defaultdict(list)
    for q in quotas:
        if q.period in periods:
            by_kind[q.period].append(q)
    cids = sorted(county.communities) if communities is None else sorted(set(communities))
    # Some communities only: read only the rows that can count for them (same figures).
    near = None if communities is None else Near(
        cids, [s.id for cid in cids for s in county.schools_of(cid)])
    out: list[QuotaStatus] = []
    for kind, rules in by_kind.items():
        period = periods[kind]
        end = min(period.end, until) if until is not None else period.end
        codes = sorted({c for q in rules for c in q.codes})
        counts = await count_done(session=session, start=period.start, end=end, codes=codes,
                                  near=near)
        cover_codes = sorted({c for q in rules if q.cover for c in q.codes})
        covered = (await covered_subjects(session=session, start=period.start, end=end,
                                          codes=cover_codes, near=near)) if cover_codes else set()
        part_codes = sorted({c for q in rules if not q.cover and q.scope == "community"
                             for c in q.codes}) if per_school else []
        part = (await taking_part(session=session, start=period.start, end=end,
                                  codes=part_codes, near=near)) if part_codes else {}
        index = _Index(counts, covered, part)
        for q in rules:
            out.extend(_statuses(q, period, county, index, cids, per_school))
    return out


class _Index:
    """Grouped rows folded by community and by school, so each rule is a dict look-up."""

    def __init__(self, counts: dict[tuple[int | None, int | None, str | None], int],
                 covered: set[tuple[int | None, int | None, str | None, str]],
                 part: dict[tuple[int, str | None], int]) -> None:
        self.by_community: dict[tuple[int | None, str | None], int] = defaultdict(int)
        self.by_school: dict[tuple[int | None, str | None], int] = defaultdict(int)
        for (c, s, a), n in counts.items():
            self.by_community[(c, a)] += n
            self.by_school[(s, a)] += n
        self.cov_community: dict[tuple[int | None, str | None], set[str]] = defaultdict(set)
        self.cov_school: dict[tuple[int | None, str | None], set[str]] = defaultdict(set)
        for c, s, a, subj in covered:
            self.cov_community[(c, a)].add(subj)
            self.cov_school[(s, a)].add(subj)
        self.part = part

    def count(self, codes: tuple[str, ...], community_id: int, school_id: int | None) -> int:
        if school_id is None:
            return sum(self.by_community.get((community_id, a), 0) for a in codes)
        return sum(self.by_school.get((school_id, a), 0) for a in codes)

    def taking_part(self, codes: tuple[str, ...], school_id: int) -> int:
        """Events of several codes are distinct events, so their counts add up."""
        return sum(self.part.get((school_id, a), 0) for a in codes)

    def subjects(self, codes: tuple[str, ...], community_id: int,
                 school_id: int | None) -> set[str]:
        table, key = ((self.cov_community, community_id) if school_id is None
                      else (self.cov_school, school_id))
        return set().union(*(table.get((key, a), set()) for a in codes))


def _statuses(q: Quota, period: Period, county: County, index: _Index, cids: list[int],
              per_school: bool) -> list[QuotaStatus]:
    out = []
    for cid in cids:
        schools = county.schools_of(cid)
        if q.scope == "community":
            scopes: list[tuple[int | None, list[int]]] = [(None, [s.id for s in schools])]
        else:
            scopes = [(s.id, [s.id]) for s in schools if not s.is_lead]
        for school_id, ids in scopes:
            if q.cover:
                need = set().union(*(county.subjects.get(i, set()) for i in ids))
                missing = tuple(sorted(need - index.subjects(q.codes, cid, school_id)))
                out.append(QuotaStatus(q, period, cid, school_id, len(need) - len(missing),
                                       len(need), missing))
                continue
            each = (tuple((s.id, index.taking_part(q.codes, s.id)) for s in schools)
                    if per_school and school_id is None else ())
            out.append(QuotaStatus(q, period, cid, school_id,
                                   index.count(q.codes, cid, school_id), q.minimum,
                                   schools=each))
    return out
