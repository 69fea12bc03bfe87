"""Undo: withdraw the sender's own entries of the last 24 hours (or one named by a card).

`撤销` takes back the sender's latest message's entries (all the events it reported);
older records are a principal's or admin's to withdraw (`撤销 张丽 11月2日的集体备课`).
Withdrawn rows stay in the database and the audit log; figures leave them out.
"""

from __future__ import annotations

import datetime as dt
import re

from handlers import texts
from handlers.activity import read_day
from handlers.format import md
from handlers.permissions import may_act_for
from handlers.routing import Context, Router
from storage.activities import withdraw
from storage.events import (
    last_own_entry,
    reports_by,
    reports_from_message,
    reports_of,
    withdraw_report,
)
from storage.models import Activity, ActivityReport, Attendance, Member
from storage.roster import members_named

router = Router("undo")

UNDO_WITHIN = dt.timedelta(hours=24)
# "撤销 张丽 11月2日的集体备课": a name (checked against the roster), then what to withdraw.
UNDO_OTHER = re.compile(r"^\s*(?:撤销|撤回|删除)\s*(?P<rest>[\u4e00-\u9fff].*)$")
NAME_LENGTHS = (4, 3, 2)


def describe(ctx: Context, entry: Activity | Attendance) -> str:
    if isinstance(entry, Activity):
        return texts.UNDO_WHAT_ACTIVITY.format(date=md(entry.date, ctx.now.date()),
                                               activity=ctx.activity_name(entry.activity))
    return texts.UNDO_WHAT_ATTENDANCE.format(date=md(entry.date),
                                             type=texts.ATTENDANCE_TYPES.get(entry.type, ""))


async def _withdraw_reports(ctx: Context, reports: list[ActivityReport],
                            reason: str = "") -> list[Activity]:
    assert ctx.member is not None
    return [await withdraw_report(session=ctx.session, report=r, by=ctx.member.id, now=ctx.now,
                                  reason=reason) for r in reports]


async def _undo_report(ctx: Context, report: ActivityReport) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    same_message = await reports_from_message(session=ctx.session, member_id=ctx.member.id,
                                              inbox_id=report.inbox_id)
    events = await _withdraw_reports(ctx, same_message or [report])
    what = "、".join(describe(ctx, e) for e in events)
    # `withdrawn` tells channels with cards that the entry is gone (the button can go too).
    ctx.reply(texts.UNDO_OK.format(what=what), withdrawn=True)


async def _undo_attendance(ctx: Context, entry: Attendance) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    await withdraw(session=ctx.session, entry=entry, member_id=ctx.member.id, now=ctx.now)
    ctx.reply(texts.UNDO_OK.format(what=describe(ctx, entry)), withdrawn=True)


async def _undo_ref(ctx: Context, ref: str) -> None:
    """A card's 撤销 button: `activity:12` (the sender's report of that event) or
    `attendance:7`."""
    assert ctx.member is not None and ctx.member.id is not None
    kind, _, raw_id = ref.partition(":")
    if not raw_id.isdigit():
        ctx.reply(texts.UNDO_NOTHING)
        return
    if kind == "attendance":
        att = await ctx.session.get(Attendance, int(raw_id))
        if att is None:
            ctx.reply(texts.UNDO_NOTHING)
        elif att.member_id != ctx.member.id:
            ctx.reply(texts.UNDO_NOT_YOURS)
        elif att.withdrawn:
            ctx.reply(texts.UNDO_ALREADY, withdrawn=True)
        else:
            await _undo_attendance(ctx, att)
        return
    reports = (await reports_of(session=ctx.session, event_ids=[int(raw_id)],
                                include_withdrawn=True)).get(int(raw_id), [])
    mine = [r for r in reports if r.member_id == ctx.member.id]
    if not reports:
        ctx.reply(texts.UNDO_NOTHING)
    elif not mine:
        ctx.reply(texts.UNDO_NOT_YOURS)
    elif all(r.withdrawn for r in mine):
        ctx.reply(texts.UNDO_ALREADY, withdrawn=True)
    else:
        await _undo_report(ctx, next(r for r in reversed(mine) if not r.withdrawn))


@router.on("undo")
async def handle_undo(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    ref = (ctx.msg.action or {}).get("undo")
    if ref:
        await _undo_ref(ctx, str(ref))
        return
    entry = await last_own_entry(session=ctx.session, member_id=ctx.member.id,
                                 since=ctx.now - UNDO_WITHIN)
    if entry is None:
        older = await last_own_entry(session=ctx.session, member_id=ctx.member.id,
                                     since=dt.datetime.min.replace(tzinfo=dt.UTC))
        ctx.reply(texts.UNDO_TOO_OLD if older is not None else texts.UNDO_NOTHING)
    elif isinstance(entry, ActivityReport):
        await _undo_report(ctx, entry)
    else:
        await _undo_attendance(ctx, entry)


async def _named_member(ctx: Context, rest: str) -> tuple[Member, str] | None:
    for size in NAME_LENGTHS:
        name = rest[:size]
        found = await members_named(session=ctx.session, name=name)
        if len(found) == 1:
            return found[0], rest[size:].removeprefix("老师").strip()
    return None


async def handle_undo_other(ctx: Context, match: re.Match[str]) -> bool:
    """A principal's or admin's `撤销 张丽 11月2日的集体备课`; False when no roster name leads
    the rest (then it is the sender's own 撤销, for the parser)."""
    named = await _named_member(ctx, match.group("rest").strip())
    if named is None:
        return False
    other, what = named
    if ctx.member is None or other.id == ctx.member.id:
        return False
    if not await may_act_for(session=ctx.session, member=ctx.member, other=other):
        ctx.reply(texts.UNDO_OTHER_NOT_ALLOWED)
        return True
    parsed = ctx.services.parser.parse(what, ctx.msg.received_at)
    day: dt.date | None = read_day(ctx, what, None)["date"]
    assert other.id is not None
    found = await reports_by(session=ctx.session, member_id=other.id, activity=parsed.activity,
                             day=day)
    label = f"{md(day, ctx.now.date()) if day else ''}{ctx.activity_name(parsed.activity)}"
    if not found or parsed.activity is None:
        ctx.reply(texts.UNDO_OTHER_NOT_FOUND.format(name=other.name, what=label))
        return True
    reason = texts.UNDO_OTHER_REASON.format(name=ctx.member.name)
    events = await _withdraw_reports(ctx, [found[0][0]], reason)
    ctx.reply(texts.UNDO_OTHER_OK.format(name=other.name, what=describe(ctx, events[0])))
    return True
