"""Check-in, check-out and leave, tied to today's planned activity when there is one."""

from __future__ import annotations

import datetime as dt

from handlers import texts
from handlers.format import hm, md
from handlers.routing import Context, Router
from storage.activities import add_attendance, attendance_of, planned_on
from storage.models import Activity, Attendance
from storage.roster import school_community

router = Router("checkin")

# A planned activity opens for check-in this long before it starts.
CHECKIN_OPENS = dt.timedelta(minutes=30)
DEFAULT_LENGTH = dt.timedelta(hours=2)


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
        end = event.ends_at or event.starts_at + DEFAULT_LENGTH
        if event.starts_at - CHECKIN_OPENS <= ctx.now <= end:
            return event
    upcoming = [e for e in timed if e.starts_at and e.starts_at > ctx.now]
    if upcoming:
        return upcoming[0]
    return events[-1] if events else None


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
    late = False
    extra = ""
    if event is not None:
        if event.starts_at is not None and ctx.now < event.starts_at - CHECKIN_OPENS:
            opens = hm((event.starts_at - CHECKIN_OPENS).astimezone(ctx.now.tzinfo))
            ctx.reply(texts.CHECKIN_CLOSED.format(activity=ctx.activity_name(event.activity),
                                                  opens=opens))
            return
        late = event.starts_at is not None and ctx.now > event.starts_at
        extra = texts.CHECKIN_FOR.format(activity=ctx.activity_name(event.activity))
    row = await add_attendance(session=ctx.session, now=ctx.now, attendance=Attendance(
        member_id=ctx.member.id, type="checkin", date=today, at=ctx.now,
        activity_id=event.id if event else None, group_id=ctx.group.id if ctx.group else None,
        late=late, note=ctx.msg.text[:500], inbox_id=ctx.inbox_id,
    ))
    if late:
        extra += texts.CHECKIN_LATE
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
    early = False
    extra = ""
    if event is not None:
        end = event.ends_at or (event.starts_at + DEFAULT_LENGTH if event.starts_at else None)
        early = end is not None and ctx.now < end
        extra = texts.CHECKIN_FOR.format(activity=ctx.activity_name(event.activity))
    row = await add_attendance(session=ctx.session, now=ctx.now, attendance=Attendance(
        member_id=ctx.member.id, type="checkout", date=today, at=ctx.now,
        activity_id=event.id if event else None, group_id=ctx.group.id if ctx.group else None,
        early=early, note=ctx.msg.text[:500], inbox_id=ctx.inbox_id,
    ))
    if early:
        extra += texts.CHECKOUT_EARLY
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
    row = await add_attendance(session=ctx.session, now=ctx.now, attendance=Attendance(
        member_id=ctx.member.id, type="leave", date=day, at=ctx.now,
        activity_id=event.id if event else None, group_id=ctx.group.id if ctx.group else None,
        note=ctx.msg.text[:500], inbox_id=ctx.inbox_id,
    ))
    code = event.activity if event else ctx.parsed.activity
    what = f"的{ctx.activity_name(code)}" if code else ""
    ctx.reply(texts.LEAVE_OK.format(name=ctx.member.name, when=md(day), what=what),
              undo_ref=f"attendance:{row.id}")
