"""Events and their reports: one event however many report it, and every change to it.

A report joins the event it describes (same community, day, activity and school, no slot in
conflict) or the plan it fulfils; corrections, cancellations, moves, merges and withdrawals
change the one row and leave the old values in the audit log. Knows nothing of chat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.activities import add_entry
from storage.audit import record_audit, snapshot
from storage.models import (
    PLAN_STATUSES,
    Activity,
    ActivityReport,
    Attendance,
    EventStatus,
)
from storage.outbox import withdraw_pending

# Slots a later report may fill in, and that are compared for "the same event".
FILLABLE = ("subject", "grade", "participants", "topic", "time")
# Slots whose difference makes two reports two events.
DISTINCT = ("subject", "grade", "time")


# How far back a beat looks for plans that a sign-in made held.
HOLD_LOOKBACK = dt.timedelta(days=7)


def queued_prefix(event: Activity) -> str:
    """The outbox key prefix of everything the scheduler queues for an event."""
    return f"activity:{event.id}:"


async def add_event(
    *, session: AsyncSession, event: Activity, chat: str, slots: Mapping[str, Any],
    now: dt.datetime,
) -> tuple[Activity, ActivityReport]:
    """A new event with its first report (the organiser's post, for a plan)."""
    await add_entry(session=session, entry=event, now=now)
    assert event.id is not None
    kind = "plan" if event.status == EventStatus.PLANNED else "report"
    report = await add_report(session=session, event=event, member_id=event.reporter_id,
                              kind=kind, chat=chat, inbox_id=event.inbox_id,
                              text=event.source_text, slots=slots, now=now)
    return event, report


async def add_report(
    *, session: AsyncSession, event: Activity, member_id: int, kind: str, chat: str,
    inbox_id: int | None, text: str, slots: Mapping[str, Any], now: dt.datetime,
) -> ActivityReport:
    assert event.id is not None
    report = ActivityReport(activity_id=event.id, member_id=member_id, kind=kind, chat=chat,
                            inbox_id=inbox_id, source_text=text[:2000], slots=dict(slots),
                            created_at=now)
    session.add(report)
    await session.flush()
    if event.reporter_id != member_id:
        record_audit(session=session, at=now, member_id=member_id, action="join",
                     entity="activity", entity_id=event.id, after=snapshot(report))
    return report


def _compatible(event: Activity, slots: Mapping[str, Any]) -> bool:
    return all(getattr(event, key) is None or slots.get(key) is None
               or getattr(event, key) == slots.get(key) for key in DISTINCT)


# A report runs these to find the event it describes: built once.
_PLANS_OF_DAY = select(Activity).where(
    col(Activity.community_id) == bindparam("community_id"),
    col(Activity.date) == bindparam("day"), col(Activity.activity) == bindparam("activity"),
    col(Activity.status).in_(PLAN_STATUSES), col(Activity.withdrawn).is_(False),
).order_by(col(Activity.starts_at), col(Activity.id))
_DONE_OF_DAY = select(Activity).where(
    col(Activity.community_id) == bindparam("community_id"),
    col(Activity.date) == bindparam("day"), col(Activity.activity) == bindparam("activity"),
    col(Activity.withdrawn).is_(False), col(Activity.status) == EventStatus.DONE,
).order_by(col(Activity.id))
_DONE_AT_SCHOOL = _DONE_OF_DAY.where(col(Activity.school_id) == bindparam("school_id"))
_DONE_AT_NO_SCHOOL = _DONE_OF_DAY.where(col(Activity.school_id).is_(None))


async def matching_plan(
    *, session: AsyncSession, community_id: int | None, day: dt.date, activity: str,
    school_id: int | None, slots: Mapping[str, Any],
) -> Activity | None:
    """The community's plan of that activity on that day that a report fulfils (no slot in
    conflict); the report is credited to the plan's school. With several, the one at the
    school the report names comes first ("县实小老师来我们学校送教" names the visitors)."""
    if community_id is None:
        return None
    params = {"community_id": community_id, "day": day, "activity": activity}
    rows = (await session.execute(_PLANS_OF_DAY, params)).scalars()
    plans = [p for p in rows if _compatible(p, slots)]
    plans.sort(key=lambda p: p.school_id != school_id)
    return plans[0] if plans else None


async def matching_event(
    *, session: AsyncSession, community_id: int | None, day: dt.date, activity: str,
    school_id: int | None, slots: Mapping[str, Any],
) -> Activity | None:
    """An event already reported that this report describes again (spec: "same event")."""
    if community_id is None:
        return None
    params = {"community_id": community_id, "day": day, "activity": activity,
              "school_id": school_id}
    stmt = _DONE_AT_SCHOOL if school_id is not None else _DONE_AT_NO_SCHOOL
    events = [e for e in (await session.execute(stmt, params)).scalars()
              if _compatible(e, slots)]
    return events[0] if events else None


def fill_in(event: Activity, slots: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fill the slots the event lacks; return the ones that differ as (kept, reported)."""
    differ: dict[str, tuple[Any, Any]] = {}
    for key in FILLABLE:
        new = slots.get(key)
        if new is None:
            continue
        old = getattr(event, key)
        if old is None:
            setattr(event, key, new)
        elif old != new:
            differ[key] = (old, new)
    return differ


async def join_event(
    *, session: AsyncSession, event: Activity, member_id: int, chat: str,
    inbox_id: int | None, text: str, slots: Mapping[str, Any], now: dt.datetime,
    starts_at: dt.datetime | None = None,
) -> dict[str, tuple[Any, Any]]:
    """A report of an event already on record: fill it in, mark a plan held, keep who said it."""
    before = snapshot(event)
    differ = fill_in(event, slots)
    if event.starts_at is None and starts_at is not None:
        event.starts_at = starts_at
    if event.status == EventStatus.PLANNED:
        event.status = EventStatus.HELD
    session.add(event)
    await add_report(session=session, event=event, member_id=member_id, kind="report",
                     chat=chat, inbox_id=inbox_id, text=text, slots=slots, now=now)
    after = snapshot(event)
    if after != before:
        record_audit(session=session, at=now, member_id=member_id, action="update",
                     entity="activity", entity_id=event.id, before=before, after=after)
    return differ


async def reports_of(*, session: AsyncSession, event_ids: Sequence[int],
                     include_withdrawn: bool = False) -> dict[int, list[ActivityReport]]:
    """Each event's reports, first first."""
    if not event_ids:
        return {}
    stmt = select(ActivityReport).where(col(ActivityReport.activity_id).in_(list(event_ids)))
    if not include_withdrawn:
        stmt = stmt.where(col(ActivityReport.withdrawn).is_(False))
    out: dict[int, list[ActivityReport]] = {i: [] for i in event_ids}
    for r in (await session.execute(stmt.order_by(col(ActivityReport.id)))).scalars():
        out[r.activity_id].append(r)
    return out


async def last_report(
    *, session: AsyncSession, member_id: int, since: dt.datetime, chat: str | None = None,
) -> ActivityReport | None:
    """The member's most recent live report since `since` (in that chat, when given)."""
    stmt = select(ActivityReport).where(
        col(ActivityReport.member_id) == member_id, col(ActivityReport.withdrawn).is_(False),
        col(ActivityReport.created_at) >= since,
    )
    if chat is not None:
        stmt = stmt.where(col(ActivityReport.chat) == chat)
    stmt = stmt.order_by(col(ActivityReport.created_at).desc(), col(ActivityReport.id).desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def last_own_entry(
    *, session: AsyncSession, member_id: int, since: dt.datetime,
) -> ActivityReport | Attendance | None:
    """The member's most recent live report or attendance entry since `since`."""
    report = await last_report(session=session, member_id=member_id, since=since)
    att = (await session.execute(
        select(Attendance).where(col(Attendance.member_id) == member_id,
                                 col(Attendance.withdrawn).is_(False),
                                 col(Attendance.created_at) >= since)
        .order_by(col(Attendance.created_at).desc(), col(Attendance.id).desc()).limit(1)
    )).scalar_one_or_none()
    if report is None or att is None:
        return report or att
    return report if report.created_at >= att.created_at else att


async def _live_checkins(session: AsyncSession, event_id: int) -> int:
    return int((await session.execute(
        select(func.count()).select_from(Attendance).where(
            col(Attendance.activity_id) == event_id, col(Attendance.type) == "checkin",
            col(Attendance.withdrawn).is_(False))
    )).scalar_one())


async def withdraw_report(
    *, session: AsyncSession, report: ActivityReport, by: int | None, now: dt.datetime,
    reason: str = "",
) -> Activity:
    """Withdraw one report. The event goes with it only when nobody else reported it; a plan
    that only this report made held is planned again."""
    report.withdrawn = True
    session.add(report)
    event = await session.get(Activity, report.activity_id)
    assert event is not None and event.id is not None
    record_audit(session=session, at=now, member_id=by, action="undo", entity="activityreport",
                 entity_id=report.id, after=snapshot(report), reason=reason)
    live = [r for r in (await reports_of(session=session, event_ids=[event.id]))[event.id]
            if r.id != report.id]
    before = snapshot(event)
    if not live:
        event.withdrawn = True
        await withdraw_pending(session=session, key_prefix=queued_prefix(event))
    else:
        if event.reporter_id == report.member_id:
            event.reporter_id = live[0].member_id
        if (event.status == EventStatus.HELD and not event.confirmed
                and not any(r.kind == "report" for r in live)
                and not await _live_checkins(session, event.id)):
            event.status = EventStatus.PLANNED
    session.add(event)
    await session.flush()
    record_audit(session=session, at=now, member_id=by, action="undo", entity="activity",
                 entity_id=event.id, before=before, after=snapshot(event), reason=reason)
    return event


async def change_event(
    *, session: AsyncSession, event: Activity, changes: Mapping[str, Any], by: int | None,
    now: dt.datetime, action: str, reason: str = "",
) -> dict[str, Any]:
    """Set the given columns (a correction, a move, a cancellation, a withdrawal) with an audit
    row; returns the old snapshot. A cancelled, moved or withdrawn event's queued reminders go."""
    before = snapshot(event)
    for key, value in changes.items():
        setattr(event, key, value)
    session.add(event)
    await session.flush()
    moved = any(key in changes for key in ("date", "starts_at", "ends_at"))
    if moved or action in ("cancel", "withdraw"):
        await withdraw_pending(session=session, key_prefix=queued_prefix(event))
    record_audit(session=session, at=now, member_id=by, action=action, entity="activity",
                 entity_id=event.id, before=before, after=snapshot(event), reason=reason)
    return before


async def withdraw_event(
    *, session: AsyncSession, event: Activity, by: int | None, now: dt.datetime, reason: str,
) -> None:
    """An admin's or principal's withdrawal of a whole event and all its reports."""
    assert event.id is not None
    await session.execute(update(ActivityReport).where(
        col(ActivityReport.activity_id) == event.id).values(withdrawn=True))
    await change_event(session=session, event=event, changes={"withdrawn": True}, by=by,
                       now=now, action="withdraw", reason=reason)


async def merge_events(
    *, session: AsyncSession, keep: Activity, drop: Activity, by: int | None, now: dt.datetime,
    reason: str = "",
) -> dict[str, tuple[Any, Any]]:
    """Two records of one event become one: reports and sign-ins move to `keep`, slots it
    lacks are filled from `drop`, and `drop` is withdrawn. Returns the slots that differed."""
    assert keep.id is not None and drop.id is not None
    before = snapshot(keep)
    differ = fill_in(keep, drop.model_dump())
    if keep.status == EventStatus.PLANNED and drop.status in (EventStatus.HELD, EventStatus.DONE):
        keep.status = EventStatus.HELD
    await session.execute(update(ActivityReport).where(
        col(ActivityReport.activity_id) == drop.id).values(activity_id=keep.id))
    await session.execute(update(Attendance).where(
        col(Attendance.activity_id) == drop.id).values(activity_id=keep.id))
    session.add(keep)
    record_audit(session=session, at=now, member_id=by, action="merge", entity="activity",
                 entity_id=keep.id, before=before, after=snapshot(keep),
                 reason=reason or f"merged #{drop.id}")
    await change_event(session=session, event=drop, changes={"withdrawn": True}, by=by,
                       now=now, action="withdraw", reason=reason or f"merged into #{keep.id}")
    return differ


async def upcoming_plans(
    *, session: AsyncSession, community_id: int | None, activity: str | None,
    day: dt.date | None, today: dt.date,
) -> list[Activity]:
    """Plans of a community still to take place: on `day` when given, else from today on;
    of one activity when given. Earliest first."""
    if community_id is None:
        return []
    stmt = select(Activity).where(
        col(Activity.community_id) == community_id,
        col(Activity.status) == EventStatus.PLANNED, col(Activity.withdrawn).is_(False),
    )
    if activity is not None:
        stmt = stmt.where(col(Activity.activity) == activity)
    stmt = stmt.where(col(Activity.date) == day if day is not None
                      else or_(col(Activity.date) >= today, col(Activity.date).is_(None)))
    stmt = stmt.order_by(col(Activity.date), col(Activity.starts_at), col(Activity.id))
    return list((await session.execute(stmt)).scalars())


async def asked_plan(
    *, session: AsyncSession, organiser_id: int, since: dt.datetime,
) -> Activity | None:
    """The organiser's latest plan the bot asked about (已开展 / 取消) and still open."""
    stmt = select(Activity).where(
        col(Activity.reporter_id) == organiser_id, col(Activity.status) == EventStatus.PLANNED,
        col(Activity.withdrawn).is_(False), col(Activity.outcome_asked_at) >= since,
    ).order_by(col(Activity.outcome_asked_at).desc(), col(Activity.id).desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def reports_by(
    *, session: AsyncSession, member_id: int, activity: str | None, day: dt.date | None,
) -> list[tuple[ActivityReport, Activity]]:
    """A member's live reports of live events, of one activity and day when given, newest
    first: what "撤销 张丽 11月2日的集体备课" points at."""
    stmt = select(ActivityReport, Activity).join(
        Activity, col(Activity.id) == col(ActivityReport.activity_id)).where(
        col(ActivityReport.member_id) == member_id, col(ActivityReport.withdrawn).is_(False),
        col(Activity.withdrawn).is_(False),
    )
    if activity is not None:
        stmt = stmt.where(col(Activity.activity) == activity)
    if day is not None:
        stmt = stmt.where(col(Activity.date) == day)
    stmt = stmt.order_by(col(ActivityReport.created_at).desc(), col(ActivityReport.id).desc())
    return [(r, a) for r, a in (await session.execute(stmt)).all()]


async def reports_from_message(
    *, session: AsyncSession, member_id: int, inbox_id: int | None,
) -> list[ActivityReport]:
    """The member's live reports made by one message (a message may report several events)."""
    if inbox_id is None:
        return []
    stmt = select(ActivityReport).where(
        col(ActivityReport.member_id) == member_id, col(ActivityReport.inbox_id) == inbox_id,
        col(ActivityReport.withdrawn).is_(False)).order_by(col(ActivityReport.id))
    return list((await session.execute(stmt)).scalars())


_REPORTS_OF_BY = select(func.count()).select_from(ActivityReport).where(
    col(ActivityReport.activity_id) == bindparam("event_id"),
    col(ActivityReport.member_id) == bindparam("member_id"),
    col(ActivityReport.withdrawn).is_(False))
_REPORTS_OF_BY_KIND = _REPORTS_OF_BY.where(col(ActivityReport.kind) == bindparam("kind"))


async def has_reported(*, session: AsyncSession, event_id: int, member_id: int,
                       kind: str | None = None) -> bool:
    """Whether the member has a live report (of `kind`, when given) of the event."""
    stmt = _REPORTS_OF_BY if kind is None else _REPORTS_OF_BY_KIND
    params = {"event_id": event_id, "member_id": member_id, "kind": kind}
    return bool((await session.execute(stmt, params)).scalar_one())


async def hold_started_plans(
    *, session: AsyncSession, now: dt.datetime, today: dt.date,
) -> list[int]:
    """Plans with a live sign-in whose start has passed (untimed: whose day has begun) took
    place: one set-based UPDATE makes them held, so they count, with an audit row each.
    Only the instance whose UPDATE changed a row writes its audit row."""
    signed = exists().where(col(Attendance.activity_id) == col(Activity.id),
                            col(Attendance.type) == "checkin",
                            col(Attendance.withdrawn).is_(False))
    started = or_(col(Activity.starts_at) <= now,
                  and_(col(Activity.starts_at).is_(None), col(Activity.date) <= today))
    # A plan's sign-ins come on its day; older plans are settled, so every beat stays cheap.
    recent = col(Activity.date) >= today - HOLD_LOOKBACK
    stmt = (update(Activity)
            .where(col(Activity.status) == EventStatus.PLANNED.value,
                   col(Activity.withdrawn).is_(False), recent, started, signed)
            .values(status=EventStatus.HELD.value)
            .returning(col(Activity.id))
            .execution_options(synchronize_session="fetch"))
    ids = sorted(int(i) for i in (await session.execute(stmt)).scalars() if i is not None)
    for event_id in ids:
        record_audit(session=session, at=now, member_id=None, action="held", entity="activity",
                     entity_id=event_id, before={"status": EventStatus.PLANNED.value},
                     after={"status": EventStatus.HELD.value}, reason="sign-in")
    return ids


async def signed_in(*, session: AsyncSession, event_ids: Sequence[int]) -> set[int]:
    """The events among `event_ids` with at least one live sign-in."""
    if not event_ids:
        return set()
    rows = await session.execute(
        select(col(Attendance.activity_id)).where(
            col(Attendance.activity_id).in_(list(event_ids)), col(Attendance.type) == "checkin",
            col(Attendance.withdrawn).is_(False)).distinct())
    return {int(i) for i in rows.scalars() if i is not None}


async def mark_outcome_asked(
    *, session: AsyncSession, event_ids: Sequence[int], now: dt.datetime,
) -> None:
    """The organisers of these plans were just asked `已开展 / 取消` (the chat side reads it)."""
    if event_ids:
        await session.execute(
            update(Activity).where(col(Activity.id).in_(sorted(set(event_ids))))
            .values(outcome_asked_at=now).execution_options(synchronize_session="fetch"))


async def who_said(*, session: AsyncSession, event_id: int, key: str, value: Any) -> int | None:
    """The member whose live report first gave the event's value of `key`."""
    for report in (await reports_of(session=session, event_ids=[event_id]))[event_id]:
        if (report.slots or {}).get(key) == value:
            return report.member_id
    return None
