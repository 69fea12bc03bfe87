"""Labelled messages for the extended contract of spec/nlu.md: cancel, reschedule, correct,
what is no report/plan/leave, late sign-ins, new date words, several head counts, towns,
query `by`/`name`/periods, `date_invalid`, `end_time` and `more`.

Own wording, not the shared dev sets. NOW is Thursday 2026-11-26 10:00 (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.nlu.parser import KEYS, Parser
from handlers.nlu.slot_json import slots_from_json, slots_to_json
from storage.demo_county import demo_schools
from tests.nlu_fixtures import parser  # noqa: F401

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)

Case = tuple[str, dict[str, Any]]


def check(parser: Parser, text: str, expect: dict[str, Any]) -> None:  # noqa: F811
    """`expect` is written as `jiaolian parse` prints it: days and times as text."""
    got = parser.parse(text, NOW).as_json()
    wrong = {k: (v, got.get(k)) for k, v in expect.items() if got.get(k) != v}
    assert not wrong, f"{text!r}: (want, got) {wrong} [{got['matched']}]"


CANCEL: list[Case] = [
    ("下周四的送教下乡取消了", {"intent": "cancel", "activity": "outreach", "date": "2026-12-03"}),
    ("后天上午的联合教研不搞了", {"intent": "cancel", "activity": "research",
                               "date": "2026-11-28"}),
    ("本周六的家访暂停", {"intent": "cancel", "activity": "home_visit", "date": "2026-11-28"}),
    ("周五的集备停一次", {"intent": "cancel", "activity": "lesson_prep", "date": "2026-11-27"}),
    ("原定12月2日在三实小的公开课取消", {"intent": "cancel", "activity": "open_class",
                                      "date": "2026-12-02", "school": "融安县第三实验小学"}),
    ("语文教研活动取消了，另行安排", {"intent": "cancel", "activity": "research",
                                  "date": None, "subject": "语文"}),
    ("明天下午的讲座不开展了", {"intent": "cancel", "activity": "training",
                             "date": "2026-11-27"}),
    ("取消上一条", {"intent": "undo"}),
]

RESCHEDULE: list[Case] = [
    ("周四的家长学校改在下周一", {"intent": "reschedule", "activity": "parent_school",
                               "date": "2026-11-30", "from_date": "2026-11-26"}),
    ("明天的集体备课推迟到下午四点", {"intent": "reschedule", "date": "2026-11-27",
                                   "time": "16:00", "from_date": None}),
    ("下周一的视导提前到本周五", {"intent": "reschedule", "activity": "supervision",
                               "date": "2026-11-27", "from_date": "2026-11-30"}),
    ("送教下乡延期，时间另行通知", {"intent": "reschedule", "activity": "outreach",
                                 "date": None}),
    ("后天的同课异构挪到下下周二", {"intent": "reschedule", "activity": "open_class",
                                 "date": "2026-12-08", "from_date": "2026-11-28"}),
    ("本周五的培训调整到下周三上午九点", {"intent": "reschedule", "date": "2026-12-02",
                                       "time": "09:00", "from_date": "2026-11-27"}),
    ("培训改到县实小举行", {"intent": "reschedule", "activity": "training", "date": None,
                         "school": "融安县实验小学"}),
    ("明天的听课改在桥板小学", {"intent": "reschedule", "date": "2026-11-27",
                             "school": "桥板乡中心小学"}),
]

CORRECT: list[Case] = [
    ("不对，参加的是18位老师", {"intent": "correct", "participants": 18, "activity": None,
                             "date": None}),
    ("更正：学科是英语", {"intent": "correct", "subject": "英语", "date": None}),
    ("写错了，是五年级", {"intent": "correct", "grade": "五年级"}),
    ("搞错了，地点是沙子小学", {"intent": "correct", "school": "沙子乡中心小学"}),
    ("人数改成9人", {"intent": "correct", "participants": 9}),
    ("主题改为《认识钟表》", {"intent": "correct", "topic": "认识钟表"}),
    ("纠正一下，时间是前天下午三点", {"intent": "correct", "date": "2026-11-24",
                                   "time": "15:00"}),
    ("应该是23号，不是24号", {"intent": "correct", "date": "2026-11-23"}),
    ("刚才那条发错了", {"intent": "undo"}),
]

NOT_AN_EVENT: list[Case] = [
    ("本月的家访还没去", {"intent": "unknown"}),
    ("上周的听评课没搞成", {"intent": "unknown"}),
    ("这学期还没有开展过送教下乡", {"intent": "unknown"}),
    ("今年的课题研究尚未开题", {"intent": "unknown"}),
    ("请各校下周前开展一次师徒结对活动", {"intent": "unknown"}),
    ("要求各学校期中考试后组织一次质量检测", {"intent": "unknown"}),
    ("各成员校务必于月底前开展送教", {"intent": "unknown"}),
    ("下周三的送教我会去的", {"intent": "unknown"}),
    ("好的，后天的培训我们一定参加", {"intent": "unknown"}),
    ("明天的听课我按时到", {"intent": "unknown"}),
    ("请假条在哪里领", {"intent": "unknown"}),
    ("听课本怎么填", {"intent": "unknown"}),
    ("集体备课记录表怎么写", {"intent": "unknown"}),
    ("送教报名表去哪下载", {"intent": "unknown"}),
    ("请大家把今天听课的照片发到群里", {"intent": "unknown"}),
    ("麻烦上传一下昨天送教的美篇", {"intent": "unknown"}),
    ("各位把家访记录交一下", {"intent": "unknown"}),
]

STILL_EVENTS: list[Case] = [
    ("哪些学校还没开展集体备课", {"intent": "query", "activity": "lesson_prep",
                               "by": "school"}),
    ("请各校12月3日开展一次联合教研", {"intent": "plan", "date": "2026-12-03"}),
    ("各校昨天都开展了家长学校", {"intent": "report", "date": "2026-11-25"}),
    ("我下周二会去县实小开展送教", {"intent": "plan", "date": "2026-12-01"}),
    ("昨天开展了集备，请大家上传照片", {"intent": "report", "date": "2026-11-25"}),
    ("怎么签到", {"intent": "help"}),
]

LATE_CHECKIN: list[Case] = [
    ("补签 前天的送教下乡", {"intent": "checkin", "activity": "outreach",
                          "date": "2026-11-24"}),
    ("上周三的集备忘记签到了，补个卡", {"intent": "checkin", "activity": "lesson_prep",
                                     "date": "2026-11-18"}),
    ("补打卡：昨天下午的讲座", {"intent": "checkin", "activity": "training",
                             "date": "2026-11-25"}),
    ("签到", {"intent": "checkin", "date": "2026-11-26"}),
]

DATES: list[Case] = [
    ("下下周三到浮石开展送教", {"intent": "plan", "date": "2026-12-09",
                             "school": "浮石镇初级中学"}),
    ("这礼拜四开展了家访", {"intent": "report", "date": "2026-11-26"}),
    ("大后天在长安开展赛课", {"intent": "plan", "activity": "contest", "date": "2026-11-29",
                           "school": "长安镇中心小学"}),
    ("上礼拜五到桥板听课", {"intent": "report", "date": "2026-11-20",
                         "school": "桥板乡中心小学"}),
    ("下礼拜三下午两点在板榄开展集备", {"intent": "plan", "date": "2026-12-02",
                                     "time": "14:00", "school": "板榄镇中心小学"}),
    ("2月30日开展了送教下乡", {"intent": "report", "date": None, "date_invalid": True}),
    ("9月31号将召开家长学校", {"intent": "plan", "date": None, "date_invalid": True}),
    ("6月31日的培训我请假", {"intent": "leave", "date": None, "date_invalid": True}),
    ("12月31日开展集备", {"intent": "plan", "date": "2026-12-31", "date_invalid": None}),
]

COUNTS_AND_TOWNS: list[Case] = [
    ("昨天开展了送教，学生60人，合计教师14人参加", {"participants": 14}),
    ("今天开展了家长学校，到会家长55人，其中男家长20人", {"participants": 55}),
    ("前天联合教研，二实小老师6人，桥板小学老师9人，总共15人", {"participants": 15}),
    ("明天去泗顶送教", {"intent": "plan", "school": "泗顶镇中心小学"}),
    ("昨天在沙子开展了家访", {"intent": "report", "school": "沙子乡中心小学"}),
]

QUERIES: list[Case] = [
    ("这学期哪些学校开展了送教", {"intent": "query", "by": "school",
                               "period": "this_semester", "activity": "outreach"}),
    ("本季度谁参加的培训最多", {"intent": "query", "by": "member", "period": "this_quarter"}),
    ("查一下李红梅老师上个月的签到记录", {"intent": "query", "name": "李红梅",
                                       "period": "last_month", "by": None}),
    ("每所学校今年开展了几次家访", {"intent": "query", "by": "school", "period": "this_year",
                                 "activity": "home_visit"}),
    ("统计本学年各校的听课次数", {"intent": "query", "by": "school", "period": "this_year"}),
    ("上学期的师徒结对完成情况", {"intent": "query", "period": "last_semester",
                               "activity": "mentoring"}),
    ("今天哪几位老师请假了", {"intent": "query", "by": "member", "period": "today"}),
    ("今天谁还没签到", {"intent": "query", "by": "member", "period": "today"}),
    ("黄志强这学期听课几次", {"intent": "query", "name": "黄志强",
                           "period": "this_semester", "activity": "observation"}),
]

END_TIMES: list[Case] = [
    ("明天下午2点到4点在县实小开展集体备课", {"intent": "plan", "time": "14:00",
                                           "end_time": "16:00"}),
    ("昨天9:00-11:30开展了听评课", {"intent": "report", "time": "09:00",
                                   "end_time": "11:30"}),
    ("后天下午三点开始送教，至17点结束", {"time": "15:00", "end_time": "17:00"}),
    ("明天下午三点开展集备", {"time": "15:00", "end_time": None}),
]

MORE: list[Case] = [
    ("昨天上午在县实小开展了数学集体备课，下午到泗顶送教，听课教师20人", {
        "intent": "report", "activity": "lesson_prep", "date": "2026-11-25", "subject": "数学",
        "school": "融安县实验小学", "participants": None,
        "more": [{"activity": "outreach", "date": "2026-11-25", "time": None, "subject": None,
                  "grade": None, "participants": 20, "topic": None,
                  "school": "泗顶镇中心小学"}]}),
    ("明天上午听课，下午开展家访", {
        "intent": "plan", "activity": "observation", "date": "2026-11-27",
        "more": [{"activity": "home_visit", "date": "2026-11-27", "time": None,
                  "subject": None, "grade": None, "participants": None, "topic": None,
                  "school": None}]}),
    ("上周一开展了集备，上周三组织了家长学校，到会家长30人", {
        "intent": "report", "date": "2026-11-16", "participants": None,
        "more": [{"activity": "parent_school", "date": "2026-11-18", "time": None,
                  "subject": None, "grade": None, "participants": 30, "topic": None,
                  "school": None}]}),
    ("昨天送教到泗顶小学，上了一节数学示范课", {"intent": "report", "more": None,
                                           "subject": "数学"}),
    ("昨天开展了家访", {"intent": "report", "more": None}),
    ("上午听了两节课，下午进行了集体备课", {
        "intent": "report", "activity": "observation", "date": "2026-11-26",
        "more": [{"activity": "lesson_prep", "date": "2026-11-26", "time": None,
                  "subject": None, "grade": None, "participants": None, "topic": None,
                  "school": None}]}),
    ("昨天评了三节课", {"intent": "report", "activity": "observation", "date": "2026-11-25"}),
]


@pytest.mark.parametrize(("text", "expect"), [
    *CANCEL, *RESCHEDULE, *CORRECT, *NOT_AN_EVENT, *STILL_EVENTS, *LATE_CHECKIN, *DATES,
    *COUNTS_AND_TOWNS, *QUERIES, *END_TIMES, *MORE,
])
def test_extended_contract(parser: Parser, text: str, expect: dict[str, Any]) -> None:  # noqa: F811
    check(parser, text, expect)


@pytest.mark.parametrize(("text", "rule"), [
    ("下周三的集备取消了", "rule:cancel"),
    ("这个月的家访还没去", "rule:negation"),
    ("各校月底前开展一次家长学校", "rule:directive"),
    ("明天集备我准时到", "rule:promise"),
    ("签到表在哪", "rule:howto"),
    ("把教案发群里", "rule:material"),
    ("昨天开展了家访", "rule:event"),
])
def test_the_winning_rule_is_named(parser: Parser, text: str, rule: str) -> None:  # noqa: F811
    assert rule in parser.parse(text, NOW).matched


def test_correction_fills_only_the_corrected_keys(parser: Parser) -> None:  # noqa: F811
    data = parser.parse("不对，应该是12人", NOW).as_dict()
    filled = {k for k in KEYS if data[k] is not None}
    assert filled == {"intent", "participants"}


def test_every_new_key_is_output(parser: Parser) -> None:  # noqa: F811
    data = parser.parse("好的", NOW).as_dict()
    for key in ("by", "from_date", "date_invalid", "more", "end_time"):
        assert key in data and data[key] is None


def test_days_and_times_are_typed(parser: Parser) -> None:  # noqa: F811
    """Callers get `date` and `time` objects; only JSON (as_json) holds their text."""
    data = parser.parse("原定本周五的教研活动推迟到下周一下午2点到4点", NOW).as_dict()
    assert (data["date"], data["from_date"]) == (date(2026, 11, 30), date(2026, 11, 27))
    assert (data["time"], data["end_time"]) == (time(14, 0), time(16, 0))
    shown = parser.parse("原定本周五的教研活动推迟到下周一下午2点到4点", NOW).as_json()
    assert (shown["date"], shown["from_date"]) == ("2026-11-30", "2026-11-27")
    assert (shown["time"], shown["end_time"]) == ("14:00", "16:00")


def test_later_events_are_typed_and_survive_json(parser: Parser) -> None:  # noqa: F811
    data = parser.parse("明天上午9点听课，下午3点开展家访", NOW).as_dict()
    assert data["more"] is not None
    assert (data["more"][0]["date"], data["more"][0]["time"]) == (date(2026, 11, 27),
                                                                   time(15, 0))
    stored = slots_to_json(data)
    assert stored["more"][0]["date"] == "2026-11-27" and stored["more"][0]["time"] == "15:00"
    assert slots_from_json(stored) == data


def test_new_cue_words_come_from_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    custom = Parser(schools=demo_schools(), cache_dir=tmp_path_factory.mktemp("jieba"),
                    settings={"cues": {"cancel": ["黄了"]},
                              "query_by": {"member": ["哪些同事"]}})
    assert custom.parse("明天的集备黄了", NOW).intent == "cancel"
    assert custom.parse("本月哪些同事参加了送教", NOW).by == "member"


BARE_NAMES: list[Case] = [
    ("家访", {"intent": "unknown", "activity": "home_visit", "date": None}),
    ("体育教研", {"intent": "unknown", "activity": "research", "subject": "体育"}),
    ("初二英语听评课", {"intent": "unknown", "activity": "observation", "grade": "八年级"}),
    ("集体备课。", {"intent": "unknown", "activity": "lesson_prep", "date": None}),
    ("刚刚听完两节课", {"intent": "report", "activity": "observation"}),
    ("家访完了", {"intent": "report", "activity": "home_visit"}),
]


@pytest.mark.parametrize(("text", "expect"), BARE_NAMES)
def test_a_bare_activity_name_names_it_and_reports_nothing(
        parser: Parser, text: str, expect: dict[str, Any]) -> None:  # noqa: F811
    check(parser, text, expect)
