"""Cancelling and moving plans, and the organiser's answer to "did it take place?".

A plan is found by activity and day (else the community's next plan of that activity); with
several candidates the bot asks which one. Only the organiser, a principal of the community
or an admin may change it. A change is one row updated, never a second plan; its queued
reminders are withdrawn and the scheduler queues fresh ones for a new time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from handlers import texts
from handlers.activity import (
    community_for,
    is_cancel_word,
    moment,
    school_for,
    summary_of,
)
from handlers.format import md
from handlers.messages import Target
from handlers.nlu.slot_json import clock_of, clock_text, slots_from_json, slots_to_json
from handlers.permissions import may_manage_plan
from handlers.routing import Context, Router
from storage.conversations import end_conversation, start_conversation
from storage.events import asked_plan, change_event, upcoming_plans
from storage.models import Activity, ChatGroup, Conversation, EventStatus, School
from storage.roster import school_named

router = Router("plans")

FOLLOWUP_PICK = "pick_plan"
OUTCOME = re.compile(r"^\s*(?:(?P<held>已开展|已经开展了?|开展了|已举行)"
                     r"|(?P<cancel>取消|已取消|取消了|没开展))"
                     r"\s*(?:[，,。.!！]\s*(?P<rest>.*))?$")
# How long an organiser's 已开展 / 取消 still answers the bot's question.
OUTCOME_ANSWER_WITHIN = dt.timedelta(days=7)
_PICK = re.compile(r"^\s*(?:第)?([1-9])\s*(?:个|项)?\s*[。.]?\s*$")


def _what(ctx: Context, day: dt.date | None, code: str | None) -> str:
    when = md(day, ctx.now.date()) if day is not None else ""
    return texts.PLAN_WHAT.format(date=when, activity=ctx.activity_name(code))


async def _candidates(ctx: Context, *, day: dt.date | None, slots: Mapping[str, Any]
                      ) -> list[Activity]:
    school = await school_for(ctx, None)
    plans = await upcoming_plans(session=ctx.session,
                                 community_id=await community_for(ctx, school),
                                 activity=slots.get("activity"), day=day, today=ctx.now.date())
    if slots.get("time"):
        plans = [p for p in plans if p.time == clock_text(slots["time"])] or plans
    if slots.get("school"):
        named = await school_named(session=ctx.session, name=str(slots["school"]))
        if named is not None:
            plans = [p for p in plans if p.school_id == named.id] or plans
    return plans


@router.on("cancel")
async def handle_cancel(ctx: Context) -> None:
    slots = ctx.parsed.as_dict()
    plans = await _candidates(ctx, day=slots.get("date"), slots=slots)
    await _act_on(ctx, "cancel", plans, slots)


@router.on("reschedule")
async def handle_reschedule(ctx: Context) -> None:
    slots = ctx.parsed.as_dict()
    original: dt.date | None = slots.get("from_date")
    if original is not None:
        plans = await _candidates(ctx, day=original, slots={**slots, "time": None})
    else:
        named: dt.date | None = slots.get("date")
        plans = await _candidates(ctx, day=named, slots={**slots, "time": None}) if named else []
        if not plans:
            plans = await _candidates(ctx, day=None, slots={**slots, "time": None})
    await _act_on(ctx, "reschedule", plans, slots)


async def _act_on(ctx: Context, action: str, plans: list[Activity],
                  slots: Mapping[str, Any]) -> None:
    mine = [p for p in plans
            if await may_manage_plan(session=ctx.session, member=ctx.member, event=p)]
    if plans and not mine:
        ctx.reply(texts.PLAN_ACTION_NOT_ALLOWED.format(action=texts.PLAN_ACTIONS[action]))
        return
    plans = mine
    if not plans:
        day: dt.date | None = slots.get("from_date") or slots.get("date") \
            if action == "cancel" else slots.get("from_date")
        template = texts.CANCEL_NOT_FOUND if action == "cancel" else texts.RESCHEDULE_NOT_FOUND
        ctx.reply(template.format(what=_what(ctx, day, slots.get("activity"))))
        return
    if len(plans) == 1:
        await _apply(ctx, action, plans[0], slots)
        return
    assert ctx.member is not None and ctx.member.id is not None
    shown = plans[:9]
    await start_conversation(
        session=ctx.session, platform=ctx.msg.platform, chat_id=ctx.msg.chat_id,
        member_id=ctx.member.id, kind=FOLLOWUP_PICK,
        state={"action": action, "ids": [p.id for p in shown], "slots": slots_to_json(slots)},
        expires_at=ctx.now + ctx.services.followup)
    items = "；".join(texts.PICK_PLAN_ITEM.format(n=n, summary=summary_of(ctx, p))
                     for n, p in enumerate(shown, 1))
    ctx.reply(texts.PICK_PLAN.format(n=len(shown), items=items))


async def continue_pick(ctx: Context, conv: Conversation) -> bool:
    """The answer to "which plan?": a number applies the change; anything else ends it."""
    state = conv.state or {}
    ids = [int(i) for i in state.get("ids") or []]
    text = ctx.msg.text.strip()
    match = _PICK.match(text)
    assert ctx.member is not None and ctx.member.id is not None
    if match is None or not 1 <= int(match.group(1)) <= len(ids):
        if is_cancel_word(text):
            await _end(ctx)
            ctx.reply(texts.FOLLOWUP_CANCELLED)
            return True
        if ctx.parsed.intent == "unknown" and not state.get("asked_twice"):
            conv.state = {**state, "asked_twice": True}
            ctx.session.add(conv)
            ctx.reply(texts.PICK_PLAN_AGAIN.format(n=len(ids)))
            return True
        await _end(ctx)
        return ctx.parsed.intent == "unknown"
    await _end(ctx)
    plan = await ctx.session.get(Activity, ids[int(match.group(1)) - 1])
    if plan is None or plan.withdrawn or plan.status != EventStatus.PLANNED:
        ctx.reply(texts.CANCEL_NOT_FOUND.format(what=texts.PLAN_WHAT.format(date="", activity="")))
        return True
    await _apply(ctx, str(state.get("action")), plan, slots_from_json(state.get("slots") or {}))
    return True


async def _end(ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    await end_conversation(session=ctx.session, platform=ctx.msg.platform,
                           chat_id=ctx.msg.chat_id, member_id=ctx.member.id)


async def _apply(ctx: Context, action: str, plan: Activity, slots: Mapping[str, Any]) -> None:
    assert ctx.member is not None
    if not await may_manage_plan(session=ctx.session, member=ctx.member, event=plan):
        ctx.reply(texts.PLAN_ACTION_NOT_ALLOWED.format(action=texts.PLAN_ACTIONS[action]))
        return
    if action == "cancel":
        await change_event(session=ctx.session, event=plan, by=ctx.member.id, now=ctx.now,
                           action="cancel", changes={"status": EventStatus.CANCELLED.value})
        await _announce(ctx, plan, texts.CANCEL_OK.format(summary=summary_of(ctx, plan)))
        return
    old = md(plan.date, ctx.now.date()) + (f" {plan.time}" if plan.time else "")
    await change_event(session=ctx.session, event=plan, by=ctx.member.id, now=ctx.now,
                       action="reschedule", changes=await _moved(ctx, plan, slots))
    await _announce(ctx, plan, texts.RESCHEDULE_OK.format(summary=summary_of(ctx, plan),
                                                          old=old))


async def _moved(ctx: Context, plan: Activity, slots: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's new day, time, end and school: what the message names, the rest kept. A
    move to no particular day (推迟到下周, 另行通知) leaves the day open."""
    day: dt.date | None = slots.get("date")
    at: dt.time | None = slots.get("time")
    if day is None and at is not None:
        day = plan.date
    if at is None and day is not None:
        at = clock_of(plan.time)
    end = moment(day, slots.get("end_time"), ctx.services.tz)
    if end is None and plan.ends_at is not None and plan.starts_at is not None:
        start = moment(day, at, ctx.services.tz)
        end = start + (plan.ends_at - plan.starts_at) if start is not None else None
    changes: dict[str, Any] = {"date": day, "time": clock_text(at) if day else None,
                               "starts_at": moment(day, at, ctx.services.tz), "ends_at": end}
    if slots.get("school"):
        school: School | None = await school_named(session=ctx.session, name=str(slots["school"]))
        if school is not None:
            changes["school_id"] = school.id
    return changes


