"""Reports and plans: one record per event, however many report it; one reply per message.

A report joins the plan it fulfils (the plan is then held) or the event already reported by
a colleague (a co-report); otherwise it makes a new event. A report without an activity
type, or with a date that does not exist, is not stored as a guess: the bot asks, and the
next message of the same person in the same chat completes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from handlers import texts
from handlers.format import activity_summary, md
from handlers.nlu.parser import CONFIDENT
from handlers.nlu.slot_json import clock_text, slots_from_json, slots_to_json
from handlers.routing import Context, Router
from storage.conversations import end_conversation, start_conversation
from storage.events import (
    add_event,
    add_report,
    fill_in,
    has_reported,
    join_event,
    matching_event,
    matching_plan,
    who_said,
)
from storage.models import Activity, Conversation, EventStatus, Member, School
from storage.roster import school_community, school_named

router = Router("activity")

FOLLOWUP_ACTIVITY = "report_activity"
FOLLOWUP_DATE = "report_date"
FOLLOWUP_KINDS = (FOLLOWUP_ACTIVITY, FOLLOWUP_DATE)
CANCEL_WORDS = ("取消", "算了", "不用了", "不记了")
# Characters that show a short answer names a day (besides digits).
DAY_WORDS = "今昨前明后天号日周星期礼拜月"
# Keys of a parse that describe one event (the rest say what the message is).
# What a report keeps of its parse; `from_school` (the sending school) is for rotation
# counts (handlers.ledger.exchange) and never makes two reports two events.
EVENT_KEYS = ("activity", "date", "time", "end_time", "subject", "grade", "participants",
              "topic", "school", "from_school")


@dataclass
class Recorded:
    """What one event of a message became: new, joined to a colleague's, a plan held…"""

    event: Activity
    outcome: str  # new / joined / same / plan_held / plan_exists
    summary: str
    registrant: str = ""
    differ: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def chat_key(ctx: Context) -> str:
    return f"{ctx.msg.platform}:{ctx.msg.chat_id}"


def moment(day: dt.date | None, at: dt.time | None, tz: ZoneInfo) -> dt.datetime | None:
    """A local day and time as an aware moment in the county's time zone."""
    if day is None or at is None:
        return None
    return dt.datetime.combine(day, at, tzinfo=tz)


async def school_for(ctx: Context, name: str | None) -> School | None:
    """The school named, else the sender's own."""
    if name:
        school = await school_named(session=ctx.session, name=name)
        if school is not None:
            return school
    if ctx.member is not None and ctx.member.school_id is not None:
        return await ctx.session.get(School, ctx.member.school_id)
    return None


async def community_for(ctx: Context, school: School | None) -> int | None:
    if ctx.group is not None and ctx.group.community_id is not None:
        return ctx.group.community_id
    return await school_community(session=ctx.session, school_id=school.id if school else None)


def summary_of(ctx: Context, event: Activity, school: str | None = None) -> str:
    return activity_summary(event, ctx.activity_name(event.activity), school, ctx.now.date())


def read_day(ctx: Context, text: str, status: str | None) -> dict[str, Any]:
    """The day a short answer ("11月25日", "昨天") names, read the way the parser reads the day
    of a report (the latest such day), of a plan (the next one) or, with no status, of an
    event that may be either (the nearest one)."""
    verb = {EventStatus.PLANNED.value: "将开展活动", EventStatus.DONE.value: "开展了活动"}.get(
        status or "", "开展活动")
    parsed = ctx.services.parser.parse(f"{text}{verb}", ctx.msg.received_at).as_dict()
    if parsed.get("date_invalid") or not any(ch.isdigit() or ch in DAY_WORDS for ch in text):
        return {"date": None, "date_invalid": parsed.get("date_invalid")}
    return {"date": parsed.get("date"), "date_invalid": None}


def event_slots(slots: Mapping[str, Any]) -> dict[str, Any]:
    return {key: slots.get(key) for key in EVENT_KEYS}


async def record_event(ctx: Context, slots: Mapping[str, Any], *, status: str,
                       source_text: str) -> Recorded:
    """Write one event of a message: join what is on record, or add it."""
    assert ctx.member is not None and ctx.member.id is not None
    school = await school_for(ctx, slots.get("school"))
    named = school if school is not None and slots.get("school") else None
    community_id = await community_for(ctx, school)
    day: dt.date | None = slots.get("date")
    if day is None and status == EventStatus.DONE:
        day = ctx.now.date()
    code = slots.get("activity")
    # What storage keeps of the report is JSON: days and times as text.
    own = slots_to_json(event_slots(slots))
    starts_at = moment(day, slots.get("time"), ctx.services.tz)
    if day is not None and code is not None:
        joined = await _join_existing(ctx, own, status=status, community_id=community_id,
                                      day=day, school=school, named=named, text=source_text,
                                      starts_at=starts_at)
        if joined is not None:
            return joined
    row = Activity(
        status=status, activity=code, date=day, time=clock_text(slots.get("time")),
        starts_at=starts_at,
        ends_at=moment(day, slots.get("end_time"), ctx.services.tz),
        subject=slots.get("subject"), grade=slots.get("grade"),
        participants=slots.get("participants"), topic=(slots.get("topic") or None),
        school_id=school.id if school else None, community_id=community_id,
        group_id=ctx.group.id if ctx.group else None, reporter_id=ctx.member.id,
        source_text=source_text[:2000], inbox_id=ctx.inbox_id,
        confidence=float(slots.get("confidence") or 1.0),
    )
    await add_event(session=ctx.session, event=row, chat=chat_key(ctx), slots=own, now=ctx.now)
    return Recorded(row, "new", summary_of(ctx, row, named.name if named else None))


