"""Corrections: "不对，是11人" amends the sender's latest entry in this chat, never adds one.

Only the slots the message names change; the reply shows the whole corrected record and the
audit log keeps the old values. Entries older than a day are not corrected from chat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers import texts
from handlers.activity import chat_key, moment, summary_of
from handlers.nlu.slot_json import clock_of, clock_text, slots_to_json
from handlers.routing import Context, Router
from storage.events import change_event, last_report
from storage.models import Activity, School
from storage.roster import school_named

router = Router("correct")

CORRECT_WITHIN = dt.timedelta(hours=24)
# The slots a correction may name, as the parser calls them.
CORRECTABLE = ("activity", "date", "time", "subject", "grade", "participants", "topic",
               "school")


async def _changes(ctx: Context, event: Activity) -> dict[str, Any]:
    named = ctx.parsed.as_dict()
    changes: dict[str, Any] = {}
    for key in CORRECTABLE:
        value = named.get(key)
        if value is None or key == "school":
            continue
        # `Activity.time` keeps "14:00"; every other slot is stored as the parser gives it.
        changes[key] = clock_text(value) if key == "time" else value
    if named.get("school"):
        school: School | None = await school_named(session=ctx.session, name=str(named["school"]))
        if school is not None:
            changes["school_id"] = school.id
    day = changes.get("date", event.date)
    at = named["time"] if named.get("time") is not None else clock_of(event.time)
    if "date" in changes or "time" in changes:
        changes["starts_at"] = moment(day, at, ctx.services.tz)
        if event.ends_at is not None and event.starts_at is not None and changes["starts_at"]:
            changes["ends_at"] = changes["starts_at"] + (event.ends_at - event.starts_at)
    return {k: v for k, v in changes.items() if getattr(event, k) != v}


@router.on("correct")
async def handle_correct(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    report = await last_report(session=ctx.session, member_id=ctx.member.id,
                               since=ctx.now - CORRECT_WITHIN, chat=chat_key(ctx))
    event = await ctx.session.get(Activity, report.activity_id) if report else None
    if report is None or event is None or event.withdrawn:
        ctx.reply(texts.CORRECT_NOTHING)
        return
    changes = await _changes(ctx, event)
    if not changes:
        named = any(ctx.parsed.as_dict().get(key) is not None for key in CORRECTABLE)
        ctx.reply(texts.CORRECT_SAME.format(summary=summary_of(ctx, event)) if named
                  else texts.CORRECT_WHAT)
        return
    await change_event(session=ctx.session, event=event, changes=changes, by=ctx.member.id,
                       now=ctx.now, action="correct", reason=ctx.msg.text[:500])
    report.slots = {**(report.slots or {}),
                    **slots_to_json({k: v for k, v in changes.items() if k in CORRECTABLE})}
    ctx.session.add(report)
    school = await ctx.session.get(School, event.school_id) if event.school_id else None
    ctx.reply(texts.CORRECT_OK.format(summary=summary_of(ctx, event,
                                                         school.name if school else None)),
              undo_ref=f"activity:{event.id}")
