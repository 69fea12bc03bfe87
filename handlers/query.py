"""Queries: real figures from the database for the period, activity and scope asked."""

from __future__ import annotations

import re

from handlers import texts
from handlers.quotas import quota_for, quotas_from_settings
from handlers.routing import Context, Router
from storage.activities import count_activities, count_attendance, count_by_activity
from storage.models import Community, School
from storage.roster import school_community, school_named

router = Router("query")

# "我" as a word of its own (我的, 我这周…) asks about the sender's own records.
OWN = re.compile(r"我(?!们)")
ATTENDANCE_WORDS = ("签到", "打卡", "考勤")


async def _scope(ctx: Context) -> tuple[str, dict[str, int | None]]:
    """(how to name the scope, the filters) for this query."""
    assert ctx.member is not None
    if ctx.parsed.school:
        school = await school_named(session=ctx.session, name=ctx.parsed.school)
        if school is not None:
            return school.name, {"school_id": school.id}
    if OWN.search(ctx.msg.text):
        return texts.SCOPE_ME, {"reporter_id": ctx.member.id}
    community_id = ctx.group.community_id if ctx.group else None
    if community_id is None:
        community_id = await school_community(session=ctx.session, school_id=ctx.member.school_id)
    if community_id is not None:
        community = await ctx.session.get(Community, community_id)
        return (community.name if community else ""), {"community_id": community_id}
    if ctx.member.school_id is not None:
        school = await ctx.session.get(School, ctx.member.school_id)
        return (school.name if school else ""), {"school_id": ctx.member.school_id}
    return "", {}


@router.on("query")
async def handle_query(ctx: Context) -> None:
    assert ctx.member is not None
    period = ctx.parsed.period or "this_month"
    start, end = ctx.services.period_range(period, ctx.now.date())
    scope_name, filters = await _scope(ctx)
    period_name = texts.PERIODS.get(period, "")
    scope_prefix = f"{scope_name}" if scope_name == texts.SCOPE_ME else ""
    if ctx.parsed.activity is None and any(w in ctx.msg.text for w in ATTENDANCE_WORDS):
        member_id = filters.get("reporter_id")
        count = await count_attendance(session=ctx.session, start=start, end=end,
                                       member_id=member_id,
                                       community_id=filters.get("community_id"))
        ctx.reply(texts.QUERY_ATTENDANCE.format(scope=scope_prefix, period=period_name,
                                                count=count))
        return
    if ctx.parsed.activity is not None:
        count = await count_activities(
            session=ctx.session, start=start, end=end, activity=ctx.parsed.activity,
            community_id=filters.get("community_id"), school_id=filters.get("school_id"),
            reporter_id=filters.get("reporter_id"),
        )
        name = ctx.activity_name(ctx.parsed.activity)
        quota = quota_for(quotas_from_settings(ctx.services.settings.get("scheduler")),
                          ctx.parsed.activity, period)
        if quota is not None and "community_id" in filters:
            left = max(quota.minimum - count, 0)
            status = texts.QUOTA_MET if left == 0 else texts.QUOTA_SHORT.format(left=left)
            ctx.reply(texts.QUERY_QUOTA.format(scope="", period=period_name, activity=name,
                                               count=count, need=quota.minimum, status=status))
        else:
            ctx.reply(texts.QUERY_COUNT.format(scope=scope_prefix, period=period_name,
                                               activity=name, count=count))
        return
    counts = await count_by_activity(session=ctx.session, start=start, end=end, **filters)
    total = sum(counts.values())
    if total == 0:
        ctx.reply(texts.QUERY_NOTHING.format(scope=scope_prefix, period=period_name))
        return
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    detail = "：" + "、".join(f"{ctx.activity_name(code)}{n}次" for code, n in ranked)
    ctx.reply(texts.QUERY_ALL.format(scope=scope_prefix, period=period_name, count=total,
                                     detail=detail))
