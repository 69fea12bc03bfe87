"""指标完成情况: every quota over every period of a range, for communities and their schools.

The figures are handlers.standing's, never counted a second way; this module only chooses the
periods and unfolds each status into rows (a community-wide rule's per-school figure is the
events the school took part in, met with one, as spec/conversation.md reads "behind").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.model import QuotaRow
from handlers.periods import Period, PeriodOf
from handlers.quotas import PERIODS, Quota
from handlers.standing import County, standing


def periods_in(kind: str, start: dt.date, end: dt.date, period_of: PeriodOf) -> list[Period]:
    """The periods of one kind that overlap [start, end] (inclusive), in order."""
    out: list[Period] = []
    day = start
    while day <= end:
        period = period_of(kind, day)
        out.append(period)
        day = max(period.end, day + dt.timedelta(days=1))
    return out


async def quota_rows(
    session: AsyncSession, *, county: County, quotas: Sequence[Quota],
    periods: Iterable[Period], communities: Sequence[int], today: dt.date,
) -> list[QuotaRow]:
    """Rows for each rule over each given period of its kind, community row first, then its
    schools in the community's order; sorted by community, period kind and start, rule."""
    order = {q: i for i, q in enumerate(quotas)}
    out: list[QuotaRow] = []
    for period in periods:
        rules = [q for q in quotas if q.period == period.kind]
        if not rules:
            continue
        statuses = await standing(session=session, county=county, quotas=rules,
                                  periods={period.kind: period}, per_school=True,
                                  communities=communities)
        finished = today >= period.end
        for st in statuses:
            out.append(QuotaRow(st.quota, period, st.community_id, st.school_id, st.done,
                                st.need, st.missing, finished))
            out.extend(QuotaRow(st.quota, period, st.community_id, sid, n, 1, (), finished,
                                reading="taking_part") for sid, n in st.schools)
    rank = {s.id: i for cid in county.communities for i, s in enumerate(county.schools_of(cid))}
    out.sort(key=lambda r: (r.community_id, PERIODS.index(r.period.kind), r.period.start,
                            order[r.quota], r.school_id is not None,
                            rank.get(r.school_id or -1, 0)))
    return out
