"""The record a secretary would sign, through the console's whole message path: corrections,
cancellations, moves, co-reports, plans that happened, make-ups and undo limits
(spec/conversation.md; on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from handlers import texts
from handlers.clock import SHANGHAI
from handlers.sheet import sheet_for
from storage.db import transaction
from storage.events import reports_of
from storage.models import (
    Activity,
    ActivityReport,
    Attendance,
    AuditLog,
    Conversation,
    OutboxMessage,
)
from storage.outbox import NewMessage, enqueue
from storage.roster import school_named
from tests.chat_harness import Chat, at

REPORT_9 = "今天上午在泗顶中心校开展了三年级数学集体备课，9人参加"


async def _events(chat: Chat, **where: object) -> list[Activity]:
    return [a for a in await chat.rows(Activity, **where) if not a.withdrawn]


async def _school_id(chat: Chat, name: str) -> int:
    async with chat.runtime.factory() as session:
        school = await school_named(session=session, name=name)
        assert school is not None and school.id is not None
        return school.id


# --- corrections --------------------------------------------------------------------------


async def test_correction_amends_the_last_report_and_keeps_the_old_value(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    reply = await chat.say("张丽", "不对，是11人")
    assert len(reply) == 1 and reply[0].startswith("已更正：11月26日")
    assert "11人" in reply[0] and "三年级数学集体备课" in reply[0]
    [event] = await _events(chat)
    assert (event.participants, event.subject, event.grade) == (11, "数学", "三年级")
    [audit] = await chat.rows(AuditLog, action="correct")
    assert (audit.before["participants"], audit.after["participants"]) == (9, 11)


async def test_correction_of_the_hour_moves_the_start(chat: Chat) -> None:
    """A typed time from the parser is kept as "15:00" in the row and in the report's JSON."""
    await chat.say("张丽", "今天上午9点在泗顶中心校开展了三年级数学集体备课，9人参加")
    reply = await chat.say("张丽", "纠正一下，时间是下午三点")
    assert reply and reply[0].startswith("已更正：11月26日 15:00")
    [event] = await _events(chat)
    assert event.time == "15:00" and event.starts_at is not None
    assert event.starts_at.astimezone(SHANGHAI) == at("2026-11-26T15:00")
    [report] = await _reports(chat, event)
    assert report.slots is not None
    assert (report.slots["date"], report.slots["time"]) == ("2026-11-26", "15:00")