async def _join_existing(
    ctx: Context, slots: dict[str, Any], *, status: str, community_id: int | None,
    day: dt.date, school: School | None, named: School | None, text: str,
    starts_at: dt.datetime | None,
) -> Recorded | None:
    """`slots` as storage keeps them (JSON: the time as "14:00", like `Activity.time`)."""
    assert ctx.member is not None and ctx.member.id is not None
    code = str(slots["activity"])
    plan = await matching_plan(session=ctx.session, community_id=community_id, day=day,
                               activity=code, school_id=named.id if named else None, slots=slots)
    if status == EventStatus.PLANNED:
        # The same plan posted again: same school and, when both say, the same hour.
        same_place = plan is not None and plan.school_id == (school.id if school else None)
        if plan is None or not same_place or (slots.get("time") and plan.time
                                              and plan.time != slots.get("time")):
            return None
        if not await has_reported(session=ctx.session, event_id=plan.id or 0,
                                  member_id=ctx.member.id):
            await add_report(session=ctx.session, event=plan, member_id=ctx.member.id,
                             kind="plan", chat=chat_key(ctx), inbox_id=ctx.inbox_id, text=text,
                             slots=slots, now=ctx.now)
        return Recorded(plan, "plan_exists", summary_of(ctx, plan))
    event = plan or await matching_event(
        session=ctx.session, community_id=community_id, day=day, activity=code,
        school_id=school.id if school else None, slots=slots)
    if event is None:
        return None
    assert event.id is not None
    registrant = await ctx.session.get(Member, event.reporter_id)
    name = registrant.name if registrant else ""
    if await has_reported(session=ctx.session, event_id=event.id, member_id=ctx.member.id,
                          kind="report"):
        differ = fill_in(event, slots)
        ctx.session.add(event)
        return Recorded(event, "same", summary_of(ctx, event), name, differ)
    was_plan = event.status == EventStatus.PLANNED
    differ = await join_event(session=ctx.session, event=event, member_id=ctx.member.id,
                              chat=chat_key(ctx), inbox_id=ctx.inbox_id, text=text,
                              slots=slots, now=ctx.now,
                              starts_at=starts_at)
    outcome = "plan_held" if was_plan else "joined"
    return Recorded(event, outcome, summary_of(ctx, event), name, differ)


def _value(key: str, value: Any) -> str:
    return texts.SUMMARY_PEOPLE.format(n=value) if key == "participants" else str(value)


async def _differ_text(ctx: Context, rec: Recorded) -> str:
    """Which values were kept and who gave them, and how to correct them."""
    if not rec.differ:
        return ""
    parts = []
    for key, (old, _new) in rec.differ.items():
        said = await who_said(session=ctx.session, event_id=rec.event.id or 0, key=key,
                              value=old)
        person = await ctx.session.get(Member, said) if said is not None else None
        parts.append(texts.JOIN_DIFFER_SLOT.format(
            slot=texts.SLOT_NAMES.get(key, key), value=_value(key, old),
            name=person.name if person is not None else texts.SOMEONE))
    first, (_old, new) = next(iter(rec.differ.items()))
    return texts.JOIN_DIFFER.format(slots="、".join(parts), example=_value(first, new))


def _what(ctx: Context, event: Activity) -> str:
    return f"{md(event.date, ctx.now.date())} {ctx.activity_name(event.activity)}"


async def reply_text(ctx: Context, rec: Recorded) -> str:
    """The one line that confirms one event."""
    if rec.outcome == "plan_held":
        return texts.REPORT_PLAN_HELD.format(summary=rec.summary) + await _differ_text(ctx, rec)
    if rec.outcome == "joined":
        return texts.REPORT_JOINED.format(name=rec.registrant, what=_what(ctx, rec.event),
                                          differ=await _differ_text(ctx, rec))
    if rec.outcome == "same":
        return texts.REPORT_SAME.format(what=_what(ctx, rec.event)) + await _differ_text(ctx,
                                                                                           rec)
    if rec.outcome == "plan_exists":
        return texts.PLAN_EXISTS.format(summary=rec.summary)
    if rec.event.status == EventStatus.DONE:
        return texts.REPORT_OK.format(summary=rec.summary)
    if rec.event.date is None:
        return texts.PLAN_NO_DATE.format(summary=rec.summary)
    return texts.PLAN_OK.format(summary=rec.summary)


