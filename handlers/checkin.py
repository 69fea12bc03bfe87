"""Check-in, check-out and leave, tied to the day's planned activity when there is one.

A sign-in for another day (补签) or after the event is over is a make-up, not a late
arrival; a sign-in once the event has started marks the plan held; 早退 is judged only
against a stated or configured end (handlers.event_times).
"""

from __future__ import annotations

import datetime as dt

from handlers import texts
from handlers.event_times import event_end, judges_early
from handlers.format import hm, md
from handlers.routing import Context, Router
from handlers.sheet import is_invited
from storage.activities import add_entry, attendance_of, planned_on
from storage.events import change_event
from storage.models import Activity, Attendance, EventStatus
from storage.roster import school_community

router = Router("checkin")

# A planned activity opens for check-in this long before it starts: people who come early
# were there, and a sign-in refused is a name wrongly missing from the sheet.
CHECKIN_OPENS = dt.timedelta(minutes=60)


def _end_of(ctx: Context, event: Activity) -> dt.datetime | None:
    return event_end(event, ctx.services.lengths, ctx.services.tz)


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
        end = _end_of(ctx, event)
        if end is not None and event.starts_at - CHECKIN_OPENS <= ctx.now <= end:
            return event
    upcoming = [e for e in timed if e.starts_at and e.starts_at > ctx.now]
    if upcoming:
        return upcoming[0]
    return events[-1] if events else None


async def _record(ctx: Context, type_: str, day: dt.date, event: Activity | None, *,
                  late: bool = False, early: bool = False, makeup: bool = False) -> Attendance:
    assert ctx.member is not None and ctx.member.id is not None
    return await add_entry(session=ctx.session, now=ctx.now, entry=Attendance(
        member_id=ctx.member.id, type=type_, date=day, at=ctx.now,
        activity_id=event.id if event else None, group_id=ctx.group.id if ctx.group else None,
        late=late, early=early, makeup=makeup, note=ctx.msg.text[:500], inbox_id=ctx.inbox_id,
    ))


async def _hold(ctx: Context, event: Activity) -> None:
    """A sign-in once the plan has started shows it took place."""
    if event.status == EventStatus.PLANNED:
        assert ctx.member is not None
        await change_event(session=ctx.session, event=event, by=ctx.member.id, now=ctx.now,
                           action="held", changes={"status": EventStatus.HELD.value})


def _for(ctx: Context, event: Activity | None) -> str:
    if event is None:
        return ""
    return texts.CHECKIN_FOR.format(activity=ctx.activity_name(event.activity))


@router.on("checkin")
async def handle_checkin(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    today = ctx.now.date()
    day = ctx.parsed.date or today
    done = await attendance_of(session=ctx.session, member_id=ctx.member.id, day=day,
                               type_="checkin")
    event = await _todays_event(ctx, day)
    same = [a for a in done if event is None or a.activity_id == event.id]
    if same:
        ctx.reply(texts.CHECKIN_AGAIN.format(name=ctx.member.name,
                                             time=hm(same[0].at.astimezone(ctx.now.tzinfo))))
        return
    if day != today:
        await _makeup(ctx, day, event)
        return
    starts = event.starts_at if event is not None else None
    if event is not None and starts is not None and ctx.now < starts - CHECKIN_OPENS:
        opens = hm((starts - CHECKIN_OPENS).astimezone(ctx.now.tzinfo))
        ctx.reply(texts.CHECKIN_CLOSED.format(activity=ctx.activity_name(event.activity),
                                              opens=opens))
        return
    end = _end_of(ctx, event) if event is not None and starts is not None else None
    if event is not None and end is not None and ctx.now > end \
            and not await is_invited(ctx.session, event, ctx.member):
        # Someone the finished plan never expected signs in for something else.
        event, starts, end = None, None, None
    if event is not None and end is not None and ctx.now > end:
        row = await _record(ctx, "checkin", today, event, makeup=True)
        await _hold(ctx, event)
        ctx.reply(texts.CHECKIN_OVER.format(activity=ctx.activity_name(event.activity),
                                            name=ctx.member.name, time=hm(ctx.now)),
                  undo_ref=f"attendance:{row.id}")
        return
    late = starts is not None and ctx.now > starts
    row = await _record(ctx, "checkin", today, event, late=late)
    if event is not None and (starts is None or ctx.now >= starts):
        await _hold(ctx, event)
    # Lateness is on the sheet; a group is not told who came late (spec: privacy).
    extra = _for(ctx, event) + (texts.CHECKIN_LATE if late and not ctx.msg.is_group else "")
    ctx.reply(texts.CHECKIN_OK.format(name=ctx.member.name, time=hm(ctx.now), extra=extra),
              undo_ref=f"attendance:{row.id}")


async def _makeup(ctx: Context, day: dt.date, event: Activity | None) -> None:
    """补签 for another day: recorded on that day, flagged, never late."""
    assert ctx.member is not None
    if day > ctx.now.date():
        ctx.reply(texts.CHECKIN_FUTURE.format(when=md(day)))
        return
    row = await _record(ctx, "checkin", day, event, makeup=True)
    if event is not None:
        await _hold(ctx, event)
    ctx.reply(texts.CHECKIN_MAKEUP.format(name=ctx.member.name, when=md(day, ctx.now.date()),
                                          extra=_for(ctx, event)),
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
        if event is not None and not await is_invited(ctx.session, event, ctx.member):
            event = None
    end = _end_of(ctx, event) if event is not None else None
    early = (event is not None and end is not None and judges_early(event, ctx.services.lengths)
             and ctx.now < end)
    row = await _record(ctx, "checkout", today, event, early=early)
    extra = _for(ctx, event) + (texts.CHECKOUT_EARLY if early and not ctx.msg.is_group else "")
    template = texts.CHECKOUT_OK if checkins else texts.CHECKOUT_NO_CHECKIN
    ctx.reply(template.format(name=ctx.member.name, time=hm(ctx.now), extra=extra),
              undo_ref=f"attendance:{row.id}")


@router.on("leave")
async def handle_leave(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    day = ctx.parsed.date or ctx.now.date()
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