async def test_addressed_correction_never_adds_a_record(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    reply = await chat.say("张丽", "@教联助手 更正：参加人数是11人")
    assert reply and reply[0].startswith("已更正")
    [event] = await _events(chat)
    assert event.participants == 11
    query = await chat.say("张丽", "本月集体备课开展几次了？")
    assert "1/2" in query[0]


async def test_correction_with_nothing_to_correct_explains(chat: Chat) -> None:
    assert await chat.say("李娜", "不对，是11人") == [texts.CORRECT_NOTHING]
    assert await chat.rows(Activity) == []


async def test_correction_of_an_entry_older_than_a_day_is_refused(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    chat.clock.advance(timedelta(hours=25))
    assert await chat.say("张丽", "不对，是11人") == [texts.CORRECT_NOTHING]
    [event] = await _events(chat)
    assert event.participants == 9


# --- cancellations and moves ----------------------------------------------------------------


async def test_cancel_marks_the_plan_cancelled_with_one_notice(chat: Chat) -> None:
    await chat.say("韦国庆", "下周三下午两点在县实小开展数学集体备课")
    reply = await chat.say("韦国庆", "@教联助手 下周三的集备取消了")
    assert len(reply) == 1 and reply[0].startswith("已取消：12月2日")
    [plan] = await chat.rows(Activity)
    assert plan.status == "cancelled" and not plan.withdrawn
    assert len(await chat.rows(Activity)) == 1  # never a second plan
    [audit] = await chat.rows(AuditLog, action="cancel")
    assert audit.before["status"] == "planned"


async def test_only_the_organiser_a_principal_or_an_admin_may_cancel(chat: Chat) -> None:
    await chat.say("李娜", "下周三下午两点在县实小开展语文集体备课")
    refused = await chat.say("陈静", "下周三的集备取消了")
    assert refused == [texts.PLAN_ACTION_NOT_ALLOWED.format(action="取消")]
    [plan] = await chat.rows(Activity)
    assert plan.status == "planned"
    assert (await chat.say("欧阳勇", "下周三的集备取消了"))[0].startswith("已取消")


async def test_cancel_with_several_plans_asks_which(chat: Chat) -> None:
    await chat.say("韦国庆", "下周三下午两点在县实小开展数学集体备课")
    await chat.say("韦国庆", "下下周三下午两点在县实小开展英语集体备课")
    question = await chat.say("韦国庆", "集体备课取消")
    assert len(question) == 1 and question[0].startswith("找到 2 个计划")
    assert "1. 12月2日" in question[0] and "2. 12月9日" in question[0]
    reply = await chat.say("韦国庆", "2")
    assert reply[0].startswith("已取消：12月9日")
    statuses = {a.date.isoformat(): a.status for a in await chat.rows(Activity)}
    assert statuses == {"2026-12-02": "planned", "2026-12-09": "cancelled"}


async def test_reschedule_moves_the_plan_in_place(chat: Chat) -> None:
    await chat.say("韦国庆", "本周五下午三点在泗顶中心校开展数学教研活动")
    reply = await chat.say("韦国庆", "原定本周五的教研活动推迟到下周一")
    assert len(reply) == 1 and reply[0].startswith("已改期：11月30日 15:00")
    assert "原定11月27日 15:00" in reply[0]
    [plan] = await chat.rows(Activity)
    assert (plan.date.isoformat(), plan.time, plan.status) == ("2026-11-30", "15:00", "planned")
    assert plan.school_id == await _school_id(chat, "泗顶镇中心小学")


async def test_reschedule_of_the_hour_keeps_day_and_school(chat: Chat) -> None:
    await chat.say("韦国庆", "明天上午九点在泗顶中心校开展送教下乡")
    reply = await chat.say("韦国庆", "明天送教下乡改到下午2点半，地点不变")
    assert reply[0].startswith("已改期：11月27日 14:30")
    [plan] = await chat.rows(Activity)
    assert (plan.date.isoformat(), plan.time) == ("2026-11-27", "14:30")
    assert plan.school_id == await _school_id(chat, "泗顶镇中心小学")


async def test_a_move_picked_from_several_plans_keeps_its_new_hour(chat: Chat) -> None:
    """The move waits in the question's JSON state; its day and hour come back typed."""
    await chat.say("韦国庆", "下周三下午两点在县实小开展数学集体备课")
    await chat.say("韦国庆", "下下周三下午两点在县实小开展英语集体备课")
    question = await chat.say("韦国庆", "集体备课改到下周五下午4点")
    assert len(question) == 1 and question[0].startswith("找到 2 个计划")
    [conv] = await chat.rows(Conversation)
    assert (conv.state["slots"]["date"], conv.state["slots"]["time"]) == ("2026-12-04", "16:00")
    reply = await chat.say("韦国庆", "2")
    assert reply[0].startswith("已改期：12月4日 16:00")
    moved = [a for a in await _events(chat) if a.subject == "英语"]
    assert [(a.date.isoformat() if a.date else None, a.time) for a in moved] == [
        ("2026-12-04", "16:00")]
    assert moved[0].starts_at is not None
    assert moved[0].starts_at.astimezone(SHANGHAI) == at("2026-12-04T16:00")


# --- what is not an event -------------------------------------------------------------------


async def test_statements_that_are_not_events_record_nothing(chat: Chat) -> None:
    for text in ("这个月的集体备课还没搞", "各校月底前开展一次家长学校",
                 "明天集体备课我准时到😊", "请假条怎么写", "请大家把集体备课的照片上传一下"):
        assert await chat.say("张丽", text) == [], text
    assert await chat.rows(Activity) == []
    assert await chat.rows(Attendance) == []


# --- several events, impossible dates, years, follow-ups ---------------------------------------


async def test_several_events_in_one_message_make_one_record_each(chat: Chat) -> None:
    reply = await chat.say("张丽", "今天上午在泗顶中心校听了两节课，下午进行了集体备课")
    assert len(reply) == 1 and reply[0].startswith("已记录 2 项")
    codes = sorted(a.activity for a in await _events(chat))
    assert codes == ["lesson_prep", "observation"]
    undone = await chat.say("张丽", "撤销")
    assert "听评课" in undone[0] and "集体备课" in undone[0]
    assert await _events(chat) == []


async def test_an_impossible_date_is_asked_for_never_guessed(chat: Chat) -> None:
    reply = await chat.say("张丽", "11.31在泗顶中心校开展了集体备课")
    assert reply == [texts.ASK_DATE]
    assert await chat.rows(Activity) == []
    reply = await chat.say("张丽", "11月25日")
    [event] = await _events(chat)
    assert (event.date.isoformat(), event.activity) == ("2026-11-25", "lesson_prep")
    assert reply[0].startswith("已记录：11月25日")


async def test_a_report_of_an_earlier_year_shows_the_year(chat: Chat) -> None:
    reply = await chat.say("张丽", "12月30日开展了送教下乡")
    assert "2025年12月30日" in reply[0]
    [event] = await _events(chat)
    assert event.date.isoformat() == "2025-12-30"


async def test_a_late_answer_to_an_expired_question_keeps_nothing(chat: Chat) -> None:
    assert await chat.say("张丽", "开展了一次活动，12人参加") == [texts.ASK_ACTIVITY]
    chat.clock.advance(timedelta(minutes=31))
    assert await chat.say("张丽", "集体备课") == [texts.FOLLOWUP_EXPIRED]
    assert await chat.rows(Activity) == []
    assert await chat.rows(Conversation) == []


async def test_the_answer_keeps_every_slot_of_the_first_message(chat: Chat) -> None:
    await chat.say("张丽", "开展了一次活动，12人参加")
    await chat.say("张丽", "集体备课")
    [event] = await _events(chat)
    assert (event.activity, event.participants) == ("lesson_prep", 12)


# --- sign-ins --------------------------------------------------------------------------------


async def test_late_signin_names_its_day_and_is_a_makeup(chat: Chat) -> None:
    reply = await chat.say("张丽", "签到 昨天忘记签了，补签一下")
    assert reply[0].startswith("已为张丽补签") and "11月25日" in reply[0]
    [row] = await chat.rows(Attendance)
    assert (row.date.isoformat(), row.makeup, row.late) == ("2026-11-25", True, False)


async def test_signin_after_the_event_is_over_is_a_makeup(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午两点在县实小开展教师培训")
    chat.clock.moment = at("2026-11-26T16:30:00")
    reply = await chat.say("李娜", "签到")
    assert "已经结束" in reply[0] and "迟到" not in reply[0]
    [row] = await chat.rows(Attendance)
    assert (row.makeup, row.late) == (True, False)


async def test_early_leave_only_against_a_stated_end(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午2点半到4点半在县实小开展教师培训")
    chat.clock.moment = at("2026-11-26T14:20:00")
    await chat.say("李娜", "签到")
    chat.clock.moment = at("2026-11-26T16:05:00")
    assert "早退" in (await chat.say("李娜", "签退", p2p=True))[0]  # privately only
    [checkout] = await chat.rows(Attendance, type="checkout")
    assert checkout.early


async def test_no_early_leave_from_an_assumed_length(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午2点半在县实小开展教师培训")
    chat.clock.moment = at("2026-11-26T14:20:00")
    await chat.say("李娜", "签到")
    chat.clock.moment = at("2026-11-26T16:05:00")
    assert "早退" not in (await chat.say("李娜", "签退"))[0]


# --- undo ------------------------------------------------------------------------------------


async def test_undo_reaches_back_one_day_only(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    chat.clock.advance(timedelta(days=30))
    await chat.say("张丽", "签到")
    assert (await chat.say("张丽", "撤销"))[0].startswith("已撤销")
    assert await chat.say("张丽", "撤销") == [texts.UNDO_TOO_OLD]
    assert await chat.say("张丽", "撤销") == [texts.UNDO_TOO_OLD]
    [event] = await _events(chat)
    assert event.participants == 9


async def test_principal_withdraws_a_teachers_record_with_reason(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    assert await chat.say("李娜", "撤销 张丽 11月26日的集体备课") == [
        texts.UNDO_OTHER_NOT_ALLOWED]
    reply = await chat.say("欧阳勇", "撤销 张丽 11月26日的集体备课")
    assert reply == [texts.UNDO_OTHER_OK.format(name="张丽", what="11月26日的集体备课记录")]
    assert await _events(chat) == []
    audits = await chat.rows(AuditLog, action="undo", entity="activity")
    assert audits[0].reason == texts.UNDO_OTHER_REASON.format(name="欧阳勇")


# --- one event, one record --------------------------------------------------------------------


async def test_two_reports_of_one_event_make_one_record(chat: Chat) -> None:
    await chat.say("张丽", "今天上午在泗顶中心校开展了数学集体备课，12人参加")
    reply = await chat.say("贲凤英", "今天上午在泗顶中心校开展了数学集体备课，15人参加")
    assert reply == ["已合并到张丽登记的 11月26日 集体备课，不重复计数。"
                     "人数按张丽登记的12人，如需更正请回复“不对，是15人”。"]
    [event] = await _events(chat)
    assert event.participants == 12
    reports = (await _reports(chat, event))
    assert len(reports) == 2
    assert "1/2" in (await chat.say("张丽", "本月集体备课开展几次了？"))[0]


async def test_a_report_of_a_planned_event_holds_the_plan_at_its_school(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午两点在县实小开展英语集体备课")
    chat.clock.moment = at("2026-11-26T17:00:00")
    reply = await chat.say("黄海波", "今天下午开展了英语集体备课，20人参加")
    assert "已标记为已开展" in reply[0]
    [event] = await _events(chat)
    assert (event.status, event.participants) == ("held", 20)
    assert event.school_id == await _school_id(chat, "融安县实验小学")


async def test_a_plan_with_signins_counts_once_started(chat: Chat) -> None:
    await chat.say("韦国庆", "今天上午十点半在县实小开展教师培训")
    assert (await chat.say("韦国庆", "本月教师培训几次？")) == [
        "融安县实验小学教共体 本月教师培训 0 次"]
    chat.clock.moment = at("2026-11-26T10:40:00")
    for name in ("李娜", "陈静", "刘芳"):
        await chat.say(name, "签到")
    [event] = await _events(chat)
    assert event.status == "held"
    assert (await chat.say("韦国庆", "本月教师培训几次？")) == [
        "融安县实验小学教共体 本月教师培训 1 次"]


async def _asked_about(chat: Chat, organiser: str, plan: str) -> None:
    """A plan posted, and the scheduler's 开展了吗？ asked at 18:00; it is 18:30 now."""
    await chat.say(organiser, plan)
    async with transaction(chat.runtime.factory) as session:
        await session.execute(update(Activity).values(outcome_asked_at=at("2026-11-26T18:00")))
    chat.clock.moment = at("2026-11-26T18:30:00")


async def test_the_organiser_answers_whether_the_plan_took_place(chat: Chat) -> None:
    await _asked_about(chat, "韦国庆", "今天下午三点在县实小开展语文教研活动")
    reply = await chat.say("韦国庆", "已开展", p2p=True)
    assert reply[0].startswith("好的，11月26日 15:00")
    [event] = await _events(chat)
    assert (event.status, event.confirmed) == ("held", True)


async def _reports(chat: Chat, event: Activity) -> list[ActivityReport]:
    async with chat.runtime.factory() as session:
        assert event.id is not None
        return (await reports_of(session=session, event_ids=[event.id]))[event.id]


# --- what a month of real chat showed ------------------------------------------------------


async def test_a_bare_activity_name_records_nothing(chat: Chat) -> None:
    assert await chat.say("何俊", "家访") == []
    assert await chat.say("何俊", "体育教研") == []
    assert await chat.rows(Activity) == []


async def test_outcome_words_nobody_asked_for_record_nothing(chat: Chat) -> None:
    assert await chat.say("张丽", "已开展") == []
    assert await chat.say("张丽", "集体备课") == []
    assert await chat.say("张丽", "已开展", p2p=True) == [texts.OUTCOME_NOTHING]
    assert await chat.say("张丽", "取消") == []
    assert await chat.rows(Activity) == []


async def test_a_plan_with_an_impossible_date_stays_a_plan_on_the_day_answered(
    chat: Chat,
) -> None:
    assert await chat.say("何俊", "11月31日在县实小开展科学公开课") == [texts.ASK_DATE]
    reply = await chat.say("何俊", "12月1日")
    assert reply[0].startswith("已登记计划：12月1日")
    [plan] = await chat.rows(Activity)
    assert (plan.status, plan.date.isoformat(), plan.activity) == (
        "planned", "2026-12-01", "open_class")


async def test_a_visit_reported_by_host_and_guest_is_one_event_at_the_plans_school(
    chat: Chat,
) -> None:
    await chat.say("韦国庆", "今天下午两点到泗顶小学送教下乡")
    chat.clock.moment = at("2026-11-26T16:50:00")
    assert "已标记为已开展" in (await chat.say(
        "李娜", "今天下午我们到泗顶小学送教下乡，送了两节课，参加教师25人"))[0]
    reply = await chat.say("张丽", "今天县实小老师来我们学校送教，参加老师有23人👏")
    assert reply == ["已合并到韦国庆登记的 11月26日 送教下乡，不重复计数。"
                     "人数按李娜登记的25人，如需更正请回复“不对，是23人”。"]
    [event] = await _events(chat)
    assert (event.status, event.participants) == ("held", 25)
    assert event.school_id == await _school_id(chat, "泗顶镇中心小学")
    assert len(await _reports(chat, event)) == 3


async def test_the_organisers_own_report_is_a_report_with_its_head_count(chat: Chat) -> None:
    await chat.say("欧阳勇", "今天下午3点在泗顶小学开展全体教师培训")
    chat.clock.moment = at("2026-11-26T17:00:00")
    reply = await chat.say("欧阳勇", "今天下午培训顺利结束，参训教师30人，辛苦大家了")
    assert "已标记为已开展" in reply[0]
    reply = await chat.say("韦春兰", "今天下午的培训参加了9人")
    assert "人数按欧阳勇登记的30人" in reply[0]
    [event] = await _events(chat)
    assert (event.status, event.participants) == ("held", 30)


async def test_arriving_forty_minutes_early_is_signed_in(chat: Chat) -> None:
    await chat.say("欧阳勇", "今天下午两点半在泗顶小学开展数学集体备课")
    chat.clock.moment = at("2026-11-26T13:50:00")
    reply = await chat.say("贲凤英", "签到")
    assert reply[0].startswith("贲凤英签到成功 ✓ 13:50") and "迟到" not in reply[0]
    [row] = await chat.rows(Attendance)
    assert row.activity_id is not None and not row.late


async def test_the_organiser_answers_with_a_head_count(chat: Chat) -> None:
    await _asked_about(chat, "刘芳", "今天下午四点在县实小开展英语教研活动")
    reply = await chat.say("刘芳", "已开展，8人参加", p2p=True)
    assert reply[0].startswith("好的，11月26日 16:00")
    [event] = await _events(chat)
    assert (event.status, event.participants) == ("held", 8)


async def test_a_correction_that_changes_nothing_says_so(chat: Chat) -> None:
    await chat.say("张丽", REPORT_9)
    reply = await chat.say("张丽", "不对，是9人")
    assert reply[0].startswith("记录已经是这样了：11月26日")
    assert await chat.rows(AuditLog, action="correct") == []


async def test_a_cancelled_plans_queued_reminders_never_go_out(chat: Chat) -> None:
    await chat.say("韦国庆", "下周三下午两点在县实小开展数学集体备课")
    [plan] = await chat.rows(Activity)
    later = at("2026-12-01T08:00")
    async with transaction(chat.runtime.factory) as session:
        for key in (f"activity:{plan.id}:2026-12-02T1400:day_before:chat:2",
                    f"activity:{plan.id}1:2026-12-02T1400:day_before:chat:2"):
            await enqueue(session=session, now=later, message=NewMessage(
                key=key, platform="console", target_kind="chat", target="群", text="预告"))
    await chat.say("韦国庆", "下周三的集备取消了")
    statuses = {m.key.split(":")[1]: m.status for m in await chat.rows(OutboxMessage)
                if m.text == "预告"}
    # Only this plan's queued rows are withdrawn (not those of plan 11, 12 …).
    assert statuses == {str(plan.id): "withdrawn", f"{plan.id}1": "pending"}


async def test_two_schools_planning_the_same_activity_on_one_day_make_two_plans(
    chat: Chat,
) -> None:
    await chat.say("韦国庆", "下周三下午两点在县实小开展数学集体备课")
    reply = await chat.say("欧阳勇", "下周三下午两点在泗顶小学开展数学集体备课")
    assert reply[0].startswith("已登记计划")
    assert len(await _events(chat)) == 2
    again = await chat.say("陈静", "下周三下午两点在县实小开展数学集体备课")
    assert again[0].startswith("这个计划已经登记过了")
    assert len(await _events(chat)) == 2


async def test_a_plan_inviting_one_schools_subject_teachers_expects_only_them(
    chat: Chat,
) -> None:
    await chat.say("韦国庆", "今天下午两点县实小语文、数学老师到泗顶小学送课")
    [plan] = await _events(chat)
    async with chat.runtime.factory() as session:
        sheet = await sheet_for(session, plan)
    # 县实小's 语文 and 数学 teachers: 李娜, 陈静, 张晓梅 (韦国庆 organises).
    assert sorted(sheet.missing) == sorted(["李娜", "陈静", "张晓梅"])


async def test_a_signin_after_an_event_by_someone_not_invited_is_no_makeup(chat: Chat) -> None:
    await chat.say("欧阳勇", "今天下午两点在泗顶小学开展数学集体备课")
    chat.clock.moment = at("2026-11-26T17:30:00")
    reply = await chat.say("黄海波", "签到")
    assert reply[0].startswith("黄海波签到成功")
    [row] = await chat.rows(Attendance)
    assert (row.activity_id, row.makeup) == (None, False)
