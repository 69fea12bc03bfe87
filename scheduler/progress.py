"""Quota progress for every community (and member school) at once, for digests and reminders.

The counting itself is handlers.standing's, shared with the chat's queries so that a digest
and an answer never give two figures; this module only turns the scheduler's school
calendar into the periods it counts over.
Imports scheduler.calendar, scheduler.queries and handlers (quotas, standing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.quotas import Quota
from handlers.standing import QuotaStatus, standing
from scheduler.calendar import SchoolCalendar
from scheduler.queries import Roster

__all__ = ["QuotaStatus", "quota_progress"]


async def quota_progress(
    *, session: AsyncSession, roster: Roster, calendar: SchoolCalendar, quotas: Iterable[Quota],
    day: dt.date, kinds: Iterable[str] | None = None, until: dt.date | None = None,
) -> list[QuotaStatus]:
    """Every rule's status in the period around `day` (counted up to `until`, exclusive)."""
    rules = list(quotas)
    wanted = set(kinds) if kinds is not None else {q.period for q in rules}
    periods = {kind: calendar.period(kind, day) for kind in sorted(wanted)
               if any(q.period == kind for q in rules)}
    return await standing(session=session, county=roster, quotas=rules, periods=periods,
                          until=until)