def _item_text(rec: Recorded) -> str:
    if rec.outcome in ("joined", "same"):
        return texts.ITEM_JOINED.format(summary=rec.summary, name=rec.registrant)
    if rec.outcome == "plan_held":
        return texts.ITEM_PLAN_HELD.format(summary=rec.summary)
    return rec.summary


async def record_all(ctx: Context, items: list[Mapping[str, Any]], *, status: str,
                     source_text: str) -> None:
    """Each event of a message recorded, then one reply for them all."""
    done = [await record_event(ctx, slots, status=status, source_text=source_text)
            for slots in items]
    if len(done) == 1:
        ctx.reply(await reply_text(ctx, done[0]), undo_ref=f"activity:{done[0].event.id}")
        return
    listed = texts.MANY_ITEM_SEP.join(f"{n}. {_item_text(r)}" for n, r in enumerate(done, 1))
    ctx.reply(texts.MANY_OK.format(n=len(done), items=listed),
              undo_ref=f"activity:{done[-1].event.id}")


def _items(parsed: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    more = parsed.get("more") or []
    return [parsed, *[{**m, "confidence": 1.0} for m in more if isinstance(m, Mapping)]]


async def _ask(ctx: Context, kind: str, status: str, question: str,
               slots: Mapping[str, Any] | None = None, text: str | None = None) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    state = {"slots": slots_to_json(slots or ctx.parsed.as_dict()), "status": status,
             "text": text if text is not None else ctx.msg.text}
    await start_conversation(
        session=ctx.session, platform=ctx.msg.platform, chat_id=ctx.msg.chat_id,
        member_id=ctx.member.id, kind=kind, state=state,
        expires_at=ctx.now + ctx.services.followup,
    )
    ctx.reply(question)


async def _store_or_ask(ctx: Context, status: str) -> None:
    parsed = ctx.parsed.as_dict()
    if parsed.get("date_invalid"):
        await _ask(ctx, FOLLOWUP_DATE, status, texts.ASK_DATE)
    elif ctx.parsed.activity is None or ctx.parsed.confidence < CONFIDENT:
        await _ask(ctx, FOLLOWUP_ACTIVITY, status, texts.ASK_ACTIVITY)
    else:
        await record_all(ctx, _items(parsed), status=status, source_text=ctx.msg.text)


@router.on("report")
async def handle_report(ctx: Context) -> None:
    await _store_or_ask(ctx, EventStatus.DONE)


@router.on("plan")
async def handle_plan(ctx: Context) -> None:
    await _store_or_ask(ctx, EventStatus.PLANNED)


async def _end(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                           chat_id=ctx.msg.chat_id, member_id=ctx.member.id)


def is_cancel_word(text: str) -> bool:
    return any(word in text for word in CANCEL_WORDS) and len(text) <= 6


async def continue_followup(ctx: Context, conv: Conversation) -> bool:
    """Use this message as the answer to the pending question; False lets it be handled anew.

    An answer that gives what was asked completes the record with every slot of the first
    message; a cancel word drops it; a message with another clear intent (签到, 撤销, a new
    report…) ends the question and is handled as itself."""
    state = conv.state or {}
    text = ctx.msg.text.strip()
    if is_cancel_word(text):
        await _end(ctx)
        ctx.reply(texts.FOLLOWUP_CANCELLED)
        return True
    answer = ctx.parsed.as_dict()
    asks_date = conv.kind == FOLLOWUP_DATE
    if asks_date:
        # The first message's date did not exist, so neither did its report-or-plan reading:
        # the day answered decides it.
        answer = {**answer, **read_day(ctx, text, None)}
    answered = (answer.get("date") is not None and not answer.get("date_invalid")) if asks_date \
        else answer.get("activity") is not None
    if ctx.parsed.intent not in ("unknown", "report", "plan") or not answered:
        if ctx.parsed.intent == "unknown" and not state.get("asked_twice"):
            conv.state = {**state, "asked_twice": True}
            ctx.session.add(conv)
            ctx.reply(texts.ASK_DATE_AGAIN if asks_date else texts.ASK_AGAIN)
            return True
        await _end(ctx)
        return ctx.parsed.intent == "unknown"
    slots = slots_from_json(state.get("slots") or {})
    for key, value in answer.items():
        wanted = key == ("date" if asks_date else "activity")
        fillable = key in EVENT_KEYS and key != "date"
        if value is not None and (wanted or (fillable and slots.get(key) is None)):
            slots[key] = value
    slots["date_invalid"] = None
    slots["confidence"] = 1.0
    await _end(ctx)
    status = str(state.get("status", EventStatus.DONE))
    day: dt.date | None = slots.get("date")
    if asks_date and day is not None and day != ctx.now.date():
        status = EventStatus.PLANNED if day > ctx.now.date() else EventStatus.DONE
    source = f"{state.get('text', '')}\n{text}"
    if slots.get("activity") is None:
        await _ask(ctx, FOLLOWUP_ACTIVITY, status, texts.ASK_ACTIVITY, slots, source)
        return True
    await record_all(ctx, _items(slots), status=status, source_text=source)
    return True
