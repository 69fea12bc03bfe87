"""Quota progress for every community (and member school) at once, from grouped counts.

`quota_progress` issues one GROUP BY per period (and one DISTINCT per coverage rule set)
for the whole county, then folds the rows in memory; it never loads activities.
Imports scheduler.queries, scheduler.calendar and handlers.quotas.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.quotas import Quota
from scheduler.calendar import Period, SchoolCalendar
from scheduler.queries import Roster, count_done, covered_subjects


@dataclass(frozen=True)
class QuotaStatus:
    quota: Quota
    period: Period
    community_id: int
    school_id: int | None  # set for member_school rules
    done: int  # activities, or subjects covered for a coverage rule
    need: int  # the minimum, or the number of subjects to cover
    missing: tuple[str, ...] = ()  # subjects not yet covered

    @property
    def met(self) -> bool:
        return self.done >= self.need

    @property
    def left(self) -> int:
        return max(self.need - self.done, 0)


async def quota_progress(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, quotas: Iterable[Quota],
    day: dt.date, kinds: Iterable[str] | None = None, until: dt.date | None = None,
) -> list[QuotaStatus]:
    """Every rule's status in the period around `day` (counted up to `until`, exclusive)."""
    wanted = set(kinds) if kinds is not None else None
    by_kind: dict[str, list[Quota]] = defaultdict(list)
    for q in quotas:
        if wanted is None or q.period in wanted:
            by_kind[q.period].append(q)
    out: list[QuotaStatus] = []
    for kind, rules in by_kind.items():
        period = calendar.period(kind, day)
        end = min(period.end, until) if until is not None else period.end
        codes = sorted({c for q in rules for c in q.codes})
        counts = await count_done(session=session, start=period.start, end=end, codes=codes)
        cover_codes = sorted({c for q in rules if q.cover for c in q.codes})
        covered = (await covered_subjects(session=session, start=period.start, end=end,
                                          codes=cover_codes)) if cover_codes else set()
        index = _Index(counts, covered)
        for q in rules:
            out.extend(_statuses(q, period, roster, index))
    return out


class _Index:
    """Grouped rows folded by community and by school, so each rule is a dict look-up."""

    def __init__(self, counts: dict[tuple[int | None, int | None, str | None], int],
                 covered: set[tuple[int | None, int | None, str | None, str]]) -> None:
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

    def count(self, codes: tuple[str, ...], community_id: int, school_id: int | None) -> int:
        if school_id is None:
            return sum(self.by_community.get((community_id, a), 0) for a in codes)
        return sum(self.by_school.get((school_id, a), 0) for a in codes)

    def subjects(self, codes: tuple[str, ...], community_id: int,
                 school_id: int | None) -> set[str]:
        table, key = ((self.cov_community, community_id) if school_id is None
                      else (self.cov_school, school_id))
        return set().union(*(table.get((key, a), set()) for a in codes))


def _statuses(q: Quota, period: Period, roster: Roster, index: _Index) -> list[QuotaStatus]:
    out = []
    for cid in sorted(roster.communities):
        schools = roster.schools_of(cid)
        if q.scope == "community":
            scopes: list[tuple[int | None, list[int]]] = [(None, [s.id for s in schools])]
        else:
            scopes = [(s.id, [s.id]) for s in schools if not s.is_lead]
        for school_id, ids in scopes:
            if q.cover:
                need = set().union(*(roster.subjects.get(i, set()) for i in ids))
                missing = tuple(sorted(need - index.subjects(q.codes, cid, school_id)))
                out.append(QuotaStatus(q, period, cid, school_id, len(need) - len(missing),
                                       len(need), missing))
            else:
                out.append(QuotaStatus(q, period, cid, school_id,
                                       index.count(q.codes, cid, school_id), q.minimum))
    return out
