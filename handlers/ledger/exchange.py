"""交流轮岗: rotation and shadowing (支教, 跟岗) counted in people per school and school year.

spec/conversation.md: the participants of each report; the sending school is the one the
report names as sending (the parser's `from_school`), else the reporter's school. Two reports
of one event from the same sending school describe the same people, so an event counts the
largest figure each sending school reported, not their sum. A report without a head count
is its reporter alone. The registrant's figure is the event's (corrections change the event).
Targets (seed 003, plan 1): the lead school sends at least 6 a year, each member school 3;
a county sets its own in `[scheduler.rotation]` (`lead = 6`, `member = 3`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ledger.model import ExchangeLine, ExchangeTotal
from handlers.periods import Period
from handlers.quotas import ExchangeTargets
from handlers.standing import County
from storage.ledger import ExchangeReport, exchange_reports

EXCHANGE_CODES = ("rotation", "shadowing")


def _sender(report: ExchangeReport, by_name: Mapping[str, int]) -> int | None:
    named = report.slots.get("from_school")
    if isinstance(named, str) and named in by_name:
        return by_name[named]
    return report.member_school_id


def _people(report: ExchangeReport) -> int:
    said = report.slots.get("participants")
    if report.registrant and report.event_participants:
        return report.event_participants
    return said if isinstance(said, int) and said > 0 else 1


async def exchange_totals(
    session: AsyncSession, *, county: County, year: Period, communities: Sequence[int],
    targets: ExchangeTargets, activity_names: Mapping[str, str], today: dt.date,
) -> list[ExchangeTotal]:
    """Every school of these communities (lead first) with the people it sent in `year`."""
    by_name = {s.name: s.id for s in county.schools.values()}
    lines: dict[tuple[int, int], ExchangeLine] = {}
    for report in await exchange_reports(session=session, start=year.start, end=year.end,
                                         codes=EXCHANGE_CODES):
        sender = _sender(report, by_name)
        if sender is None or sender not in county.schools:
            continue
        key = (report.event_id, sender)
        known = lines.get(key)
        people = max(_people(report), known.people if known else 0)
        reporters = (*known.reporters, report.member_name) if known else (report.member_name,)
        venue = county.schools.get(report.venue_id) if report.venue_id is not None else None
        lines[key] = ExchangeLine(report.event_id, report.date,
                                  activity_names.get(report.activity, report.activity), sender,
                                  venue.name if venue else "", people,
                                  tuple(dict.fromkeys(reporters)))
    out = []
    for cid in communities:
        for school in county.schools_of(cid):
            mine = tuple(line for line in lines.values() if line.school_id == school.id)
            out.append(ExchangeTotal(year, cid, school.id, sum(m.people for m in mine),
                                     targets.lead if school.is_lead else targets.member,
                                     today >= year.end, mine))
    return out
