"""The reads a ledger export (handlers.ledger) needs: events of a range and scope, their
reporters, and the reports of rotation events with what each reporter said.

Withdrawn events and withdrawn reports are never read here: an export shows the record as it
stands. Imports storage.models only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import COUNTED_STATUSES, Activity, ActivityReport, Member


async def events_between(
    *, session: AsyncSession, start: dt.date, end: dt.date,
    community_ids: Iterable[int] | None = None, school_id: int | None = None,
) -> list[Activity]:
    """Live events dated in [start, end] (inclusive): of these communities, or those a school
    hosted or reported; by date, then start (untimed last), then id."""
    stmt = select(Activity).where(col(Activity.withdrawn).is_(False),
                                  col(Activity.date) >= start, col(Activity.date) <= end)
    if community_ids is not None:
        stmt = stmt.where(col(Activity.community_id).in_(sorted(set(community_ids))))
    if school_id is not None:
        reported = (select(col(ActivityReport.activity_id))
                    .join(Member, col(Member.id) == col(ActivityReport.member_id))
                    .where(col(Member.school_id) == school_id,
                           col(ActivityReport.withdrawn).is_(False)))
        stmt = stmt.where((col(Activity.school_id) == school_id)
                          | col(Activity.id).in_(reported))
    # NULLs sort differently on SQLite and PostgreSQL: put them last explicitly.
    stmt = stmt.order_by(col(Activity.date), col(Activity.starts_at).is_(None),
                         col(Activity.starts_at), col(Activity.time).is_(None),
                         col(Activity.time), col(Activity.id))
    return list((await session.execute(stmt)).scalars())


async def reporter_names(*, session: AsyncSession,
                         event_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each event's live reporters by name, first report first, each person once."""
    out: dict[int, list[str]] = {i: [] for i in event_ids}
    if not event_ids:
        return out
    rows = await session.execute(
        select(col(ActivityReport.activity_id), col(Member.name))
        .join(Member, col(Member.id) == col(ActivityReport.member_id))
        .where(col(ActivityReport.activity_id).in_(list(event_ids)),
               col(ActivityReport.withdrawn).is_(False))
        .order_by(col(ActivityReport.id)))
    for event_id, name in rows.all():
        if name not in out[event_id]:
            out[event_id].append(name)
    return out


@dataclass(frozen=True)
class ExchangeReport:
    """One live report of a counted rotation or shadowing event."""

    event_id: int
    date: dt.date
    activity: str
    community_id: int | None
    venue_id: int | None
    event_participants: int | None
    member_name: str
    member_school_id: int | None
    slots: dict[str, Any]
    registrant: bool  # the event's first reporter, whose figures corrections change


async def exchange_reports(
    *, session: AsyncSession, start: dt.date, end: dt.date, codes: Iterable[str],
) -> list[ExchangeReport]:
    """Live reports of counted (held or done), live events of `codes` in [start, end)."""
    rows = await session.execute(
        select(Activity, col(ActivityReport.slots), col(ActivityReport.member_id),
               col(Member.name), col(Member.school_id))
        .join(ActivityReport, col(ActivityReport.activity_id) == col(Activity.id))
        .join(Member, col(Member.id) == col(ActivityReport.member_id))
        .where(col(Activity.status).in_(COUNTED_STATUSES), col(Activity.withdrawn).is_(False),
               col(ActivityReport.withdrawn).is_(False),
               col(Activity.activity).in_(sorted(set(codes))),
               col(Activity.date) >= start, col(Activity.date) < end)
        .order_by(col(Activity.date), col(Activity.id), col(ActivityReport.id)))
    out = []
    for event, slots, member_id, name, school_id in rows.all():
        assert event.id is not None and event.date is not None and event.activity is not None
        out.append(ExchangeReport(event.id, event.date, event.activity, event.community_id,
                                  event.school_id, event.participants, name, school_id,
                                  dict(slots or {}), member_id == event.reporter_id))
    return out
