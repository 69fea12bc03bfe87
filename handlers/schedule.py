"""Questions addressed to the bot that the record answers: the schedule, this week's digest,
and requests it cannot do but has an answer for (spec/conversation.md, commands).

They are commands in front of the parser, answered only when the bot is addressed (an
@mention, or a private chat): in a group, "明天培训几点开始" between colleagues is theirs.
"""

from __future__ import annotations

import datetime as dt
import re

from handlers import texts
from handlers.activity import community_for, school_for, summary_of
from handlers.messages import Target
from handlers.permissions import may_get_digest
from handlers.routing import Context
from storage.events import upcoming_plans
from storage.models import School

SCHEDULE = re.compile(
    r"几点|什么时候|啥时候|哪天|哪一天|有什么安排|有啥安排|什么安排|有什么活动|有啥活动|安排是什么|"
    r"怎么安排"
)
WHEN = re.compile(r"今天|明天|后天|这周|本周|这星期|这礼拜|下周|下星期|下礼拜")
DIGEST_NOW = re.compile(r"^\s*(?:请)?(?:发个|发一下|发一份|来个|来一份|看看|看一下|查看|发)?"
                        r"(?:本周|这周|这星期)?(?:的)?周报(?:吧|呗|看看)?\s*[。!！?？]?\s*$")
REMIND_OTHERS = re.compile(r"(?:提醒|通知)(?:一下)?(?:大家|各位|老师们|全体)")
MAX_LINES = 10
# Without a day named, the schedule is the next two weeks.
HORIZON = dt.timedelta(days=14)


# What a message that records something means stays that; only questions are ours.
QUESTION_INTENTS = ("unknown", "query", "help")


def _addressed(ctx: Context) -> bool:
    return (not ctx.msg.is_group or ctx.msg.addressed) and ctx.parsed.intent in QUESTION_INTENTS


def _span(ctx: Context, word: str | None) -> tuple[dt.date, dt.date, str]:
    """[first, last] day asked about, and how to name it."""
    today = ctx.now.date()
    monday = today - dt.timedelta(days=today.weekday())
    if word in ("今天", "明天", "后天"):
        day = today + dt.timedelta(days=("今天", "明天", "后天").index(word))
        return day, day, texts.SCHEDULE_DAY.format(word=word, date=f"{day.month}月{day.day}日")
    if word in ("这周", "本周", "这星期", "这礼拜"):
        return today, monday + dt.timedelta(days=6), texts.SCHEDULE_THIS_WEEK
    if word in ("下周", "下星期", "下礼拜"):
        start = monday + dt.timedelta(days=7)
        return start, start + dt.timedelta(days=6), texts.SCHEDULE_NEXT_WEEK
    return today, today + HORIZON, texts.SCHEDULE_SOON


async def handle_schedule(ctx: Context, match: re.Match[str]) -> bool:
    """明天培训几点开始 / 这周有什么安排 → the plans of that span, from the record."""
    if not _addressed(ctx) or ctx.member is None:
        return False
    code = ctx.services.parser.mentioned_activity(ctx.msg.text)
    if code is None and not any(word in match.group(0) for word in ("安排", "活动")):
        return False
    when = WHEN.search(ctx.msg.text)
    first, last, label = _span(ctx, when.group(0) if when else None)
    community = await community_for(ctx, await school_for(ctx, None))
    plans = [p for p in await upcoming_plans(session=ctx.session, community_id=community,
                                             activity=code, day=None, today=first)
             if p.date is not None and p.date <= last]
    what = ctx.activity_name(code) if code else texts.SCHEDULE_ANY
    if not plans:
        ctx.reply(texts.SCHEDULE_NONE.format(when=label, what=what))
        return True
    lines = []
    for plan in plans[:MAX_LINES]:
        school = await ctx.session.get(School, plan.school_id) if plan.school_id else None
        lines.append(texts.SCHEDULE_LINE.format(
            summary=summary_of(ctx, plan, school.name if school else None)))
    ctx.reply("\n".join([texts.SCHEDULE_HEAD.format(when=label, what=what), *lines]))
    return True


async def handle_digest_now(ctx: Context, match: re.Match[str]) -> bool:
    """发个周报 → the asker's digest of this week so far, privately."""
    if ctx.member is None or ctx.member.id is None or ctx.services.digest_now is None:
        return False
    if not may_get_digest(ctx.member):
        ctx.reply(texts.DIGEST_NOT_YOURS)
        return True
    digests = await ctx.services.digest_now(ctx.session, ctx.member.id, ctx.now.date())
    if not digests:
        ctx.reply(texts.DIGEST_NOT_YOURS)
        return True
    private = Target(kind="user", id=ctx.msg.sender_id, name=ctx.member.name)
    for text in digests:
        ctx.reply(text, to=private if ctx.msg.is_group else None)
    if ctx.msg.is_group:
        ctx.reply(texts.SENT_PRIVATELY)
    return True


async def handle_remind_others(ctx: Context, match: re.Match[str]) -> bool:
    """@教联助手 提醒大家明天培训 → the bot already does that, and when."""
    if not ctx.msg.is_group or not _addressed(ctx):
        return False
    ctx.reply(texts.REMINDERS_ARE_AUTOMATIC)
    return True