async def _announce(ctx: Context, plan: Activity, text: str) -> None:
    """One reply here; when the change was made elsewhere, one notice in the plan's group."""
    ctx.reply(text)
    if plan.group_id is None or (ctx.group is not None and ctx.group.id == plan.group_id):
        return
    group = await ctx.session.get(ChatGroup, plan.group_id)
    if group is not None and group.platform == ctx.msg.platform:
        ctx.reply(text, to=Target(kind="chat", id=group.chat_id, name=group.name))


async def handle_outcome(ctx: Context, match: re.Match[str]) -> bool:
    """已开展 / 取消 (with a head count: 已开展，8人参加) from an organiser the bot asked about
    a plan. Bare, from anyone else, it answers nothing and records nothing (silence in a
    group unless addressed); with more words it goes on to the parser."""
    if ctx.member is None or ctx.member.id is None:
        return False
    plan = await asked_plan(session=ctx.session, organiser_id=ctx.member.id,
                            since=ctx.now - OUTCOME_ANSWER_WITHIN)
    if plan is None:
        if match.group("rest"):
            return False
        if not ctx.msg.is_group or ctx.msg.addressed:
            ctx.reply(texts.OUTCOME_NOTHING)
        return True
    if match.group("held"):
        changes: dict[str, Any] = {"status": EventStatus.HELD.value, "confirmed": True}
        if ctx.parsed.participants is not None and plan.participants is None:
            changes["participants"] = ctx.parsed.participants
        await change_event(session=ctx.session, event=plan, by=ctx.member.id, now=ctx.now,
                           action="held", changes=changes)
        ctx.reply(texts.OUTCOME_HELD.format(summary=summary_of(ctx, plan)))
    else:
        await change_event(session=ctx.session, event=plan, by=ctx.member.id, now=ctx.now,
                           action="cancel", changes={"status": EventStatus.CANCELLED.value})
        ctx.reply(texts.OUTCOME_CANCELLED.format(summary=summary_of(ctx, plan)))
    return True

