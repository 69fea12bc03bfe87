"""Check-in, check-out and leave, tied to today's planned activity when there is one."""

from __future__ import annotations

import datetime as dt

from handlers import texts
from handlers.format import hm, md
from handlers.routing import Context, Router
from storage.activities import add_entry, attendance_of, planned_on
from storage.models import Activity, Attendance
from storage.roster import school_community

router = Router("checkin")

# A planned activity opens for check-in this long before it starts.
CHECKIN_OPENS = dt.timedelta(minutes=30)
DEFAULT_LENGTH = dt.timedelta(hours=2)


def _end_of(event: Activity) -> dt.datetime | None:
    if event.ends_at is not None:
        return event.ends_at
    return event.starts_at + DEFAULT_LENGTH if event.starts_at is not None else None


async def _community_id(ctx: Context) -> int | None:
    if ctx.group is not None and ctx.group.community_id is not None:
        return ctx.group.community_id
    assert ctx.member is not None
    return await school_community(session=ctx.session, school_id=ctx.member.school_id)


async def _todays_event(ctx: Context, day: dt.date) -> Activity | None:
    """The planned activity this message most likely belongs to: the one running now, else
    the next one today, else the last one today."""
    events = await planned_on(session=ctx.session, community_id=await _community_id(ctx), day=day)
    if ctx.parsed.activity:
        events = [e for e in events if e.activity == ctx.parsed.activity] or events
    timed = [e for e in events if e.starts_at is not None]
    for event in timed:
        assert event.starts_at is not None
        end = _end_of(event)
        if end is not None and event.starts_at - CHECKIN_OPENS <= ctx.now <= end:
            return event
    upcoming = [e for e in timed if e.starts_at and e.starts_at > ctx.now]
    if upcoming:
        return upcoming[0]
    return events[-1] if events else None


async def _record(ctx: Context, type_: str, day: dt.date, event: Activity | None, *,
                  late: bool = False, early: bool = False) -> Attendance:
    assert ctx.member is not None and ctx.member.id is not None
    return await add_entry(session=ctx.session, now=ctx.now, entry=Attendance(
        member_id=ctx.member.id, type=type_, date=day, at=ctx.now,
        activity_id=event.id if event else None, group_id=ctx.group.id if ctx.group else None,
        late=late, early=early, note=ctx.msg.text[:500], inbox_id=ctx.inbox_id,
    ))


def _for(ctx: Context, event: Activity | None) -> str:
    if event is None:
        return ""
    return texts.CHECKIN_FOR.format(activity=ctx.activity_name(event.activity))


@router.on("checkin")
async def handle_checkin(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    today = ctx.now.date()
    done = await attendance_of(session=ctx.session, member_id=ctx.member.id, day=today,
                               type_="checkin")
    event = await _todays_event(ctx, today)
    same = [a for a in done if event is None or a.activity_id == event.id]
    if same:
        ctx.reply(texts.CHECKIN_AGAIN.format(name=ctx.member.name,
                                             time=hm(same[0].at.astimezone(ctx.now.tzinfo))))
        return
    starts = event.starts_at if event is not None else None
    if event is not None and starts is not None and ctx.now < starts - CHECKIN_OPENS:
        opens = hm((starts - CHECKIN_OPENS).astimezone(ctx.now.tzinfo))
        ctx.reply(texts.CHECKIN_CLOSED.format(activity=ctx.activity_name(event.activity),
                                              opens=opens))
        return
    late = starts is not None and ctx.now > starts
    row = await _record(ctx, "checkin", today, event, late=late)
    extra = _for(ctx, event) + (texts.CHECKIN_LATE if late else "")
    ctx.reply(texts.CHECKIN_OK.format(name=ctx.member.name, time=hm(ctx.now), extra=extra),
              undo_ref=f"attendance:{row.id}")


@router.on("checkout")
async def handle_checkout(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    today = ctx.now.date()
    already = await attendance_of(session=ctx.session, member_id=ctx.member.id, day=today,
                                  type_="checkout")
    if already:
        ctx.reply(texts.CHECKOUT_AGAIN.format(name=ctx.member.name,
                                              time=hm(already[-1].at.astimezone(ctx.now.tzinfo))))
        return
    checkins = await attendance_of(session=ctx.session, member_id=ctx.member.id, day=today,
                                   type_="checkin")
    event = None
    if checkins and checkins[-1].activity_id is not None:
        event = await ctx.session.get(Activity, checkins[-1].activity_id)
    if event is None:
        event = await _todays_event(ctx, today)
    end = _end_of(event) if event is not None else None
    early = end is not None and ctx.now < end
    row = await _record(ctx, "checkout", today, event, early=early)
    extra = _for(ctx, event) + (texts.CHECKOUT_EARLY if early else "")
    template = texts.CHECKOUT_OK if checkins else texts.CHECKOUT_NO_CHECKIN
    ctx.reply(template.format(name=ctx.member.name, time=hm(ctx.now), extra=extra),
              undo_ref=f"attendance:{row.id}")


@router.on("leave")
async def handle_leave(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    day = dt.date.fromisoformat(ctx.parsed.date) if ctx.parsed.date else ctx.now.date()
    events = await planned_on(session=ctx.session, community_id=await _community_id(ctx),
                              day=day)
    if ctx.parsed.activity:
        events = [e for e in events if e.activity == ctx.parsed.activity] or events
    event = events[0] if events else None
    row = await _record(ctx, "leave", day, event)
    code = event.activity if event else ctx.parsed.activity
    what = f"的{ctx.activity_name(code)}" if code else ""
    ctx.reply(texts.LEAVE_OK.format(name=ctx.member.name, when=md(day), what=what),
              undo_ref=f"attendance:{row.id}")
