"""Each handler through the whole message path, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from storage.db import transaction
from storage.models import (
    Activity,
    Attendance,
    AuditLog,
    Conversation,
    Identity,
    InboxEvent,
    Member,
)
from storage.roster import school_named
from tests.chat_harness import Chat, at

REPORT = "今天上午在泗顶镇中心小学开展了三年级数学集体备课，主题是《分数的初步认识》，12人参加"


async def test_checkin_recorded_for_today_once(chat: Chat) -> None:
    first = await chat.say("张丽", "签到")
    assert first == ["张丽签到成功 ✓ 10:00"]
    again = await chat.say("张丽", "签到")
    assert "已签到过了" in again[0]
    rows = await chat.rows(Attendance, type="checkin")
    assert [(r.date.isoformat(), r.late) for r in rows] == [("2026-11-26", False)]


async def test_checkout_after_checkin(chat: Chat) -> None:
    await chat.say("张丽", "签到")
    chat.clock.advance(timedelta(hours=2))
    reply = await chat.say("张丽", "签退")
    assert reply == ["张丽签退成功 ✓ 12:00"]
    assert len(await chat.rows(Attendance, type="checkout")) == 1


async def test_report_stores_every_slot_and_echoes_them(chat: Chat) -> None:
    reply = await chat.say("张丽", REPORT)
    assert len(reply) == 1
    for part in ("11月26日", "三年级", "数学", "集体备课", "12人"):
        assert part in reply[0]
    [row] = await chat.rows(Activity)
    assert (row.status, row.activity, row.date.isoformat(), row.subject, row.grade,
            row.participants, row.topic) == (
        "done", "lesson_prep", "2026-11-26", "数学", "三年级", 12, "分数的初步认识")
    [source] = await chat.rows(InboxEvent, id=row.inbox_id)
    assert source.payload["text"] == REPORT
    audit = await chat.rows(AuditLog, entity="activity", action="create")
    assert len(audit) == 1 and audit[0].after["participants"] == 12


async def test_report_without_activity_asks_once_and_completes(chat: Chat) -> None:
    reply = await chat.say("张丽", "昨天开展了一次活动，15人参加")
    assert reply == [texts.ASK_ACTIVITY]
    assert await chat.rows(Activity) == []
    assert len(await chat.rows(Conversation)) == 1
    reply = await chat.say("张丽", "集体备课")
    assert "集体备课" in reply[0] and "15人" in reply[0]
    [row] = await chat.rows(Activity)
    assert (row.activity, row.date.isoformat(), row.participants) == (
        "lesson_prep", "2026-11-25", 15)
    assert await chat.rows(Conversation) == []


async def test_followup_answer_only_counts_from_the_same_person(chat: Chat) -> None:
    await chat.say("张丽", "昨天开展了一次活动")
    await chat.say("李娜", "听评课")
    [waiting] = await chat.rows(Conversation)
    zhang = waiting.member_id
    assert await chat.rows(Activity, reporter_id=zhang) == []
    await chat.say("张丽", "听评课")
    [row] = await chat.rows(Activity, reporter_id=zhang)
    assert (row.activity, row.date.isoformat()) == ("observation", "2026-11-25")


async def test_followup_can_be_cancelled(chat: Chat) -> None:
    await chat.say("张丽", "昨天开展了一次活动")
    assert await chat.say("张丽", "算了") == [texts.FOLLOWUP_CANCELLED]
    assert await chat.rows(Activity) == []
    assert await chat.rows(Conversation) == []


async def test_undo_withdraws_own_last_entry(chat: Chat) -> None:
    await chat.say("张丽", REPORT)
    await chat.say("张丽", "昨天组织了听评课活动")
    reply = await chat.say("张丽", "撤销")
    assert reply == ["已撤销：11月25日的听评课记录。"]
    rows = {r.activity: r.withdrawn for r in await chat.rows(Activity)}
    assert rows == {"lesson_prep": False, "observation": True}
    undo = await chat.rows(AuditLog, action="undo", entity="activity")
    assert len(undo) == 1 and undo[0].before["withdrawn"] is False
    assert await chat.say("李娜", "撤销") == [texts.UNDO_NOTHING]


async def test_query_counts_community_with_quota(chat: Chat) -> None:
    await chat.say("张丽", REPORT)
    await chat.say("张丽", "昨天组织了听评课活动")
    await chat.say("张丽", "撤销")
    reply = await chat.say("李娜", "本月集体备课开展几次了？")
    assert reply == ["融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次"]
    await chat.say("李娜", "今天下午县实小开展了语文集体备课")
    reply = await chat.say("韦国庆", "本月集体备课开展几次了？")
    assert reply == ["融安县实验小学教共体 本月集体备课 2/2 次，已完成 ✓"]


async def test_query_of_other_community_does_not_count_ours(chat: Chat) -> None:
    await chat.say("张丽", REPORT)
    reply = await chat.say("刘洋", "本月集体备课开展几次了？", chat="融安县第二实验小学教共体群")
    assert reply == ["融安县第二实验小学教共体 本月集体备课 0/2 次，还差 2 次"]


async def test_plan_is_stored_as_planned_and_checkin_links_to_it(chat: Chat) -> None:
    reply = await chat.say("韦国庆", "明天下午两点在泗顶中心校开展英语集体备课")
    assert reply and "11月27日 14:00" in reply[0]
    [plan] = await chat.rows(Activity)
    assert (plan.status, plan.date.isoformat(), plan.time) == ("planned", "2026-11-27", "14:00")
    chat.clock.moment = at("2026-11-27T14:10:00")
    reply = await chat.say("张丽", "签到")
    assert "迟到" not in reply[0]  # the group is not told who came late; the sheet is
    [checkin] = await chat.rows(Attendance, type="checkin")
    assert (checkin.activity_id, checkin.late) == (plan.id, True)
    chat.clock.moment = at("2026-11-27T15:00:00")
    reply = await chat.say("张丽", "签退")
    assert "早退" not in reply[0]  # no stated end, no configured length: never guessed


async def test_checkin_before_window_is_refused(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午三点开展英语集体备课")
    reply = await chat.say("张丽", "签到")
    assert "14:00" in reply[0]
    assert await chat.rows(Attendance) == []


async def test_leave_is_tied_to_the_planned_activity(chat: Chat) -> None:
    await chat.say("韦国庆", "明天下午两点开展英语集体备课")
    reply = await chat.say("张丽", "明天的集体备课我请假")
    assert reply == ["已为张丽登记请假：11月27日的集体备课。"]
    [plan] = await chat.rows(Activity)
    [leave] = await chat.rows(Attendance, type="leave")
    assert (leave.date.isoformat(), leave.activity_id) == ("2026-11-27", plan.id)


async def test_chatter_is_silent_in_group_and_hinted_in_private(chat: Chat) -> None:
    assert await chat.say("张丽", "好的收到") == []
    assert await chat.say("张丽", "谢谢王老师的分享") == []
    assert await chat.say("张丽", "好的收到", p2p=True) == [texts.SMALL_TALK_REPLY]
    assert await chat.say("张丽", "今天天气不错", p2p=True) == [texts.PRIVATE_HINT]
    assert await chat.say("张丽", "@教联助手 今天天气不错") == [texts.GROUP_HINT]
    assert await chat.say("张丽", "@教联助手 谢谢") == []


async def test_help(chat: Chat) -> None:
    assert await chat.say("张丽", "帮助") == [texts.HELP]


async def test_unknown_sender_is_asked_to_bind_and_nothing_stored(chat: Chat) -> None:
    assert await chat.say("陌生人", REPORT) == [texts.WHO_ARE_YOU]
    assert await chat.rows(Activity) == []
    assert await chat.say("陌生人", "好的收到") == []


async def _new_teacher(chat: Chat, name: str, school: str) -> None:
    """A roster member with no account yet (the demo links every member on the console)."""
    async with transaction(chat.runtime.factory) as session:
        found = await school_named(session=session, name=school)
        assert found is not None
        session.add(Member(name=name, role="teacher", school_id=found.id, subjects=["数学"]))


async def test_bind_links_identity_when_name_and_school_match(chat: Chat) -> None:
    await _new_teacher(chat, "王小芳", "沙子乡中心小学")
    reply = await chat.say("new-open-id", "我是沙子中心校的王小芳，教数学")
    assert reply == ["绑定成功！你好，沙子乡中心小学的王小芳老师。",
                     "王小芳 已绑定 控制台账号 new-open-id；如非本人请回复“解除”"]
    assert len(await chat.rows(Identity, external_id="new-open-id")) == 1
    assert (await chat.say("new-open-id", "签到"))[0].startswith("王小芳签到成功")


async def test_bind_refuses_unknown_and_taken(chat: Chat) -> None:
    reply = await chat.say("x1", "我是沙子乡中心小学的李四")
    assert "没有找到" in reply[0]
    reply = await chat.say("x3", "我是沙子乡中心小学的王芳")
    assert reply[0] == texts.BIND_WAITS.format(who="沙子乡中心小学的王芳")
    assert await chat.rows(Identity, external_id="x3") == []


async def test_admin_binds_a_group_and_teachers_cannot(chat: Chat) -> None:
    denied = await chat.say("张丽", "绑定本群 融安县初级中学教共体", chat="新群")
    assert denied == [texts.GROUP_BIND_ADMIN_ONLY]
    ok = await chat.say("蒙建华", "绑定本群 融安县初级中学教共体", chat="新群")
    assert ok == ["本群已绑定到融安县初级中学教共体。"]
    await chat.say("黄志强", "今天开展了物理集体备课", chat="新群")
    [row] = await chat.rows(Activity)
    assert row.community_id is not None
    reply = await chat.say("黄志强", "本月集体备课几次", chat="新群")
    assert reply == ["融安县初级中学教共体 本月集体备课 1/2 次，还差 1 次"]


async def test_semester_queries_follow_the_configured_school_calendar(chat: Chat) -> None:
    # The autumn term's count starts the day after the spring term ends (July), so a
    # training in the summer before term counts for this semester, as in the digests.
    await chat.say("韦国庆", "8月25日组织了新学期教师培训")
    reply = await chat.say("韦国庆", "本学期培训开展了几次")
    assert reply == ["融安县实验小学教共体 本学期教师培训 1/1 次，已完成 ✓"]
