"""What the pages show, as plain data, every figure from handlers.standing.

The chat's answers, the digests and the exports count through `standing`; the pages read the
same statuses and only add a reading of pace: a quota not yet met is on track while its
figure keeps up with the share of the period gone by, else behind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from handlers.ledger.model import EventRow
from handlers.periods import Period, PeriodOf, add_months
from handlers.quotas import Quota
from handlers.standing import County, QuotaStatus, standing
from storage.events import upcoming_plans
from storage.models import Activity, ActivityReport
from storage.photos import photos_of

# The periods the county page shows; the community and school pages add the school year.
COUNTY_KINDS = ("month", "quarter", "semester")
SCOPE_KINDS = ("month", "quarter", "semester", "year")
RECENT = 12
RECENT_DAYS = 62


def pace(status: QuotaStatus, today: dt.date) -> str:
    """met / on_track / behind: not yet met is on track while done keeps up with the share
    of the period gone by (rounded down), behind once it falls short or the period is over."""
    if status.met:
        return "met"
    period = status.period
    if today >= period.end:
        return "behind"
    length = (period.end - period.start).days
    gone = min(max((today - period.start).days + 1, 0), length)
    return "on_track" if status.done >= math.floor(status.need * gone / length) else "behind"


def worst(states: Sequence[str]) -> str:
    for state in ("behind", "on_track"):
        if state in states:
            return state
    return "met"


def term_months(period_of: PeriodOf, today: dt.date) -> list[dt.date]:
    """The first days of the months of this term so far: from the month its classes begin, not
    the start of its counting window, whose vacation months would show as monthly shortfalls
    (spec/domain.md: quotas pause in vacations). None before the term begins."""
    term = period_of("term", today)
    out = []
    day = term.start.replace(day=1)
    while day <= today and day < term.end:
        out.append(day)
        day = add_months(day, 1)
    return out


def current_periods(period_of: PeriodOf, today: dt.date,
                    kinds: Sequence[str]) -> dict[str, Period]:
    return {kind: period_of(kind, today) for kind in kinds}


@dataclass(frozen=True)
class Cell:
    """One rule for one community: its figure, or for a per-member-school rule how many
    member schools met it."""

    done: int
    need: int
    state: str
    schools: bool = False  # done/need count member schools


@dataclass(frozen=True)
class CommunityRow:
    community_id: int
    name: str
    cells: tuple[Cell | None, ...]
    met: int  # community rules met, this bundle
    total: int
    weakest: str  # the member school with the fewest of its own rules met ("" if none)
    weakest_met: int
    weakest_total: int


@dataclass(frozen=True)
class CountyView:
    rules: tuple[tuple[Quota, Period], ...]
    rows: tuple[CommunityRow, ...]


def _rules(quotas: Sequence[Quota], periods: Mapping[str, Period]) -> list[tuple[Quota, Period]]:
    kinds = list(periods)
    chosen = [q for q in quotas if q.period in periods]
    chosen.sort(key=lambda q: kinds.index(q.period))
    return [(q, periods[q.period]) for q in chosen]


async def county_view(factory: async_sessionmaker[AsyncSession], *, county: County,
                      quotas: Sequence[Quota], period_of: PeriodOf, today: dt.date,
                      communities: Sequence[int] | None = None) -> CountyView:
    """Every community × every rule of this month, quarter and term, with the bundle. Each
    period is counted by `standing` on a connection of its own, side by side: the page takes
    as long as the longest period, not the three together."""
    periods = current_periods(period_of, today, COUNTY_KINDS)
    rules = _rules(quotas, periods)

    async def counted(kind: str) -> list[QuotaStatus]:
        async with factory() as session:
            return await standing(session=session, county=county,
                                  quotas=[q for q, _ in rules if q.period == kind],
                                  periods={kind: periods[kind]}, communities=communities)

    statuses = [s for part in await asyncio.gather(*(counted(k) for k in periods)) for s in part]
    by: dict[tuple[int, Quota], list[QuotaStatus]] = {}
    for s in statuses:
        by.setdefault((s.community_id, s.quota), []).append(s)
    rows = []
    cids = sorted(county.communities) if communities is None else sorted(communities)
    for cid in cids:
        cells: list[Cell | None] = []
        own: dict[int, list[bool]] = {}
        met = total = 0
        for q, _ in rules:
            found = by.get((cid, q), [])
            if not found:
                cells.append(None)
            elif q.scope == "community":
                [s] = found
                cells.append(Cell(s.done, s.need, pace(s, today)))
                met += s.met
                total += 1
            else:
                for s in found:
                    own.setdefault(s.school_id or 0, []).append(s.met)
                cells.append(Cell(sum(s.met for s in found), len(found),
                                  worst([pace(s, today) for s in found]), schools=True))
        weakest = min(own.items(), key=lambda kv: (sum(kv[1]) / len(kv[1]), sum(kv[1])),
                      default=None)
        rows.append(CommunityRow(
            cid, county.communities[cid], tuple(cells), met, total,
            county.schools[weakest[0]].name if weakest else "",
            sum(weakest[1]) if weakest else 0, len(weakest[1]) if weakest else 0))
    return CountyView(tuple(rules), tuple(rows))


@dataclass(frozen=True)
class Line:
    """A rule's figure on a community or school page."""

    quota: Quota
    period: Period
    done: int
    need: int
    state: str
    missing: tuple[str, ...] = ()
    # Community-wide rules: each school's events taken part in (school name, count).
    schools: tuple[tuple[str, int], ...] = ()
    school: str = ""  # a per-member-school rule's school


