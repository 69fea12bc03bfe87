"""Query answers by scope (the "answers a principal can act on" issue), on SQLite and PostgreSQL.

The demo county at 2026-11-26 10:00 unless a test moves the clock: 融安县实验小学教共体 is
融安县实验小学 (lead; principal 韦国庆, teachers 李娜, 陈静, 刘芳 …) and 泗顶镇中心小学
(principal 欧阳勇, teachers 张丽 …); 蒙建华 is the bureau admin.
"""

from __future__ import annotations

from handlers import texts
from handlers.quotas import DEFAULT_QUOTAS
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from scheduler.progress import quota_progress
from scheduler.queries import load_roster
from tests.chat_harness import Chat, at

SIDING = "今天上午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"
READING = "（按教共体计：既没承办、也没有本校老师登记的学校算没开展）"


async def test_a_named_school_gets_its_own_figure_with_the_community_quota(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    await chat.say("李娜", "昨天在县实小开展了语文集体备课")
    await chat.say("陈静", "11月3日在县实小开展了数学集体备课")
    await chat.say("刘洋", "昨天在二实小开展了集体备课", chat="融安县第二实验小学教共体群")
    reply = await chat.say("韦国庆", "泗顶镇中心小学本月集体备课开展了几次")
    assert reply == ["泗顶镇中心小学 本月集体备课 1 次（教共体 3/2 ✓）"]


async def test_our_school_is_the_askers_school(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    assert await chat.say("欧阳勇", "我们学校本月集体备课开展了几次") == [
        "泗顶镇中心小学 本月集体备课 1 次（教共体 1/2，还差 1 次）"]
    assert await chat.say("韦国庆", "本校本月集体备课开展了几次") == [
        "融安县实验小学 本月集体备课 0 次（教共体 1/2，还差 1 次）"]


async def test_by_school_names_the_schools_behind_first(chat: Chat) -> None:
    await chat.say("李娜", "昨天在县实小开展了语文集体备课")
    reply = await chat.say("韦国庆", "哪些学校本月还没集体备课？")
    assert reply == ["\n".join([
        "融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次",
        f"本月还没集体备课的学校：泗顶镇中心小学{READING}",
        "· 泗顶镇中心小学 0 次",
        "· 融安县实验小学 1 次",
    ])]
    # A teacher of 泗顶 reporting the same event makes 泗顶 a school that took part in it.
    await chat.say("张丽", "昨天在县实小开展了语文集体备课")
    reply = await chat.say("韦国庆", "哪些学校本月还没集体备课？")
    assert reply == ["\n".join([
        "融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次",
        f"本月各校都开展了集体备课 ✓{READING}",
        "· 融安县实验小学 1 次",
        "· 泗顶镇中心小学 1 次",
    ])]


async def test_a_per_member_school_rule_reads_each_schools_own_count(chat: Chat) -> None:
    behind = await chat.say("韦国庆", "哪些学校本学期还没送教")
    assert behind == ["\n".join([
        "本学期送教下乡未达标的学校：泗顶镇中心小学（按每所成员校各自的次数计）",
        "· 泗顶镇中心小学 0/1 次，还差 1 次",
    ])]
    await chat.say("韦国庆", "昨天到泗顶中心校开展了送教下乡")
    assert await chat.say("韦国庆", "各校本学期送教下乡几次") == ["\n".join([
        "本学期送教下乡各成员校都已达标 ✓（按每所成员校各自的次数计）",
        "· 泗顶镇中心小学 1/1 次，已完成 ✓",
    ])]
    assert await chat.say("张丽", "本学期送教下乡几次") == [
        "融安县实验小学教共体 本学期送教下乡（每所成员校至少 1 次）："
        "泗顶镇中心小学 1/1 次，已完成 ✓"]


async def test_the_admin_gets_every_communitys_schools_behind(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    await chat.say("刘洋", "昨天在二实小开展了语文集体备课", chat="融安县第二实验小学教共体群")
    await chat.say("罗秀兰", "前天在桥板小学开展了数学集体备课", chat="融安县第二实验小学教共体群")
    reply = await chat.say("蒙建华", "哪些学校本月还没集体备课？", p2p=True)
    assert reply == ["\n".join([
        f"全县 本月集体备课{READING}",
        "融安县初级中学教共体：融安县初级中学、浮石镇初级中学",
        "融安县实验小学教共体：融安县实验小学",
        "融安县第三实验小学教共体：融安县第三实验小学、沙子乡中心小学",
        "长安镇中心小学教共体：长安镇中心小学、板榄镇中心小学",
        "融安县第二实验小学教共体：都已开展 ✓",
    ])]
    reply = await chat.say("蒙建华", "本月集体备课几次", p2p=True)
    assert reply == ["\n".join([
        "全县 本月集体备课",
        "· 融安县初级中学教共体 0/2 次，还差 2 次",
        "· 融安县实验小学教共体 1/2 次，还差 1 次",
        "· 融安县第二实验小学教共体 2/2 次，已完成 ✓",
        "· 融安县第三实验小学教共体 0/2 次，还差 2 次",
        "· 长安镇中心小学教共体 0/2 次，还差 2 次",
    ])]


async def test_a_teacher_asking_another_community_gets_their_own_labelled(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    await chat.say("刘洋", "昨天在二实小开展了语文集体备课", chat="融安县第二实验小学教共体群")
    own = ["只能查看本教共体的数据，以下是融安县实验小学教共体的：\n"
           "融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次"]
    assert await chat.say("张丽", "桥板小学本月集体备课几次") == own
    # A group sees only its own community's figures, whoever asks in it.
    assert await chat.say("张丽", "本月集体备课几次", chat="融安县第二实验小学教共体群") == [
        "融安县第二实验小学教共体 本月集体备课 1/2 次，还差 1 次"]


async def test_a_group_never_shows_another_communitys_figures(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    reply = await chat.say("蒙建华", "泗顶小学本月集体备课几次", chat="融安县第二实验小学教共体群")
    assert reply == ["只能查看本教共体的数据，以下是融安县第二实验小学教共体的：\n"
                     "融安县第二实验小学教共体 本月集体备课 0/2 次，还差 2 次"]
    private = await chat.say("蒙建华", "泗顶小学本月集体备课几次", p2p=True)
    assert private == ["泗顶镇中心小学 本月集体备课 1 次（教共体 1/2，还差 1 次）"]


async def test_a_named_teacher_or_i_gets_that_persons_own_entries(chat: Chat) -> None:
    await chat.say("张丽", SIDING)
    await chat.say("李娜", SIDING)  # joins 张丽's event: one event, two reporters
    await chat.say("张丽", "签到")
    chat.clock.moment = at("2026-11-27T09:00:00")
    await chat.say("张丽", "签到")
    assert await chat.say("李娜", "张丽老师这个月签到几次") == ["张丽 本月签到 2 次"]
    assert await chat.say("李娜", "我本月参加了几次集体备课") == ["李娜 本月参加集体备课 1 次"]
    assert await chat.say("张丽", "我这个月签到几次") == ["张丽 本月签到 2 次"]
    assert await chat.say("韦国庆", "本月集体备课几次") == [
        "融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次"]


async def test_a_finished_period_says_whether_it_was_met(chat: Chat) -> None:
    await chat.say("张丽", "11月10日在泗顶中心校开展了数学集体备课")
    chat.clock.moment = at("2026-12-03T10:00:00")
    assert await chat.say("张丽", "上个月集体备课开展了几次") == [
        "融安县实验小学教共体 11月集体备课 1/2 次，未达标"]
    assert await chat.say("张丽", "泗顶小学上个月集体备课开展了几次") == [
        "泗顶镇中心小学 11月集体备课 1 次（教共体 1/2，未达标）"]
    await chat.say("李娜", "11月20日在县实小开展了语文集体备课")
    assert await chat.say("张丽", "上个月集体备课开展了几次") == [
        "融安县实验小学教共体 11月集体备课 2/2 次，已达标 ✓"]
    chat.clock.moment = at("2027-03-10T10:00:00")
    assert await chat.say("张丽", "上学期培训开展了几次") == [
        "融安县实验小学教共体 上学期教师培训 0/1 次，未达标"]


async def test_the_quarter_counts_every_activity_of_its_rule_as_the_digest_does(
        chat: Chat) -> None:
    await chat.say("李娜", "10月15日在县实小开展了语文公开课")
    reply = await chat.say("韦国庆", "本季度听评课几次")
    assert reply == ["融安县实验小学教共体 本季度听评课（含公开课） 1/1 次，已完成 ✓"]
    assert await chat.say("韦国庆", "本季度公开课开展了几次") == reply
    async with chat.runtime.factory() as session:
        roster = await load_roster(session=session)
        statuses = await quota_progress(
            session=session, roster=roster, calendar=SchoolCalendar(SchedulerConfig()),
            quotas=DEFAULT_QUOTAS, day=chat.clock.now().date(), kinds=["quarter"])
    [ours] = [s for s in statuses if roster.communities[s.community_id] == "融安县实验小学教共体"]
    assert (ours.done, ours.need) == (1, 1)


async def test_todays_sign_in_sheet_counts_in_groups_and_names_privately(chat: Chat) -> None:
    await chat.say("韦国庆", "今天下午三点在县实小开展教师培训")
    chat.clock.moment = at("2026-11-26T14:50:00")
    await chat.say("李娜", "签到")
    await chat.say("刘芳", "今天的培训我请假")
    chat.clock.moment = at("2026-11-26T15:10:00")
    await chat.say("陈静", "签到")
    counts = ("📋 11月26日 教师培训（融安县实验小学）签到：已签到 2 人（迟到 1），早退 0，"
              "请假 1，未签到 6。")
    assert await chat.say("张丽", "今天培训签到情况怎么样") == [counts]
    assert await chat.say("张丽", "今天培训签到情况怎么样", p2p=True) == [counts]
    assert await chat.say("韦国庆", "今天培训签到情况怎么样") == [
        counts + "\n名单请私聊我查看。"]
    named = [counts + "\n迟到：陈静。\n未签到：何俊、赵敏、孙丽华、覃明、张晓梅、钟伟。"]
    assert await chat.say("韦国庆", "今天培训签到情况怎么样", p2p=True) == named
    assert await chat.say("韦国庆", "谁还没签到", p2p=True) == named
    assert await chat.say("蒙建华", "今天培训签到情况怎么样", p2p=True) == named


async def test_a_month_named_by_number_is_that_month_finished(chat: Chat) -> None:
    assert await chat.say("张丽", "10月集体备课开展了几次") == [
        "融安县实验小学教共体 10月集体备课 0/2 次，未达标"]
    assert await chat.say("张丽", "上季度听评课开展几次了") == [
        "融安县实验小学教共体 上季度听评课（含公开课） 0/1 次，未达标"]


async def test_a_teacher_of_another_community_is_not_shown(chat: Chat) -> None:
    reply = await chat.say("王芳", "张丽老师这个月签到几次", p2p=True)
    assert "张丽" in reply[0] and "签到" not in reply[0]


async def test_which_teachers_have_not_signed_in_this_month(chat: Chat) -> None:
    await chat.say("张丽", "签到")
    reply = await chat.say("欧阳勇", "本月哪些老师还没签到过", p2p=True)
    assert reply == ["泗顶镇中心小学 本月还没签到过的老师 7 人\n"
                     "名单：韦春兰、黄海波、莫小燕、吴秀珍、蒙志刚、廖玉梅、贲凤英"]
    in_group = await chat.say("欧阳勇", "本月哪些老师还没签到过")
    assert in_group == [f"泗顶镇中心小学 本月还没签到过的老师 7 人\n{texts.SHEET_NAMES_PRIVATE}"]
    assert await chat.say("张丽", "本月哪些老师还没签到过", p2p=True) == [
        "融安县实验小学教共体 本月还没签到过的老师 16 人"]  # a teacher: the count only
