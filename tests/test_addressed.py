"""Questions addressed to the bot that the record answers: the schedule, this week's digest,
and a request the bot already fulfils (spec/conversation.md, commands in front of the parser)."""

from __future__ import annotations

from handlers import texts
from tests.chat_harness import Chat


async def test_the_schedule_is_answered_from_the_plans(chat: Chat) -> None:
    await chat.say("韦国庆", "明天下午两点在县实小开展教师培训")
    await chat.say("韦国庆", "下周三下午三点在泗顶小学开展数学集体备课")
    reply = await chat.say("李娜", "@教联助手 明天培训几点开始啊")
    assert reply == ["明天（11月27日）的教师培训安排：\n"
                     "· 11月27日 14:00 教师培训（融安县实验小学）"]
    reply = await chat.say("李娜", "这周有什么安排", p2p=True)
    assert reply == ["本周的活动安排：\n· 11月27日 14:00 教师培训（融安县实验小学）"]
    reply = await chat.say("李娜", "@教联助手 下周有什么安排")
    assert reply == ["下周的活动安排：\n· 12月2日 15:00 数学集体备课（泗顶镇中心小学）"]


async def test_an_unaddressed_schedule_question_is_left_to_colleagues(chat: Chat) -> None:
    await chat.say("韦国庆", "明天下午两点在县实小开展教师培训")
    assert await chat.say("李娜", "明天培训几点开始啊") == []


async def test_nothing_planned_says_so(chat: Chat) -> None:
    assert await chat.say("李娜", "@教联助手 后天有什么安排") == [
        texts.SCHEDULE_NONE.format(when="后天（11月28日）", what="活动")]


async def test_a_principal_gets_the_digest_now_privately(chat: Chat) -> None:
    await chat.say("张丽", "今天上午在泗顶中心校开展了数学集体备课，12人参加")
    reply = await chat.say("欧阳勇", "@教联助手 发个周报")
    assert reply[-1] == texts.SENT_PRIVATELY
    assert reply[0].startswith("📊") and "泗顶镇中心小学" in reply[0]
    [private] = [m for m in chat.channel.sent if m.text == reply[0]]
    assert (private.target_kind, private.target) == ("user", "欧阳勇")


async def test_a_teacher_asking_for_the_digest_is_told_who_gets_it(chat: Chat) -> None:
    assert await chat.say("张丽", "本周周报", p2p=True) == [texts.DIGEST_NOT_YOURS]


async def test_asking_the_bot_to_remind_everyone_says_it_does(chat: Chat) -> None:
    assert await chat.say("韦国庆", "@教联助手 提醒一下大家") == [texts.REMINDERS_ARE_AUTOMATIC]
    reply = await chat.say("韦国庆", "@教联助手 提醒大家明天下午两点在县实小开展教师培训")
    assert reply[0].startswith("已登记计划")
