"""ledger_data: everything an export of one scope and date range shows, read in one session.

The caller passes what the running bot already has (Services or the scheduler's config):
the quota rules, the school calendar's `period_of`, activity names and the time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.assessment import assessment_of
from handlers.ledger.events import event_rows
from handlers.ledger.exchange import exchange_totals
from handlers.ledger.figures import periods_in, quota_rows
from handlers.ledger.model import Ledger, LedgerScope
from handlers.ledger.scope import resolve_scope
from handlers.ledger.signins import sign_in_blocks
from handlers.periods import PeriodOf
from handlers.quotas import ExchangeTargets, Quota
from handlers.standing import load_county
from storage.ledger import events_between
from storage.models import PLAN_STATUSES

# Called after each step of a long export (one per plan's sign-in sheet), with the steps
# done and the steps in all, so a command line can draw a progress bar.
Progress = Callable[[int, int], None]


async def ledger_data(
    session: AsyncSession, *, scope: LedgerScope, start: dt.date, end: dt.date,
    quotas: Sequence[Quota], period_of: PeriodOf, activity_names: Mapping[str, str],
    tz: ZoneInfo, today: dt.date, targets: ExchangeTargets | None = None,
    progress: Progress | None = None,
) -> Ledger:
    """The ledger of [start, end] (inclusive): events, quota figures of every period that
    overlaps the range, sign-in sheets of its plans, and rotation per school year. `today`
    decides which periods are still running (进行中)."""
    county = await load_county(session=session)
    name, cids = await resolve_scope(session, county, scope)
    school_id = scope.id if scope.kind == "school" else None
    events = await events_between(session=session, start=start, end=end, community_ids=cids,
                                  school_id=school_id)
    plans = sum(1 for e in events if e.status in PLAN_STATUSES)
    steps, done = plans + 3, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    rows = await event_rows(session, county=county, events=events,
                            activity_names=activity_names, tz=tz)
    step()
    kinds = sorted({q.period for q in quotas})
    periods = [p for kind in kinds for p in periods_in(kind, start, end, period_of)]
    figures = await quota_rows(session, county=county, quotas=quotas, periods=periods,
                               communities=cids, today=today)
    if school_id is not None:
        figures = [f for f in figures if f.school_id in (None, school_id)]
    step()
    blocks = await sign_in_blocks(session, county=county, events=events,
                                  activity_names=activity_names, tz=tz, today=today,
                                  progress=step)
    exchanges = []
    for year in periods_in("year", start, end, period_of):
        exchanges += await exchange_totals(session, county=county, year=year, communities=cids,
                                           targets=targets or ExchangeTargets(),
                                           activity_names=activity_names, today=today)
    if school_id is not None:
        exchanges = [x for x in exchanges if x.school_id == school_id]
    assessed = [await assessment_of(session, term=term,
                                    community_id=cids[0] if scope.kind != "county" else None,
                                    quotas=quotas, period_of=period_of, today=today,
                                    targets=targets, activity_names=activity_names)
                for term in periods_in("semester", start, end, period_of)]
    step()
    return Ledger(scope, name, start, end, dict(county.communities),
                  {s.id: s.name for s in county.schools.values()}, dict(activity_names), rows,
                  figures, blocks, exchanges, assessed)
