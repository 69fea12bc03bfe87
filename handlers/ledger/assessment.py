"""考核 (bundled term assessment, spec/conversation.md) of one community or all of them.

For each rule of the term (semester rules) and of its school year (year rules): met or not
by the community, by its lead school and by each member school, each "per the reading" of
the spec: a per-member-school rule is the school's own figure (the community meets it when
every member school does); a community-wide counting rule is met by a school that took part
in at least one counted event; a community-wide coverage rule belongs to the community alone.
Rotation in people is one more line: the lead school's target is the community's too.
The bundled line: rules met by the community / all its rules, and by its weakest member
school (fewest met, by share; the first in school order on a tie).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.exchange import exchange_totals
from handlers.ledger.figures import quota_rows
from handlers.ledger.model import Assessment, Bundled, QuotaRow, SchoolAssessment
from handlers.ledger.scope import UnknownScope, county_name
from handlers.periods import Period, PeriodOf
from handlers.quotas import ExchangeTargets, Quota
from handlers.standing import County, SchoolRow, load_county

TERM = re.compile(r"^(?P<year>\d{4})-(?P<season>autumn|spring)$")
TERM_KINDS = ("semester", "year")


class UnknownTerm(ValueError):
    """A term label that is not `YYYY-autumn` / `YYYY-spring` of the calendar."""


def term_period(term: str, period_of: PeriodOf) -> Period:
    """The counting window of a term named like the calendar's labels (2026-autumn)."""
    m = TERM.match(term.strip())
    if m is None:
        raise UnknownTerm(f"expected a term like 2026-autumn or 2027-spring, got {term!r}")
    year = int(m["year"])
    middle = dt.date(year, 11, 15) if m["season"] == "autumn" else dt.date(year, 5, 15)
    period = period_of("semester", middle)
    if period.label != term.strip():
        raise UnknownTerm(f"the school calendar has no term {term!r}")
    return period


def _school_rows(school: SchoolRow, rows: Sequence[QuotaRow],
                 rules: Sequence[tuple[Period, Quota]]) -> list[QuotaRow]:
    out = []
    for period, quota in rules:
        if quota.cover and quota.scope == "community":
            continue
        if quota.scope == "member_school" and school.is_lead:
            continue
        out += [r for r in rows if r.quota == quota and r.period == period
                and r.school_id == school.id]
    return out


def _community_rows(cid: int, members: Sequence[SchoolRow], rows: Sequence[QuotaRow],
                    rules: Sequence[tuple[Period, Quota]], today: dt.date) -> list[QuotaRow]:
    out = []
    for period, quota in rules:
        if quota.scope == "community":
            out += [r for r in rows if r.quota == quota and r.period == period
                    and r.school_id is None]
            continue
        each = [r for r in rows if r.quota == quota and r.period == period
                and r.school_id in {s.id for s in members}]
        if each:
            out.append(QuotaRow(quota, period, cid, None, sum(r.met for r in each), len(each),
                                (), today >= period.end, reading="schools"))
    return out


def _bundled(cid: int, community: SchoolAssessment,
             members: Sequence[SchoolAssessment]) -> Bundled:
    weakest = min(members, key=lambda p: (p.met / p.total if p.total else 1.0, p.met),
                  default=None)
    return Bundled(cid, community.met, community.total,
                   weakest.school_id if weakest else None,
                   weakest.met if weakest else 0, weakest.total if weakest else 0)


async def assessment_data(
    session: AsyncSession, *, term: str, community_id: int | None, quotas: Sequence[Quota],
    period_of: PeriodOf, today: dt.date, targets: ExchangeTargets | None = None,
    activity_names: Mapping[str, str] | None = None,
) -> Assessment:
    """The assessment of `term` (2026-autumn) for one community, or every one (None);
    UnknownTerm for a term the calendar does not have."""
    return await assessment_of(session, term=term_period(term, period_of),
                               community_id=community_id, quotas=quotas, period_of=period_of,
                               today=today, targets=targets, activity_names=activity_names)


async def assessment_of(
    session: AsyncSession, *, term: Period, community_id: int | None, quotas: Sequence[Quota],
    period_of: PeriodOf, today: dt.date, targets: ExchangeTargets | None = None,
    activity_names: Mapping[str, str] | None = None,
) -> Assessment:
    """The assessment of a term's counting window (a semester Period of `period_of`)."""
    county: County = await load_county(session=session)
    if community_id is not None and community_id not in county.communities:
        raise UnknownScope(f"no community #{community_id}")
    semester = term
    year = period_of("year", semester.end - dt.timedelta(days=1))
    cids = [community_id] if community_id is not None else sorted(county.communities)
    rules_in_force = [q for q in quotas if q.period in TERM_KINDS]
    rows = await quota_rows(session, county=county, quotas=rules_in_force,
                            periods=[semester, year], communities=cids, today=today)
    rules = [(p, q) for p in (semester, year) for q in rules_in_force if q.period == p.kind]
    exchanges = {x.school_id: x for x in await exchange_totals(
        session, county=county, year=year, communities=cids,
        targets=targets or ExchangeTargets(), activity_names=activity_names or {},
        today=today)}
    parts: list[SchoolAssessment] = []
    bundled: list[Bundled] = []
    for cid in cids:
        schools = county.schools_of(cid)
        members = [s for s in schools if not s.is_lead]
        lead = next((s for s in schools if s.is_lead), None)
        mine = [r for r in rows if r.community_id == cid]
        community = SchoolAssessment(cid, None, tuple(_community_rows(cid, members, mine, rules,
                                                                      today)),
                                     exchanges.get(lead.id) if lead else None)
        each = [SchoolAssessment(cid, s.id, tuple(_school_rows(s, mine, rules)),
                                 exchanges.get(s.id)) for s in schools]
        parts += [community, *each]
        bundled.append(_bundled(cid, community, [p for p in each if p.school_id in
                                                 {s.id for s in members}]))
    name = (county.communities[community_id] if community_id is not None
            else await county_name(session))
    return Assessment(semester, year, name, dict(county.communities),
                      {s.id: s.name for s in county.schools.values()},
                      {s.id: s.is_lead for s in county.schools.values()},
                      dict(activity_names or {}), parts, bundled)