@dataclass(frozen=True)
class MonthBar:
    month: dt.date
    done: int
    need: int


@dataclass(frozen=True)
class Entry:
    row: EventRow
    photo_ids: tuple[int, ...]


@dataclass
class ScopeView:
    name: str
    community_id: int
    school_id: int | None
    lines: list[Line] = field(default_factory=list)
    # Activity name → per month of the term so far: events against the monthly quota.
    months: dict[str, list[MonthBar]] = field(default_factory=dict)
    plans: list[Activity] = field(default_factory=list)
    recent: list[Entry] = field(default_factory=list)


def _line(s: QuotaStatus, county: County, today: dt.date, school_id: int | None) -> Line:
    parts = tuple((county.schools[sid].name, n) for sid, n in s.schools
                  if school_id is None or sid == school_id)
    return Line(s.quota, s.period, s.done, s.need, pace(s, today), s.missing, parts,
                county.schools[s.school_id].name if s.school_id is not None else "")


async def scope_view(session: AsyncSession, *, county: County, community_id: int,
                     school_id: int | None, quotas: Sequence[Quota], period_of: PeriodOf,
                     today: dt.date, activity_names: Mapping[str, str],
                     recent: Sequence[EventRow], photo_owner: int | None = None) -> ScopeView:
    """A community's page (school_id None) or one school's: its rules this month, quarter,
    term and school year, months of the term against monthly rules, plans and recent entries.
    A school's page shows its own per-school rules and its part in community-wide ones."""
    name = (county.schools[school_id].name if school_id is not None
            else county.communities[community_id])
    view = ScopeView(name, community_id, school_id)
    periods = current_periods(period_of, today, SCOPE_KINDS)
    statuses = await standing(session=session, county=county, quotas=quotas, periods=periods,
                              per_school=True, communities=[community_id])
    order = list(periods)
    for s in sorted(statuses, key=lambda s: order.index(s.period.kind)):
        if school_id is not None and s.school_id not in (None, school_id):
            continue
        view.lines.append(_line(s, county, today, school_id))
    monthly = [q for q in quotas if q.period == "month" and not q.cover
               and q.scope == "community"]
    if monthly:
        for first in term_months(period_of, today):
            month = period_of("month", first)
            for s in await standing(session=session, county=county, quotas=monthly,
                                    periods={"month": month}, per_school=school_id is not None,
                                    communities=[community_id]):
                label = "/".join(activity_names.get(c, c) for c in s.quota.codes)
                done = s.done if school_id is None else dict(s.schools).get(school_id, 0)
                view.months.setdefault(label, []).append(MonthBar(first, done, s.need))
    view.plans = [p for p in await upcoming_plans(session=session, community_id=community_id,
                                                   activity=None, day=None, today=today)
                  if school_id is None or p.school_id in (None, school_id)][:RECENT]
    photos: dict[int, list[int]] = {}
    for photo in await photos_of(session=session, activity_ids=[r.id for r in recent]):
        if photo.id is not None and (photo_owner is None or photo.member_id == photo_owner):
            photos.setdefault(photo.activity_id, []).append(photo.id)
    view.recent = [Entry(r, tuple(photos.get(r.id, ()))) for r in recent]
    return view


async def own_event_ids(session: AsyncSession, member_id: int) -> set[int]:
    """Events a teacher reported (live reports): their own entries."""
    rows = await session.execute(select(col(ActivityReport.activity_id)).where(
        col(ActivityReport.member_id) == member_id, col(ActivityReport.withdrawn).is_(False)))
    return {int(a) for a in rows.scalars()}
