"""Reports and plans: store every parsed slot, echo it in one line, ask back when unsure.

A report without an activity type (or with a low-confidence parse) is not stored as a guess:
the bot asks which activity it was and completes the record from the next message of the
same person in the same chat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers import texts
from handlers.clock import SHANGHAI
from handlers.format import activity_summary
from handlers.nlu.parser import CONFIDENT, ParseResult
from handlers.routing import Context, Router
from storage.activities import add_entry
from storage.conversations import end_conversation, start_conversation
from storage.models import Activity, Conversation, School
from storage.roster import school_community, school_named

router = Router("activity")

FOLLOWUP_KIND = "report_activity"
CANCEL_WORDS = ("取消", "算了", "不用了", "不记了")
DEFAULT_LENGTH = dt.timedelta(hours=2)


def _needs_question(parsed: ParseResult) -> bool:
    return parsed.activity is None or parsed.confidence < CONFIDENT


async def _school(ctx: Context, name: str | None) -> School | None:
    if name:
        school = await school_named(session=ctx.session, name=name)
        if school is not None:
            return school
    if ctx.member is not None and ctx.member.school_id is not None:
        return await ctx.session.get(School, ctx.member.school_id)
    return None


async def store_activity(ctx: Context, slots: dict[str, Any], *, status: str,
                         source_text: str) -> None:
    """Write the activity from parsed slots and queue the one-line confirmation."""
    assert ctx.member is not None and ctx.member.id is not None
    school = await _school(ctx, slots.get("school"))
    community_id = (ctx.group.community_id if ctx.group and ctx.group.community_id else None)
    if community_id is None and school is not None:
        community_id = await school_community(session=ctx.session, school_id=school.id)
    day = dt.date.fromisoformat(slots["date"]) if slots.get("date") else None
    if day is None and status == "done":
        day = ctx.now.date()
    starts_at = ends_at = None
    if day is not None and slots.get("time"):
        hour, minute = (int(x) for x in slots["time"].split(":"))
        starts_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
        ends_at = starts_at + DEFAULT_LENGTH
    row = await add_entry(session=ctx.session, now=ctx.now, entry=Activity(
        status=status, activity=slots.get("activity"), date=day, time=slots.get("time"),
        starts_at=starts_at, ends_at=ends_at, subject=slots.get("subject"),
        grade=slots.get("grade"), participants=slots.get("participants"),
        topic=(slots.get("topic") or None), school_id=school.id if school else None,
        community_id=community_id, group_id=ctx.group.id if ctx.group else None,
        reporter_id=ctx.member.id, source_text=source_text[:2000], inbox_id=ctx.inbox_id,
        confidence=float(slots.get("confidence") or 1.0),
    ))
    explicit_school = school.name if school is not None and slots.get("school") else None
    summary = activity_summary(row, ctx.activity_name(row.activity), explicit_school)
    if status == "done":
        ctx.reply(texts.REPORT_OK.format(summary=summary), undo_ref=f"activity:{row.id}")
    elif day is None:
        ctx.reply(texts.PLAN_NO_DATE.format(summary=summary), undo_ref=f"activity:{row.id}")
    else:
        ctx.reply(texts.PLAN_OK.format(summary=summary), undo_ref=f"activity:{row.id}")


async def _ask_activity(ctx: Context, status: str) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    state = {"slots": ctx.parsed.as_dict(), "status": status, "text": ctx.msg.text}
    await start_conversation(
        session=ctx.session, platform=ctx.msg.platform, chat_id=ctx.msg.chat_id,
        member_id=ctx.member.id, kind=FOLLOWUP_KIND, state=state,
        expires_at=ctx.now + ctx.services.followup,
    )
    ctx.reply(texts.ASK_ACTIVITY)


async def _store_or_ask(ctx: Context, status: str) -> None:
    if _needs_question(ctx.parsed):
        await _ask_activity(ctx, status)
    else:
        await store_activity(ctx, ctx.parsed.as_dict(), status=status, source_text=ctx.msg.text)


@router.on("report")
async def handle_report(ctx: Context) -> None:
    await _store_or_ask(ctx, "done")


@router.on("plan")
async def handle_plan(ctx: Context) -> None:
    await _store_or_ask(ctx, "planned")


async def continue_followup(ctx: Context, conv: Conversation) -> bool:
    """Use this message as the answer to the pending question; False lets it be handled anew.

    An answer that names an activity completes the record; a cancel word drops it; a message
    with another clear intent (签到, 撤销, a new report…) ends the question and is handled as
    itself.
    """
    assert ctx.member is not None and ctx.member.id is not None
    state = conv.state or {}
    text = ctx.msg.text.strip()
    if any(word in text for word in CANCEL_WORDS) and len(text) <= 6:
        await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                               chat_id=ctx.msg.chat_id, member_id=ctx.member.id)
        ctx.reply(texts.FOLLOWUP_CANCELLED)
        return True
    answer = ctx.parsed
    if answer.intent not in ("unknown", "report", "plan") or answer.activity is None:
        if answer.intent == "unknown" and conv.state and not conv.state.get("asked_twice"):
            conv.state = {**state, "asked_twice": True}
            ctx.session.add(conv)
            ctx.reply(texts.ASK_AGAIN)
            return True
        await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                               chat_id=ctx.msg.chat_id, member_id=ctx.member.id)
        return answer.intent == "unknown"
    slots = dict(state.get("slots") or {})
    for key, value in answer.as_dict().items():
        fillable = key not in ("intent", "date", "confidence", "matched")
        if value is not None and fillable and (key == "activity" or slots.get(key) is None):
            slots[key] = value
    slots["confidence"] = 1.0
    await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                           chat_id=ctx.msg.chat_id, member_id=ctx.member.id)
    source = f"{state.get('text', '')}\n{text}"
    await store_activity(ctx, slots, status=str(state.get("status", "done")), source_text=source)
    return True
