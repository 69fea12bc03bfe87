"""Labelled messages for the parser, one table per rule of spec/nlu.md.

Wording deliberately differs from the shared dev set. NOW is Thursday 2026-11-26 10:00
(Asia/Shanghai); MON is Monday 2026-03-02 08:30, the first day of the spring term.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.nlu.parser import CONFIDENT, Parser
from storage.demo_county import demo_schools
from tests import nlu_fixtures

# One Parser for the whole session (it owns its tokenizer; building one costs ~0.5 s).
parser = nlu_fixtures.parser

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
MON = datetime(2026, 3, 2, 8, 30, tzinfo=TZ)

Case = tuple[str, dict[str, Any]]


def check(parser: Parser, text: str, expect: dict[str, Any], now: datetime = NOW) -> None:
    """`expect` is written as `jiaolian parse` prints it: days and times as text."""
    got = parser.parse(text, now).as_json()
    wrong = {k: (v, got.get(k)) for k, v in expect.items() if got.get(k) != v}
    assert not wrong, f"{text!r}: (want, got) {wrong}"


CHECKIN: list[Case] = [
    ("签到", {"intent": "checkin", "date": "2026-11-26"}),
    ("@教联助手 已签到", {"intent": "checkin", "date": "2026-11-26"}),
    ("@王老师 签到", {"intent": "checkin"}),
    ("打卡 送教下乡", {"intent": "checkin", "activity": "outreach"}),
    ("集体备课签到", {"intent": "checkin", "activity": "lesson_prep"}),
    ("签到：县实小 英语公开课", {"intent": "checkin", "activity": "open_class",
                              "subject": "英语", "school": "融安县实验小学"}),
    ("我已到达桥板中心校", {"intent": "checkin", "school": "桥板乡中心小学"}),
    ("王芳已到", {"intent": "checkin"}),
    ("我到了", {"intent": "checkin"}),
    ("报个到", {"intent": "checkin"}),
    ("到！", {"intent": "checkin"}),
    ("签个到", {"intent": "checkin"}),
    ("已签", {"intent": "checkin"}),
    ("到了，签个到", {"intent": "checkin"}),
    ("新学期报到", {"intent": "checkin"}),
    ("早上好，打卡", {"intent": "checkin"}),
    ("签到 高二化学听评课", {"intent": "checkin", "activity": "observation",
                          "subject": "化学", "grade": "高二"}),
    ("签退", {"intent": "checkout", "date": "2026-11-26"}),
    ("离会打卡", {"intent": "checkout"}),
    ("离场", {"intent": "checkout"}),
    ("签退 数学集体备课", {"intent": "checkout", "activity": "lesson_prep", "subject": "数学"}),
    ("研修结束，签退", {"intent": "checkout", "activity": "training"}),
]

LEAVE: list[Case] = [
    ("我明天请假，麻烦帮我签到", {"intent": "leave", "date": "2026-11-27"}),
    ("请假", {"intent": "leave", "date": "2026-11-26"}),
    ("我请假一天", {"intent": "leave", "date": "2026-11-26"}),
    ("我没办法来了", {"intent": "leave"}),
    ("明天的送教我不去了", {"intent": "leave", "activity": "outreach", "date": "2026-11-27"}),
    ("周四的公开课我参加不了", {"intent": "leave", "activity": "open_class",
                             "date": "2026-11-26"}),
    ("周五的听课活动没法参加", {"intent": "leave", "activity": "observation",
                             "date": "2026-11-27"}),
    ("周一的集备我来不了", {"intent": "leave", "activity": "lesson_prep",
                           "date": "2026-11-30"}),
    ("下周一的送教我去不了，家里有事", {"intent": "leave", "activity": "outreach",
                                     "date": "2026-11-30"}),
    ("今天下午的集体备课请个假", {"intent": "leave", "activity": "lesson_prep",
                               "date": "2026-11-26"}),
    ("11月30日的培训我无法参加", {"intent": "leave", "activity": "training",
                               "date": "2026-11-30"}),
    ("3号的家长学校不能参加", {"intent": "leave", "activity": "parent_school",
                            "date": "2026-12-03"}),
    ("明天签到不了，请假", {"intent": "leave", "date": "2026-11-27"}),
]

QUERY: list[Case] = [
    ("这周签到了几次", {"intent": "query", "period": "this_week"}),
    ("本周我们组开展了几次集备", {"intent": "query", "activity": "lesson_prep",
                                "period": "this_week"}),
    ("这学期签到多少次了", {"intent": "query", "period": "this_semester"}),
    ("上个月我的请假次数", {"intent": "query", "period": "last_month"}),
    ("今年送教下乡的统计", {"intent": "query", "activity": "outreach", "period": "this_year"}),
    ("本月进度", {"intent": "query", "period": "this_month"}),
    ("昨天的签到记录", {"intent": "query"}),
    ("看看这个月的数据", {"intent": "query", "period": "this_month"}),
    ("本月各校活动排名", {"intent": "query", "period": "this_month"}),
    ("几位老师参加了培训？", {"intent": "query", "activity": "training"}),
    ("上周几位老师签到了", {"intent": "query", "period": "last_week"}),
    ("我们学校这学期的教研活动开展情况", {"intent": "query", "activity": "research",
                                       "period": "this_semester"}),
    ("本学期集体备课完成情况", {"intent": "query", "activity": "lesson_prep",
                              "period": "this_semester"}),
    ("今年开展了多少次教研活动", {"intent": "query", "activity": "research",
                               "period": "this_year"}),
    ("查一下上周的签到记录", {"intent": "query", "period": "last_week"}),
    ("哪些学校还没完成本月集体备课", {"intent": "query", "activity": "lesson_prep",
                                    "period": "this_month"}),
    ("上星期听评课有几场", {"intent": "query", "activity": "observation",
                          "period": "last_week"}),
    ("本月集体备课达标了吗", {"intent": "query", "activity": "lesson_prep",
                              "period": "this_month"}),
    ("我这个月签到了吗", {"intent": "query", "period": "this_month"}),
    ("本月的集体备课完成了没有", {"intent": "query", "activity": "lesson_prep"}),
    ("查询这个月的家访记录", {"intent": "query", "activity": "home_visit",
                            "period": "this_month"}),
    ("李老师电话多少", {"intent": "unknown"}),
    ("这个月工资多少", {"intent": "unknown"}),
    ("今年冬天多少度", {"intent": "unknown"}),
    ("上周家访情况", {"intent": "query", "activity": "home_visit", "period": "last_week"}),
    ("这周哪些学校开展了送教", {"intent": "query", "activity": "outreach",
                              "period": "this_week"}),
    ("这本书多少钱", {"intent": "unknown"}),
]

UNDO_HELP: list[Case] = [
    ("撤销", {"intent": "undo"}),
    ("撤回上一条", {"intent": "undo"}),
    ("删掉上一条", {"intent": "undo"}),
    ("删除刚才那条", {"intent": "undo"}),
    ("刚刚那条记录填错了", {"intent": "undo"}),
    ("刚才那条发错了", {"intent": "undo"}),
    ("发错了", {"intent": "undo"}),
    ("撤消", {"intent": "undo"}),
    ("撤销刚才的签到", {"intent": "undo"}),
    ("操作指南", {"intent": "help"}),
    ("怎么请假", {"intent": "help"}),
    ("帮助", {"intent": "help"}),
    ("help", {"intent": "help"}),
    ("HELP", {"intent": "help"}),
    ("help me", {"intent": "help"}),
    ("查看帮助", {"intent": "help"}),
    ("需要帮助", {"intent": "help"}),
    ("菜单", {"intent": "help"}),
    ("使用说明", {"intent": "help"}),
    ("怎么签到", {"intent": "help"}),
    ("如何汇报活动", {"intent": "help"}),
    ("怎么操作？", {"intent": "help"}),
    ("你有什么功能", {"intent": "help"}),
    ("你能干嘛", {"intent": "help"}),
    ("教联助手是干什么的", {"intent": "help"}),
    ("?", {"intent": "help"}),
    ("？", {"intent": "help"}),
    ("？？", {"intent": "help"}),
    ("@教联助手", {"intent": "help"}),
    ("@教联助手 ", {"intent": "help"}),
    ("@王老师", {"intent": "unknown"}),
    ("这个机器人怎么用", {"intent": "help"}),
]

BIND: list[Case] = [
    ("我是县实小的李娜，教语文", {"intent": "bind", "name": "李娜", "subject": "语文",
                              "school": "融安县实验小学"}),
    ("绑定 桥板中心校 张伟 数学", {"intent": "bind", "name": "张伟", "subject": "数学",
                              "school": "桥板乡中心小学"}),
    ("本人王小明，沙子中心小学美术老师", {"intent": "bind", "name": "王小明",
                                      "subject": "美术", "school": "沙子乡中心小学"}),
    ("我叫陈静，融安县实验小学数学老师", {"intent": "bind", "name": "陈静", "subject": "数学",
                                      "school": "融安县实验小学"}),
    ("我是板榄小学的覃丽，任教英语", {"intent": "bind", "name": "覃丽", "subject": "英语",
                                    "school": "板榄镇中心小学"}),
    ("姓名：黄丽 学校：浮石初中 学科：化学", {"intent": "bind", "name": "黄丽",
                                         "subject": "化学", "school": "浮石镇初级中学"}),
    ("我是新来的老师", {"intent": "bind", "name": None}),
    ("我叫欧阳娜娜，在二实小教音乐", {"intent": "bind", "name": "欧阳娜娜", "subject": "音乐",
                                   "school": "融安县第二实验小学"}),
    ("我是三年级班主任李华", {"intent": "bind", "name": "李华"}),
    ("我是泗顶中心校的校长韦国庆", {"intent": "bind", "name": "韦国庆",
                                 "school": "泗顶镇中心小学"}),
    ("本人系板榄小学教师蒙丽", {"intent": "bind", "name": "蒙丽",
                              "school": "板榄镇中心小学"}),
    ("你好，我是县初中的潘志明", {"intent": "bind", "name": "潘志明",
                               "school": "融安县初级中学"}),
    ("@教联助手 我是浮石初中物理老师龙建军", {"intent": "bind", "name": "龙建军",
                                         "subject": "物理", "school": "浮石镇初级中学"}),
]

UNKNOWN: list[str] = [
    "大家辛苦了", "谢谢大家的参与", "明天见", "收到，谢谢", "好的", "哈哈哈哈", "[表情]",
    "👍👍👍", "谢谢王老师精彩的示范课", "王老师的公开课上得真好", "谁明天去送教？",
    "明天的教研活动在哪里开？", "听课记录要交吗", "请大家周五前上交教案", "元旦快乐",
    "今天下雨了，路上注意安全", "谁有五年级语文的课件", "家长会的通知发了吗",
    "这次培训收获很大", "中午一起吃饭", "@李老师 你好", "今天的公开课上得真精彩",
    "王老师的示范课太精彩了", "辛苦各位老师了！", "祝贺王老师在优质课比赛中获得一等奖",
    "明天的培训别忘了带笔记本", "明天集体备课在哪个教室", "李老师，你们学校下周有送教吗",
    "谢谢大家的帮助", "王老师撤回了一条消息", "今天食堂菜单不错", "这个月工资发了吗",
    "下周放几天假", "明天集体备课，谁主备？", "今天和王老师交流了一下",
    "好的，马上到", "已阅", "OK", "请各位班主任统计一下学生人数", "下周一开始期中考试",
    "这周五下午放学后大扫除", "我在上课，稍后回复", "这个表格怎么填", "[玫瑰][玫瑰]",
]

REPORT: list[Case] = [
    ("今天开展了一次活动，12人参加", {"intent": "report", "activity": None,
                                  "participants": 12, "date": "2026-11-26"}),
    ("上周五组织了教研组长会议", {"intent": "report", "activity": None,
                                "date": "2026-11-20"}),
    ("课题组成员昨天开展了读书分享活动", {"intent": "report", "activity": None,
                                     "date": "2026-11-25"}),
    ("教研组开展了听评课活动", {"intent": "report", "activity": "observation"}),
    ("昨天在县教师培训中心开展了集体备课", {"intent": "report", "activity": "lesson_prep"}),
    ("今天送教老师到泗顶小学上课", {"intent": "report", "activity": "outreach"}),
    ("课题组开会讨论了开题报告", {"intent": "report", "activity": "project"}),
    ("10月28日开展了语文集体备课，参加教师十五人", {
        "intent": "report", "activity": "lesson_prep", "date": "2026-10-28",
        "subject": "语文", "participants": 15}),
    ("11/20 开展了科学组集备", {"intent": "report", "activity": "lesson_prep",
                               "date": "2026-11-20", "subject": "科学"}),
    ("昨晚八点组织了网络教研，主题为\"双减\"政策解读", {
        "intent": "report", "activity": "research", "date": "2026-11-25", "time": "20:00",
        "topic": "双减政策解读"}),
    ("主题为“新课标”的教研活动昨天开展了", {"intent": "report", "topic": "新课标",
                                        "date": "2026-11-25"}),
    ("昨天送教到泗顶小学，上了一节数学示范课", {
        "intent": "report", "activity": "outreach", "school": "泗顶镇中心小学",
        "subject": "数学", "participants": None}),
    ("大前天组织了青蓝工程拜师仪式，结成5对师徒", {
        "intent": "report", "activity": "mentoring", "date": "2026-11-23",
        "participants": None}),
    ("今天入户家访5户", {"intent": "report", "activity": "home_visit", "participants": None}),
    ("本周三二年级数学集体备课，共有十二位老师参加", {
        "intent": "report", "activity": "lesson_prep", "date": "2026-11-25",
        "grade": "二年级", "subject": "数学", "participants": 12}),
    ("今天开展了五六年级数学集体备课", {"intent": "report", "grade": None, "subject": "数学"}),
    ("今天开展了三、四年级语文联合教研", {"intent": "report", "grade": None,
                                      "activity": "research"}),
    ("今天开展了低年级语文集体备课", {"intent": "report", "grade": None}),
    ("昨天高年级数学组集备", {"intent": "report", "grade": None, "date": "2026-11-25"}),
    ("全校教师参加了今天的培训", {"intent": "report", "grade": None, "participants": None,
                               "activity": "training"}),
    ("数学、美术联合教研活动今天开展", {"intent": "report", "subject": None,
                                     "activity": "research"}),
    ("今天完成了初三化学质量检测", {"intent": "report", "activity": "assessment",
                                 "grade": "九年级", "subject": "化学"}),
    ("初一英语组今天完成了统考阅卷", {"intent": "report", "activity": "assessment",
                                  "grade": "七年级", "subject": "英语"}),
    ("高三英语集体备课今天完成", {"intent": "report", "grade": "高三", "subject": "英语"}),
    ("十一月二十日开展了英语联合教研", {"intent": "report", "date": "2026-11-20",
                                    "activity": "research"}),
    ("11月二十号到板榄小学送课", {"intent": "report", "date": "2026-11-20",
                               "school": "板榄镇中心小学", "activity": "outreach"}),
    ("20日上午开展了劳动课公开课", {"intent": "report", "date": "2026-11-20",
                                 "subject": "劳动", "activity": "open_class"}),
    ("周日开展了研学活动", {"intent": "report", "date": "2026-11-22",
                          "activity": "student_exchange"}),
    ("上礼拜三到长安中心校跟岗学习", {"intent": "report", "date": "2026-11-18",
                                   "school": "长安镇中心小学", "activity": "shadowing"}),
    ("上星期二家访了三户学生家庭", {"intent": "report", "date": "2026-11-17",
                                 "participants": None}),
    ("礼拜五开展了综合实践观摩课", {"intent": "report", "date": "2026-11-20",
                                 "subject": "综合实践", "activity": "open_class"}),
    ("今早8点开展了质量监测", {"intent": "report", "time": "08:00", "activity": "assessment"}),
    ("今晚开展了家庭教育讲座，到会家长80余人", {
        "intent": "report", "activity": "parent_school", "participants": 80}),
    ("中午12点半组织了学生交流活动", {"intent": "report", "time": "12:30",
                                   "activity": "student_exchange"}),
    ("今天14点30分开展了说课活动", {"intent": "report", "time": "14:30",
                                 "activity": "research"}),
    ("上周日组织了学生到县城研学，共40名学生参加", {
        "intent": "report", "participants": 40, "date": "2026-11-22"}),
    ("星期三到三实小观课议课", {"intent": "report", "date": "2026-11-25",
                              "school": "融安县第三实验小学", "activity": "observation"}),
    ("参加了县里组织的专题培训", {"intent": "report", "activity": "training",
                               "date": "2026-11-26"}),
    ("2025-12-30 开展了学生交流", {"intent": "report", "date": "2025-12-30"}),
    ("2025年9月1日举行了拜师仪式", {"intent": "report", "date": "2025-09-01",
                                  "activity": "mentoring"}),
    ("2026.11.18 开展了课堂比武", {"intent": "report", "date": "2026-11-18",
                                "activity": "contest"}),
    ("去年12月18日开展了听评课", {"intent": "report", "date": "2025-12-18"}),
    ("今天开展了集体备课，主题是：小数乘法", {"intent": "report", "topic": "小数乘法"}),
    ("昨天开展了集体备课，课题名称：《分层作业设计》", {"intent": "report",
                                               "topic": "分层作业设计"}),
    ("昨天邀请了一名专家做讲座", {"intent": "report", "activity": "training",
                               "participants": None}),
    ("上个月8号开展了送培活动", {"intent": "report", "date": "2026-10-08",
                              "activity": "outreach"}),
    ("上月30日完成课题结题", {"intent": "report", "date": "2026-10-30",
                            "activity": "project"}),
    ("上周一至周五在二实小跟班学习", {"intent": "report", "date": "2026-11-16",
                                   "school": "融安县第二实验小学", "activity": "shadowing"}),
    ("今天的心理课同步课堂已经结束", {"intent": "report", "subject": "心理健康",
                                  "activity": "sync_class"}),
    ("昨天上午开展了道法学科教研，参与老师9名", {
        "intent": "report", "subject": "道德与法治", "participants": 9}),
    ("昨天的政治组集备，到会12人", {"intent": "report", "subject": "道德与法治",
                                 "participants": 12}),
    ("今天在县初中听了一节思品课", {"intent": "report", "subject": "道德与法治",
                                 "activity": "observation", "school": "融安县初级中学"}),
    ("昨天信息技术组集体研课", {"intent": "report", "subject": "信息科技"}),
    ("昨天组织全体教师政治学习和培训", {"intent": "report", "subject": None,
                                    "activity": "training"}),
    ("昨天在体育馆开展了集体备课", {"intent": "report", "subject": None}),
    ("昨天体育与健康集体备课", {"intent": "report", "subject": "体育"}),
    ("今天开展了听评课，听课教师３０人", {"intent": "report", "participants": 30}),
    ("前天的联考质量分析会，人数：25", {"intent": "report", "participants": 25,
                                   "activity": "assessment", "date": "2026-11-24"}),
    ("前天集备 人数 7", {"intent": "report", "participants": 7}),
    ("昨天三十余位教师参加了培训", {"intent": "report", "participants": 30}),
    ("昨天听了两节课，参加评课的有6人", {"intent": "report", "participants": 6,
                                     "activity": "observation"}),
    ("今天上午上了第2节示范课", {"intent": "report", "participants": None}),
    ("昨天开展了课题研究，课题：《小学数学分层作业设计》", {
        "intent": "report", "activity": "project", "topic": "小学数学分层作业设计"}),
    ("今天上了一节公开课《背影》，效果不错", {"intent": "report", "topic": "背影",
                                      "activity": "open_class"}),
    ("昨天组织学习了《义务教育课程方案》培训", {"intent": "report", "topic": None,
                                       "activity": "training"}),
    ("今天开展了集体备课\n主题：大单元教学\n参加人数：12", {"intent": "report",
                                                  "topic": "大单元教学", "participants": 12}),
    ("今天开展了集体备课，主题：大单元教学 参加人数：12", {"intent": "report",
                                                 "topic": "大单元教学"}),
    ("今天开展了集体备课，主题是第1.2节教学设计，8人参加", {"intent": "report",
                                                 "topic": "第1.2节教学设计"}),
    ("今天开展了集体备课，内容是第三单元习作教学", {"intent": "report",
                                           "topic": "第三单元习作教学"}),
    ("前天举行了主题教研，主题：大概念教学；30人参加", {
        "intent": "report", "topic": "大概念教学", "participants": 30,
        "activity": "research"}),
    ("今天开展了以“阅读点亮童年”为主题的家长课堂", {
        "intent": "report", "topic": "阅读点亮童年", "activity": "parent_school"}),
    ("今天桥板小学和二实小开展了手拉手活动", {"intent": "report", "school": None,
                                       "activity": "student_exchange"}),
    ("昨天县实小到泗顶小学开展送教", {"intent": "report", "school": "泗顶镇中心小学"}),
    ("昨天县实小的老师们到了泗顶小学开展送教", {"intent": "report",
                                          "school": "泗顶镇中心小学"}),
    ("昨天赴沙子中心校开展管理视导", {"intent": "report", "school": "沙子乡中心小学",
                                   "activity": "supervision"}),
    ("昨天督导组到板榄中心小学调研指导", {"intent": "report", "school": "板榄镇中心小学",
                                      "activity": "supervision"}),
    ("汇报：今天开展了一次活动", {"intent": "report", "activity": None}),
    ("@教联助手 报告：昨天去浮石中学挂职", {"intent": "report", "activity": "shadowing",
                                      "school": "浮石镇初级中学"}),
    ("本学期在泗顶小学走教", {"intent": "report", "activity": "rotation",
                            "school": "泗顶镇中心小学"}),
    ("昨天在三实小开展基本功展示，共25名青年教师参加", {
        "intent": "report", "activity": "contest", "participants": 25}),
    ("今天下午3点已完成专递课堂", {"intent": "report", "activity": "sync_class",
                                "time": "15:00"}),
    ("今天完成远程课堂一节", {"intent": "report", "activity": "sync_class",
                            "participants": None}),
    ("今天１１月２５日开展了备课研讨", {"intent": "report", "activity": "lesson_prep"}),
    ("昨天开展了联合备课和听评课", {"intent": "report", "activity": "lesson_prep"}),
    ("昨天进行了听评课", {"intent": "report", "activity": "observation"}),
    ("今天去了几个学校送教", {"intent": "report", "activity": "outreach"}),
    ("集体备课讨论了复习计划", {"intent": "report", "activity": "lesson_prep"}),
    ("今天立项了一个县级课题", {"intent": "report", "activity": "project"}),
    ("今天开展了跟岗学习", {"intent": "report", "activity": "shadowing"}),
    ("今天开展了师徒结对", {"intent": "report", "activity": "mentoring"}),
    ("今天到沙子小学驻教", {"intent": "report", "activity": "rotation"}),
    ("今天开展了同课异构", {"intent": "report", "activity": "open_class"}),
    ("今天开展了统一检测", {"intent": "report", "activity": "assessment"}),
    ("今天开展了书法课堂比武", {"intent": "report", "activity": "contest",
                              "subject": "书法"}),
    ("昨天地理组开展了说课", {"intent": "report", "activity": "research",
                            "subject": "地理"}),
    ("今天生物组开展了网络教研", {"intent": "report", "subject": "生物"}),
    ("今天音乐组开展了主题教研", {"intent": "report", "subject": "音乐"}),
]

PLAN: list[Case] = [
    ("明天下午开展一次活动", {"intent": "plan", "activity": None, "date": "2026-11-27"}),
    ("本周四下午3点将在沙子小学举行五年级语文公开课", {
        "intent": "plan", "date": "2026-11-26", "time": "15:00", "grade": "五年级",
        "subject": "语文", "school": "沙子乡中心小学", "activity": "open_class"}),
    ("12月8日上午8:30开展送教下乡活动", {"intent": "plan", "date": "2026-12-08",
                                     "time": "08:30", "activity": "outreach"}),
    ("下周二上午到浮石初中开展物理同课异构", {
        "intent": "plan", "date": "2026-12-01", "school": "浮石镇初级中学",
        "subject": "物理", "activity": "open_class"}),
    ("下个月5号开展家访活动", {"intent": "plan", "date": "2026-12-05",
                             "activity": "home_visit"}),
    ("今年12月5日开展送教", {"intent": "plan", "date": "2026-12-05"}),
    ("下月10日开展质量检测", {"intent": "plan", "date": "2026-12-10"}),
    ("2号开展书法展示课", {"intent": "plan", "date": "2026-12-02"}),
    ("这星期五下午两点半开展教研活动", {"intent": "plan", "date": "2026-11-27",
                                    "time": "14:30"}),
    ("下星期三开展家长课堂", {"intent": "plan", "date": "2026-12-02",
                            "activity": "parent_school"}),
    ("后天晚上七点网络教研", {"intent": "plan", "date": "2026-11-28", "time": "19:00"}),
    ("明晚7点半开展线上同步教学", {"intent": "plan", "date": "2026-11-27", "time": "19:30",
                                "activity": "sync_class"}),
    ("明早八点在长安中心校集中培训", {"intent": "plan", "date": "2026-11-27",
                                   "time": "08:00", "school": "长安镇中心小学"}),
    ("请各位老师明天下午3点准时参加集体备课", {"intent": "plan", "date": "2026-11-27",
                                         "time": "15:00"}),
    ("明天下午3点在县实小开展集体备课，大家能来吗？", {
        "intent": "plan", "date": "2026-11-27", "time": "15:00", "activity": "lesson_prep"}),
    ("明天上午九点在县初中开展培训，请大家提前签到", {
        "intent": "plan", "date": "2026-11-27", "time": "09:00",
        "school": "融安县初级中学"}),
    ("老师们，明天上午开展集体备课，地点在浮石中学", {
        "intent": "plan", "school": "浮石镇初级中学", "date": "2026-11-27"}),
    ("周五开展数学教研", {"intent": "plan", "date": "2026-11-27"}),
    ("周六开展研学", {"intent": "plan", "date": "2026-11-28"}),
    ("拟于本月30日开展结对活动", {"intent": "plan", "date": "2026-11-30"}),
    ("准备下周四去桥板小学送课", {"intent": "plan", "date": "2026-12-03"}),
    ("预计12月中旬开展赛课", {"intent": "plan", "date": None, "activity": "contest"}),
    ("将于28号开展家长学校授课", {"intent": "plan", "date": "2026-11-28"}),
    ("定于20号开展联考", {"intent": "plan", "date": "2026-12-20"}),
    ("过两天去泗顶小学送教", {"intent": "plan", "date": None, "school": "泗顶镇中心小学"}),
    ("计划于下周三开展送教", {"intent": "plan", "date": "2026-12-02"}),
    ("届时请各校教研组长参加集体备课", {"intent": "plan", "activity": "lesson_prep"}),
    ("下午4点开展集体备课", {"intent": "plan", "date": None, "time": "16:00"}),
    ("今天下午4点开展基本功大赛", {"intent": "plan", "date": "2026-11-26", "time": "16:00"}),
    ("2027年1月5日开展期末统考", {"intent": "plan", "date": "2027-01-05"}),
    ("12/3 开展听课", {"intent": "plan", "date": "2026-12-03"}),
    ("12-01 英语集备", {"intent": "plan", "date": "2026-12-01"}),
    ("12.2 英语集备", {"intent": "plan", "date": "2026-12-02"}),
    ("下周三下午在二实小开展课题开题，主题是“乡村学校劳动教育研究”", {
        "intent": "plan", "activity": "project", "topic": "乡村学校劳动教育研究",
        "school": "融安县第二实验小学"}),
    ("本周五召开师徒结对大会，地点：泗顶中心校", {"intent": "plan",
                                          "school": "泗顶镇中心小学"}),
]

# Ambiguous dates on Monday 2026-03-02 08:30.
MONDAY: list[Case] = [
    ("周三的教研我来不了", {"intent": "leave", "date": "2026-03-04"}),
    ("周五开展了集体备课", {"intent": "report", "date": "2026-02-27"}),
    ("周五开展集体备课", {"intent": "report", "date": "2026-02-27"}),
    ("周五将开展集体备课", {"intent": "plan", "date": "2026-03-06"}),
    ("周日组织了家长学校", {"intent": "report", "date": "2026-03-01"}),
    ("周四开展集体备课", {"intent": "plan", "date": "2026-03-05"}),
    ("周四开展了集体备课", {"intent": "report", "date": "2026-02-26"}),
    ("周一下午开展集体备课", {"intent": "report", "date": "2026-03-02"}),
    ("周一下午2点开展集体备课", {"intent": "plan", "date": "2026-03-02", "time": "14:00"}),
    ("下午三点开展集体备课", {"intent": "plan"}),
    ("今天早上7点开展了集体备课", {"intent": "report", "date": "2026-03-02", "time": "07:00"}),
    ("今天上午7点半开展集体备课", {"intent": "report", "date": "2026-03-02"}),
    ("今天上午9点开展集体备课", {"intent": "plan", "date": "2026-03-02"}),
    ("28号开展了送教", {"intent": "report", "date": "2026-02-28"}),
    ("29号开展了送教", {"intent": "report", "date": "2026-01-29"}),
    ("2月28日开展了送教", {"intent": "report", "date": "2026-02-28"}),
    ("昨天开学培训", {"intent": "report", "date": "2026-03-01"}),
    ("上周五开展培训", {"intent": "report", "date": "2026-02-27"}),
    ("上个月26号开展了联考", {"intent": "report", "date": "2026-02-26"}),
    ("本周日开展研学", {"intent": "plan", "date": "2026-03-08"}),
    ("1月5日开展了集体备课", {"intent": "report", "date": "2026-01-05"}),
    ("12月30日开展了送教", {"intent": "report", "date": "2025-12-30"}),
    ("签到", {"intent": "checkin", "date": "2026-03-02"}),
    ("本学期开展了多少次送教", {"intent": "query", "period": "this_semester"}),
]

NORMALISING: list[Case] = [
    ("＠教联助手　签到", {"intent": "checkin"}),
    ("@教联助手签到", {"intent": "checkin"}),
    ("@教联助手\u2005今天１２人参加了集体备课", {"intent": "report", "participants": 12}),
    ("今天的集体备课✅完成啦🎉，参加人数：１５", {"intent": "report", "participants": 15}),
    ("今天下午３：３０开展了集备", {"intent": "report", "time": "15:30"}),
    ("１１月２０日开展了听评课", {"intent": "report", "date": "2026-11-20"}),
    ("@张老师 @李老师 明天的培训请假", {"intent": "leave", "date": "2026-11-27"}),
]


# Other wordings of the report/plan rules, as a second author would write them: voice-to-text
# without punctuation, 各位老师/汇报/报告/分享一下 in front, 约/近/30余/二十多 counts,
# 12.3 / 12/3 / 12-3 / 3号 dates, 上礼拜/这礼拜, 大前天, 今早/昨晚, spans, several activities
# (the first wins), reschedules (the new day), events without a trigger (activity null), bare
# hours, topic quotes.
MORE_EVENTS: list[Case] = [
    ("今天上午我们在县实小开展了三年级数学集体备课一共十二个老师参加主题是分数的初步认识",
        {"intent": "report", "activity": "lesson_prep", "date": "2026-11-26", "grade": "三年级",
         "subject": "数学", "participants": 12, "school": "融安县实验小学",
         "topic": "分数的初步认识"}),
    ("昨天下午三点在桥板中心校听了两节语文课",
        {"intent": "report", "activity": "observation", "date": "2026-11-25", "time": "15:00",
         "subject": "语文", "school": "桥板乡中心小学"}),
    ("下周三上午九点去沙子小学送教下乡请大家准时参加",
        {"intent": "plan", "activity": "outreach", "date": "2026-12-02", "time": "09:00"}),
    ("各位老师：明天下午两点在县实小开展英语集体备课，请准时参加",
        {"intent": "plan", "activity": "lesson_prep", "date": "2026-11-27", "time": "14:00",
         "subject": "英语", "school": "融安县实验小学"}),
    ("各位老师好，今天上午八点半的培训改到下午", {"intent": "reschedule", "activity": "training"}),
    ("汇报一下：昨天到沙子乡中心小学送教，上了一节示范课，参与教师25人",
        {"intent": "report", "activity": "outreach", "date": "2026-11-25", "participants": 25}),
    ("报告：今天上午完成五年级数学质量检测",
        {"intent": "report", "activity": "assessment", "date": "2026-11-26", "grade": "五年级",
         "subject": "数学"}),
    ("分享一下，前天我们开展了青蓝工程拜师仪式，8对师徒结对",
        {"intent": "report", "activity": "mentoring", "date": "2026-11-24", "participants": None}),
    ("汇报：大前天在县实小听评课",
        {"intent": "report", "activity": "observation", "date": "2026-11-23",
         "school": "融安县实验小学"}),
    ("昨天开展了校本教研，约30人参加",
        {"intent": "report", "activity": "research", "participants": 30}),
    ("今天的集中培训近50名教师参加",
        {"intent": "report", "activity": "training", "participants": 50}),
    ("昨天送教下乡，听课教师30余人",
        {"intent": "report", "activity": "outreach", "participants": 30}),
    ("前天的网络教研二十多位老师在线参与",
        {"intent": "report", "activity": "research", "participants": 20}),
    ("上周五开展家访，走访了12户",
        {"intent": "report", "activity": "home_visit", "participants": None,
         "date": "2026-11-20"}),
    ("今天组织了3对师徒结对", {"intent": "report", "activity": "mentoring", "participants": None}),
    ("12.3开展了数学公开课", {"intent": "report", "activity": "open_class", "date": "2025-12-03"}),
    ("11.20开展了数学公开课",
        {"intent": "report", "activity": "open_class", "date": "2026-11-20"}),
    ("11/24在县实小开展送教", {"intent": "report", "activity": "outreach", "date": "2026-11-24"}),
    ("11-23开展了集体备课", {"intent": "report", "activity": "lesson_prep", "date": "2026-11-23"}),
    ("12/3将开展语文赛课", {"intent": "plan", "activity": "contest", "date": "2026-12-03"}),
    ("3号开展了家访", {"intent": "report", "activity": "home_visit", "date": "2026-11-03"}),
    ("下个月3号开展联考", {"intent": "plan", "activity": "assessment", "date": "2026-12-03"}),
    ("上礼拜三开展了听评课",
        {"intent": "report", "activity": "observation", "date": "2026-11-18"}),
    ("这礼拜二开展了集体备课",
        {"intent": "report", "activity": "lesson_prep", "date": "2026-11-24"}),
    ("这礼拜五开展集体备课", {"intent": "plan", "activity": "lesson_prep", "date": "2026-11-27"}),
    ("大前天去泗顶中心小学支教",
        {"intent": "report", "activity": "rotation", "date": "2026-11-23",
         "school": "泗顶镇中心小学"}),
    ("今早在县实小开展了晨读观课",
        {"intent": "report", "activity": "observation", "date": "2026-11-26"}),
    ("昨晚7点半开展了网络教研",
        {"intent": "report", "activity": "research", "date": "2026-11-25", "time": "19:30"}),
    ("明晚8点线上家长学校",
        {"intent": "plan", "activity": "parent_school", "date": "2026-11-27", "time": "20:00"}),
    ("2026年12月8日拟开展课题开题论证",
        {"intent": "plan", "activity": "project", "date": "2026-12-08"}),
    ("上周一至周三在县实小参加了跟岗学习",
        {"intent": "report", "activity": "shadowing", "date": "2026-11-16"}),
    ("11月3号到5号开展了送教下乡",
        {"intent": "report", "activity": "outreach", "date": "2026-11-03"}),
    ("下周一到周三将开展教师培训",
        {"intent": "plan", "activity": "training", "date": "2026-11-30"}),
    ("12月7日至9日拟在县实小举办优质课竞赛",
        {"intent": "plan", "activity": "contest", "date": "2026-12-07"}),
    ("昨天到桥板中心校送教，开展了同课异构和评课",
        {"intent": "report", "activity": "outreach", "school": "桥板乡中心小学"}),
    ("今天送课下乡，同课异构两节", {"intent": "report", "activity": "outreach"}),
    ("昨天同课异构之后进行了集体备课", {"intent": "report", "activity": "open_class"}),
    ("前天开展了说课和听评课活动", {"intent": "report", "activity": "research"}),
    ("今天家长学校结束后进行了家访", {"intent": "report", "activity": "parent_school"}),
    ("原定明天的集体备课改到下周三", {"intent": "reschedule", "activity": "lesson_prep",
                                  "date": "2026-12-02", "from_date": "2026-11-27"}),
    ("周五的公开课改到下周一下午三点",
        {"intent": "reschedule", "activity": "open_class", "date": "2026-11-30", "time": "15:00"}),
    ("送教时间调整为12月10日",
        {"intent": "reschedule", "activity": "outreach", "date": "2026-12-10"}),
    ("培训推迟到下周四", {"intent": "reschedule", "activity": "training", "date": "2026-12-03"}),
    ("28号在县实小开展听评课，查看了学生作业",
        {"intent": "report", "activity": "observation", "date": "2026-10-28"}),
    ("昨天到沙子小学视导，检查了教案和作业",
        {"intent": "report", "activity": "supervision", "date": "2026-11-25"}),
    ("昨天上午到县实小开展了调研指导，统计了各班作业量",
        {"intent": "report", "activity": "supervision"}),
    ("今天上午在桥板中心校听了3节课",
        {"intent": "report", "activity": "observation", "date": "2026-11-26"}),
    ("昨天在县实小召开了期中质量分析会，30人参加",
        {"intent": "report", "activity": None, "participants": 30, "school": "融安县实验小学"}),
    ("上周三组织全体教师进行了信息技术应用能力提升",
        {"intent": "report", "activity": None, "date": "2026-11-18"}),
    ("今天上午在沙子乡中心小学举行了读书分享会",
        {"intent": "report", "activity": None, "school": "沙子乡中心小学"}),
    ("下周一将在县实小举办经典诵读比赛",
        {"intent": "plan", "activity": None, "date": "2026-11-30"}),
    ("昨天参加了县里组织的班主任工作会议",
        {"intent": "report", "activity": None, "date": "2026-11-25"}),
    ("明天上午9点在县教育局会议室召开教学工作会",
        {"intent": "plan", "activity": None, "date": "2026-11-27", "time": "09:00"}),
    ("周五三点开展数学集体备课",
        {"intent": "plan", "activity": "lesson_prep", "date": "2026-11-27", "time": "15:00",
         "subject": "数学"}),
    ("明天2点送教",
        {"intent": "plan", "activity": "outreach", "date": "2026-11-27", "time": "14:00"}),
    ("明天8点集中培训",
        {"intent": "plan", "activity": "training", "date": "2026-11-27", "time": "08:00"}),
    ("前天晚上8点网络教研 主题“双减下的作业设计” 线上参与56人",
        {"intent": "report", "topic": "双减下的作业设计", "time": "20:00", "participants": 56}),
    ("昨天开展集体备课，主题「大单元教学设计」，12人参加",
        {"intent": "report", "topic": "大单元教学设计"}),
    ('昨天校本教研 主题"作业设计" 共8人',
        {"intent": "report", "topic": "作业设计", "participants": 8}),
    ("昨天开展集体备课主题‘习作教学’共8人",
        {"intent": "report", "topic": "习作教学", "participants": 8}),
    ("昨天我们组织开展了一次跨校教研交流活动参加的老师有二十来个",
        {"intent": "report", "activity": "research", "date": "2026-11-25", "participants": 20}),
    ("今天到板榄小学开展走教",
        {"intent": "report", "activity": "rotation", "school": "板榄镇中心小学"}),
    ("昨天在二实小进行了同步课堂教学",
        {"intent": "report", "activity": "sync_class", "school": "融安县第二实验小学"}),
    ("前天在浮石中学召开了家长会，到会家长80人",
        {"intent": "report", "activity": None, "participants": 80, "school": "浮石镇初级中学"}),
    ("上午去长安中心校听课",
        {"intent": "report", "activity": "observation", "school": "长安镇中心小学",
         "date": "2026-11-26"}),
    ("下周四下午在融安初中开展八年级物理集体备课",
        {"intent": "plan", "activity": "lesson_prep", "date": "2026-12-03", "grade": "八年级",
         "subject": "物理", "school": "融安县初级中学"}),
    ("各位老师：12月1日上午8:30在三实小举行教师基本功大赛",
        {"intent": "plan", "activity": "contest", "date": "2026-12-01", "time": "08:30",
         "school": "融安县第三实验小学"}),
    ("通知：本周五下午3点全体数学老师到县实小参加集体备课",
        {"intent": "plan", "activity": "lesson_prep", "date": "2026-11-27", "time": "15:00",
         "school": "融安县实验小学"}),
    ("今天上午完成了初二英语联考阅卷",
        {"intent": "report", "activity": "assessment", "grade": "八年级", "subject": "英语"}),
    ("昨天组织学生到泗顶小学开展手拉手活动",
        {"intent": "report", "activity": "student_exchange", "school": "泗顶镇中心小学"}),
    ("今晚七点家庭教育讲座线上进行",
        {"intent": "plan", "activity": "parent_school", "time": "19:00", "date": "2026-11-26"}),
    ("这周二我们开了个教研会", {"intent": "report", "activity": "research", "date": "2026-11-24"}),
    ("上周五课题开题了", {"intent": "report", "activity": "project", "date": "2026-11-20"}),
    ("11月25日送教下乡活动圆满结束，共有45名师生参与",
        {"intent": "report", "activity": "outreach", "date": "2026-11-25", "participants": 45}),
    ("昨天去沙子中心校上了一节送教课",
        {"intent": "report", "activity": "outreach", "school": "沙子乡中心小学"}),
    ("今天听了王老师一节数学课",
        {"intent": "report", "activity": "observation", "subject": "数学"}),
    ("刚刚听完两节课", {"intent": "report", "activity": "observation"}),
    ("今天下午2点在县实小开展送教", {"intent": "plan", "activity": "outreach", "time": "14:00"}),
    ("今天上午8点在县实小开展送教", {"intent": "report", "activity": "outreach", "time": "08:00"}),
    ("明天全天在县实小跟岗学习",
        {"intent": "plan", "activity": "shadowing", "date": "2026-11-27"}),
    ("下礼拜一开展家访", {"intent": "plan", "activity": "home_visit", "date": "2026-11-30"}),
    ("上个礼拜五开展了家访", {"intent": "report", "activity": "home_visit", "date": "2026-11-20"}),
    ("昨儿个去县实小听课了",
        {"intent": "report", "activity": "observation", "date": "2026-11-25"}),
    ("今天集备，主题：单元整体教学，10人",
        {"intent": "report", "activity": "lesson_prep", "topic": "单元整体教学",
         "participants": 10}),
    ("昨天教研，主题为《乡村教育振兴》，参与人数：18",
        {"intent": "report", "topic": "乡村教育振兴", "participants": 18}),
    ("昨天开展语文公开课《桂林山水》",
        {"intent": "report", "activity": "open_class", "topic": "桂林山水", "subject": "语文"}),
    ("昨天参加了同事的婚礼", {"intent": "report", "activity": None}),
    ("今天进行了期中考试", {"intent": "report", "activity": None}),
    ("请各位老师明天上午九点到会议室开会", {"intent": "plan", "activity": None, "time": "09:00"}),
    ("昨天讲了一节公开课", {"intent": "report", "activity": "open_class"}),
    ("上周在桥板小学上了两节示范课，听课老师20人",
        {"intent": "report", "activity": "open_class", "participants": 20}),
    ("今天上午第三节课在县实小开展了语文评课",
        {"intent": "report", "activity": "observation", "subject": "语文"}),
    ("汇报一下今天的情况", {"intent": "report"}),
    ("昨天开展了集体备课，统计了各班成绩", {"intent": "report", "activity": "lesson_prep"}),
    ("今天到县实小查看了送教进度", {"intent": "report", "activity": "outreach"}),
    ("县实小今天开展了送教活动", {"intent": "report", "activity": "outreach"}),
    ("今天三点半在会议室开展校本教研",
        {"intent": "plan", "activity": "research", "time": "15:30"}),
    ("今天九点开展了集备", {"intent": "report", "activity": "lesson_prep", "time": "09:00"}),
    ("下午四点开展课题研讨", {"intent": "plan", "activity": "project", "time": "16:00"}),
    ("周五两点半在县实小开展公开课",
        {"intent": "plan", "activity": "open_class", "time": "14:30", "date": "2026-11-27"}),
    ("星期三三点开了集备",
        {"intent": "report", "activity": "lesson_prep", "time": "15:00", "date": "2026-11-25"}),
    ("12月3日上午10点将在泗顶中心校开展送教",
        {"intent": "plan", "date": "2026-12-03", "time": "10:00"}),
    ("主题“双减” 活动开展了", {"intent": "report", "topic": "双减"}),
    ("昨天教研活动主题 “大概念教学” 参与20人",
        {"intent": "report", "topic": "大概念教学", "participants": 20}),
    ("昨天开展听评课，主题是“落实新课标”", {"intent": "report", "topic": "落实新课标"}),
    ("今天开展了以‘劳动教育’为主题的家长课堂",
        {"intent": "report", "activity": "parent_school", "topic": "劳动教育"}),
    ("今天下午网络教研主题「AI赋能课堂」,线上50人",
        {"intent": "report", "topic": "AI赋能课堂", "participants": 50}),
    ("十二月三日拟开展联考", {"intent": "plan", "date": "2026-12-03", "activity": "assessment"}),
    ("本月28号开展送教", {"intent": "plan", "date": "2026-11-28"}),
    ("这个月5号开展了送教", {"intent": "report", "date": "2026-11-05"}),
    ("12.3号开展集备", {"intent": "plan", "date": "2026-12-03"}),
    ("昨天集中培训，共计32人参加", {"participants": 32}),
    ("昨天开展集备，三十余名教师参加", {"participants": 30}),
    ("昨天下午14:30开展了教研", {"time": "14:30"}),
    ("明天早上七点五十集合送教", {"time": "07:50", "intent": "plan"}),
    ("明晚8点网络教研", {"time": "20:00"}),
    ("明天下午2点到4点开展教研", {"time": "14:00"}),
    ("下周一我们学校要开展家长学校活动",
        {"intent": "plan", "activity": "parent_school", "date": "2026-11-30"}),
    ("本周三下午在三实小开展了六年级科学听评课活动，执教老师黄丽，参加听课的老师有十五人",
        {"intent": "report", "date": "2026-11-25", "grade": "六年级", "subject": "科学",
         "participants": 15, "school": "融安县第三实验小学", "activity": "observation"}),
    ("昨天下午，长安中心校数学组开展了一次集体备课",
        {"intent": "report", "school": "长安镇中心小学", "subject": "数学"}),
    ("昨天组织了一场关于新课标的讲座，主讲人是张教授",
        {"intent": "report", "activity": "training"}),
    ("上周四到周五，我们赴桥板小学开展送教下乡，共送课4节",
        {"intent": "report", "date": "2026-11-19", "school": "桥板乡中心小学",
         "participants": None}),
    ("周二的教研活动有20位老师参加了",
        {"intent": "report", "date": "2026-11-24", "participants": 20}),
    ("今天上午十点半在县实小召开期末工作部署会",
        {"intent": "plan", "time": "10:30", "activity": None}),
    ("今天上午九点在县实小召开期末工作部署会",
        {"intent": "report", "time": "09:00", "activity": None}),
    ("明天要上公开课，好紧张", {"intent": "plan", "activity": "open_class"}),
    ("我下周三会参加送教", {"intent": "plan", "activity": "outreach"}),
    ("昨天我在二实小参加了全县小学语文教学研讨会",
        {"intent": "report", "activity": None, "school": "融安县第二实验小学",
         "date": "2026-11-25"}),
    ("上周五组织全校老师学习了新课标", {"intent": "report", "date": "2026-11-20"}),
    ("下周二在县实小举行青年教师演讲比赛",
        {"intent": "plan", "activity": None, "date": "2026-12-01", "school": "融安县实验小学"}),
    ("今天上午在三实小举办了科技节", {"intent": "report", "activity": None}),
    ("前天在会议室召开了全体教师大会，到会62人",
        {"intent": "report", "participants": 62, "date": "2026-11-24"}),
    ("11月20日在长安中心校进行了期中质量分析",
        {"intent": "report", "date": "2026-11-20", "school": "长安镇中心小学"}),
    ("下午2点在录播室磨课", {"intent": "plan", "time": "14:00"}),
    ("昨天在板榄中心校观摩了两节课", {"intent": "report", "school": "板榄镇中心小学"}),
    ("今天在桥板小学评了三节课", {"intent": "report"}),
    ("明天8:30在县实小会议室开会", {"intent": "plan", "time": "08:30", "date": "2026-11-27"}),
    ("周一开会", {"intent": "report", "date": "2026-11-23"}),
    ("各位老师，下周一下午4点开全体教师会",
        {"intent": "plan", "time": "16:00", "date": "2026-11-30"}),
    ("4点开会，请大家准时参加", {"intent": "plan", "time": "16:00"}),
    ("会议改到明天下午三点", {"intent": "reschedule", "date": "2026-11-27", "time": "15:00"}),
    ("集备时间改为周五下午",
        {"intent": "reschedule", "activity": "lesson_prep", "date": "2026-11-27"}),
    ("送教延期到下个月5号",
        {"intent": "reschedule", "activity": "outreach", "date": "2026-12-05"}),
    ("明天的送教顺延至周六", {"intent": "reschedule", "activity": "outreach",
                            "date": "2026-11-28", "from_date": "2026-11-27"}),
]


# Leave, check-in and query phrasing; 查/几 inside a report of work done is no query.
MORE_COMMANDS: list[Case] = [
    ("明天的培训我来不了", {"intent": "leave", "activity": "training", "date": "2026-11-27"}),
    ("下周二的送教我去不了", {"intent": "leave", "activity": "outreach", "date": "2026-12-01"}),
    ("周五的听课参加不了，孩子生病",
        {"intent": "leave", "activity": "observation", "date": "2026-11-27"}),
    ("我明天缺席", {"intent": "leave", "date": "2026-11-27"}),
    ("家里有事不能参加今天的教研",
        {"intent": "leave", "activity": "research", "date": "2026-11-26"}),
    ("有事不能参加明天的集备",
        {"intent": "leave", "activity": "lesson_prep", "date": "2026-11-27"}),
    ("明天下午请个假", {"intent": "leave", "date": "2026-11-27"}),
    ("后天的联考我请个假", {"intent": "leave", "activity": "assessment", "date": "2026-11-28"}),
    ("到了", {"intent": "checkin", "date": "2026-11-26"}),
    ("已签到", {"intent": "checkin"}),
    ("我先签个到", {"intent": "checkin"}),
    ("报个到，县实小王芳", {"intent": "checkin"}),
    ("已到县实小", {"intent": "checkin", "school": "融安县实验小学"}),
    ("签到 送教下乡 沙子乡中心小学", {"intent": "checkin", "activity": "outreach"}),
    ("统计一下本月的集体备课",
        {"intent": "query", "activity": "lesson_prep", "period": "this_month"}),
    ("看看这学期我们学校开展了多少次送教",
        {"intent": "query", "activity": "outreach", "period": "this_semester"}),
    ("本周签到情况", {"intent": "query", "period": "this_week"}),
    ("这学期听评课进度如何",
        {"intent": "query", "activity": "observation", "period": "this_semester"}),
    ("本学期的送教任务还差几次",
        {"intent": "query", "activity": "outreach", "period": "this_semester"}),
    ("上个月我打卡了几次", {"intent": "query", "period": "last_month"}),
    ("今年家访完成了多少户", {"intent": "query", "activity": "home_visit", "period": "this_year"}),
    ("查一下上周的教研记录", {"intent": "query", "activity": "research", "period": "last_week"}),
    ("这周我们学校的活动情况", {"intent": "query", "period": "this_week"}),
    ("我这周请了两天假", {"intent": "leave"}),
    ("明天学校有事，送教来不了了", {"intent": "leave", "activity": "outreach"}),
    ("本人因病无法参加明天的培训",
        {"intent": "leave", "activity": "training", "date": "2026-11-27"}),
    ("周五的集备我缺席一下", {"intent": "leave", "activity": "lesson_prep", "date": "2026-11-27"}),
    ("已到场", {"intent": "checkin"}),
    ("我到县实小了", {"intent": "checkin", "school": "融安县实验小学"}),
    ("签到了", {"intent": "checkin"}),
    ("打个卡", {"intent": "checkin"}),
    ("本月我们学校开展了几次教研活动",
        {"intent": "query", "activity": "research", "period": "this_month"}),
    ("帮我看看这个月签到几次", {"intent": "query", "period": "this_month"}),
    ("上周送教情况怎么样", {"intent": "query", "activity": "outreach", "period": "last_week"}),
    ("我本学期的听课次数",
        {"intent": "query", "activity": "observation", "period": "this_semester"}),
    ("今年一共开展多少场送教", {"intent": "query", "activity": "outreach", "period": "this_year"}),
    ("县实小本月集备完成情况",
        {"intent": "query", "activity": "lesson_prep", "period": "this_month",
         "school": "融安县实验小学"}),
    ("我还差几次听课", {"intent": "query", "activity": "observation"}),
    ("撤回", {"intent": "undo"}),
    ("怎么汇报", {"intent": "help"}),
    ("我是二实小的李明，教英语",
        {"intent": "bind", "name": "李明", "school": "融安县第二实验小学", "subject": "英语"}),
    ("今天开展了哪些活动", {"intent": "query"}),
    ("本周我参加了几次集备？",
        {"intent": "query", "activity": "lesson_prep", "period": "this_week"}),
    ("昨天开展了几次活动", {"intent": "query"}),
    ("送教进度怎么样了", {"intent": "query", "activity": "outreach"}),
    ("这周的进度", {"intent": "query", "period": "this_week"}),
    ("明天下午我有事要请假", {"intent": "leave", "date": "2026-11-27"}),
    ("这次培训我就不参加了", {"intent": "leave"}),
    ("明天去不成了，送教请帮我请个假", {"intent": "leave"}),
    ("查我的活动记录", {"intent": "query"}),
    ("我这个月的签到记录", {"intent": "query", "period": "this_month"}),
    ("签到+1", {"intent": "checkin"}),
    ("今天的送教活动我已到达现场", {"intent": "checkin"}),
    ("今天参加了集备的有多少人", {"intent": "query", "activity": "lesson_prep"}),
    ("昨天参加了送教的老师有哪些", {"intent": "query", "activity": "outreach"}),
    ("上周在县实小开展了几次听课",
        {"intent": "query", "activity": "observation", "period": "last_week"}),
    ("昨天到县实小开展了视导，了解了教学情况",
        {"intent": "report", "activity": "supervision", "date": "2026-11-25"}),
]


# Chatter, notices and questions to colleagues stay unknown, also with a verb, 几次 about
# something that is not ours, or a trigger inside a thing (听课本, 集体备课表, 培训手册).
MORE_CHATTER: list[Case] = [
    ("各位老师辛苦了", {"intent": "unknown"}),
    ("各位老师，请明天带好教案", {"intent": "unknown"}),
    ("请各位老师下周一带好听课本", {"intent": "unknown"}),
    ("各位老师请注意，周五的听课笔记要上交", {"intent": "unknown"}),
    ("这个PPT我改了几次了", {"intent": "unknown"}),
    ("这道题我讲了好几次了", {"intent": "unknown"}),
    ("今天调查了学生的阅读情况", {"intent": "unknown"}),
    ("谢谢王老师的分享", {"intent": "unknown"}),
    ("王老师，明天你去县实小吗？", {"intent": "unknown"}),
    ("大家早上好", {"intent": "unknown"}),
    ("收到，谢谢", {"intent": "unknown"}),
    ("今天天气不错", {"intent": "unknown"}),
    ("请各位老师周一前上交听课记录本", {"intent": "unknown"}),
    ("请各位班主任今天下班前把集体备课表交到教务处", {"intent": "unknown"}),
    ("教研组长明天交材料", {"intent": "unknown"}),
    ("哈哈，这个太有意思了", {"intent": "unknown"}),
    ("孩子们的作业都完成了", {"intent": "unknown"}),
    ("今天学生来了多少", {"intent": "unknown"}),
    ("这次作业大家交了几次", {"intent": "unknown"}),
    ("这个文件我看了好几次了", {"intent": "unknown"}),
    ("谁有教案模板？", {"intent": "unknown"}),
    ("明天几点集合？", {"intent": "unknown"}),
    ("王老师这节课上得真好", {"intent": "unknown"}),
    ("周末愉快", {"intent": "unknown"}),
    ("我们去吃饭吧", {"intent": "unknown"}),
    ("大家辛苦了，今天的活动很成功", {"intent": "unknown"}),
    ("请大家积极参加", {"intent": "unknown"}),
    ("听课本放在办公室了", {"intent": "unknown"}),
    ("教研室的电话是多少", {"intent": "unknown"}),
    ("好的，明天准时到", {"intent": "unknown"}),
    ("明天大家记得参加", {"intent": "unknown"}),
    ("今天在家休息", {"intent": "unknown"}),
    ("昨天在县实小门口碰到李老师", {"intent": "unknown"}),
    ("我明天去县实小办事", {"intent": "unknown"}),
    ("明天开会吗", {"intent": "unknown"}),
    ("组织得真好", {"intent": "unknown"}),
    ("活动很成功，谢谢大家", {"intent": "unknown"}),
    ("今天的课上完了", {"intent": "unknown"}),
    ("我的听课本找不到了", {"intent": "unknown"}),
    ("教研组明天交听课记录本", {"intent": "unknown"}),
    ("请把培训表发群里", {"intent": "unknown"}),
    ("培训手册发下来了吗", {"intent": "unknown"}),
    ("王老师，明天的培训在哪里？", {"intent": "unknown"}),
    ("明天几点开始培训？", {"intent": "unknown"}),
    ("今天的培训真精彩", {"intent": "unknown"}),
    ("这周的集备谁来主持？", {"intent": "unknown"}),
    ("有人知道下周送教去哪个学校吗", {"intent": "unknown"}),
    ("昨天的教研活动照片发一下", {"intent": "unknown"}),
    ("请大家把昨天集备的照片发群里", {"intent": "unknown"}),
    ("我把教研记录本放你桌上了", {"intent": "unknown"}),
    ("今天听课本忘带了", {"intent": "unknown"}),
    ("今天下雨，大家注意安全", {"intent": "unknown"}),
    ("祝各位老师教师节快乐", {"intent": "unknown"}),
    ("今天的家长会开得怎么样", {"intent": "unknown"}),
    ("好的，我明天参加", {"intent": "unknown"}),
    ("今天上课好累", {"intent": "unknown"}),
    ("今天上了三节课，累死了", {"intent": "unknown"}),
    ("明天上课", {"intent": "unknown"}),
    ("孩子们今天完成作业了", {"intent": "unknown"}),
    ("下午会议取消", {"intent": "unknown"}),
    ("这学期的工作总结什么时候交", {"intent": "unknown"}),
    ("今天放学后开家长会吗", {"intent": "unknown"}),
    ("谁参加了昨天的培训", {"intent": "unknown"}),
    ("我参加了", {"intent": "unknown"}),
    ("收到，准时参加", {"intent": "unknown"}),
    ("好的我会参加的", {"intent": "unknown"}),
    ("明天我参加", {"intent": "unknown"}),
]

@pytest.mark.parametrize(("text", "expect"), CHECKIN + LEAVE + QUERY + UNDO_HELP + BIND)
def test_command_like(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


@pytest.mark.parametrize("text", UNKNOWN)
def test_chatter_is_unknown(parser: Parser, text: str) -> None:
    check(parser, text, {"intent": "unknown", "activity": None, "date": None})


@pytest.mark.parametrize(("text", "expect"), REPORT)
def test_report(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


@pytest.mark.parametrize(("text", "expect"), PLAN)
def test_plan(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


@pytest.mark.parametrize(("text", "expect"), MONDAY)
def test_ambiguous_dates_on_a_monday(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect, now=MON)


# Colleagues asked for opinions or about arrangements: the bot stays silent, even with an
# activity and a date in the message, unless a clause before the question states that
# something was or will be done.
TO_COLLEAGUES: list[Case] = [
    ("前天的送教活动各位觉得效果如何", {"intent": "unknown"}),
    ("大家觉得昨天王老师的示范课咋样", {"intent": "unknown"}),
    ("这次联合教研大家有啥想法，说说看", {"intent": "unknown"}),
    ("上周的家访大家有什么感受？欢迎分享", {"intent": "unknown"}),
    ("周四的赛课你们觉得谁讲得好", {"intent": "unknown"}),
    ("明天的培训你们几点出发？", {"intent": "unknown"}),
    ("@李老师 下周二听评课谁带队", {"intent": "unknown"}),
    ("后天送教下乡在哪集合", {"intent": "unknown"}),
    ("@王老师 周五的集备你们去几个人", {"intent": "unknown"}),
    ("大家谈谈对本周集体备课的体会", {"intent": "unknown"}),
    ("周一的开题会大家有何建议", {"intent": "unknown"}),
    ("昨天的家长学校办得怎么样", {"intent": "unknown"}),
    ("各位对下周的公开课安排有没有意见", {"intent": "unknown"}),
    ("昨天的教研活动开展得怎么样了", {"intent": "unknown"}),
    ("明天集备你来吗", {"intent": "unknown"}),
    # Stated first, then asked: still a report or a plan.
    ("上周三在县实小开展了数学集体备课，大家有什么建议欢迎交流", {
        "intent": "report", "activity": "lesson_prep", "date": "2026-11-18",
        "school": "融安县实验小学"}),
    ("明天下午三点在桥板中心校开展英语公开课，大家觉得怎么样", {
        "intent": "plan", "activity": "open_class", "date": "2026-11-27", "time": "15:00"}),
    ("今天上午听了王老师的语文示范课，大家觉得怎么样", {
        "intent": "report", "activity": "open_class", "date": "2026-11-26"}),
    ("下周将开展送教下乡，欢迎大家提建议", {"intent": "plan", "activity": "outreach"}),
    # Figures of the bot's own data are still queries.
    ("本学期送教开展了几次，大家觉得够吗", {"intent": "query", "period": "this_semester"}),
    ("这学期送培完成情况怎么样", {"intent": "query", "activity": "outreach"}),
    ("本周哪些老师参加了听课", {"intent": "query", "period": "this_week"}),
    ("今年开展了多少次教研", {"intent": "query", "period": "this_year"}),
]


@pytest.mark.parametrize(("text", "expect"), TO_COLLEAGUES)
def test_questions_to_colleagues(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


NEW_YEAR_EVE = datetime(2026, 12, 31, 11, 0, tzinfo=TZ)

# Several dates in different clauses: the day of the activity is the date in the clause of
# its trigger or verb, else the closest one before it; a span still gives its first day.
DAY_OF_THE_EVENT: list[tuple[str, dict[str, Any], datetime]] = [
    ("明天元旦放假，1月4日上午8点在长安中心校召开教研活动，请准时参加", {
        "intent": "plan", "activity": "research", "date": "2027-01-04", "time": "08:00"},
     NEW_YEAR_EVE),
    ("元旦放假三天，1月4日下午开展数学集体备课", {
        "intent": "plan", "date": "2027-01-04", "subject": "数学"}, NEW_YEAR_EVE),
    ("昨天开完会，定于12月2日在县实小举行英语公开课", {
        "intent": "plan", "activity": "open_class", "date": "2026-12-02"}, NOW),
    ("明天周五，下周二下午两点在桥板中心校开展听评课", {
        "intent": "plan", "date": "2026-12-01", "time": "14:00"}, NOW),
    ("今天星期四，上周五在县实小开展了家访", {
        "intent": "report", "activity": "home_visit", "date": "2026-11-20"}, NOW),
    ("昨天接到通知，下周三在县实小开展集体备课", {
        "intent": "plan", "date": "2026-12-02"}, NOW),
    ("本周五放假，下周一上午开展公开课", {"intent": "plan", "date": "2026-11-30"}, NOW),
    ("后天周六不上课，下周一的送教照常进行", {
        "intent": "plan", "activity": "outreach", "date": "2026-11-30"}, NOW),
    ("今天上午收到通知，明天下午3点集体备课", {
        "intent": "plan", "date": "2026-11-27", "time": "15:00"}, NOW),
    # The date in a clause of its own before the activity still counts.
    ("昨天下午，在县实小开展了数学集体备课", {"intent": "report", "date": "2026-11-25"}, NOW),
    ("今天汇报一下：11月20日在县实小开展了集体备课", {
        "intent": "report", "date": "2026-11-20"}, NOW),
    # Markers pulling both ways: the clause of the dated event decides.
    ("11月25日，县实小开展了数学集体备课，下周将继续开展", {
        "intent": "report", "date": "2026-11-25"}, NOW),
    ("周二开展了英语集体备课，下周二将继续开展", {"intent": "report", "date": "2026-11-24"}, NOW),
    # Spans and lists give their first day.
    ("上周一至周三开展了跟岗学习", {"intent": "report", "date": "2026-11-16"}, NOW),
    ("12月1日至3日将举行培训", {"intent": "plan", "date": "2026-12-01"}, NOW),
    ("11.18-11.20在县实小开展送教", {"intent": "report", "date": "2026-11-18"}, NOW),
    ("上周三和周四开展了送教", {"intent": "report", "date": "2026-11-18"}, NOW),
]


@pytest.mark.parametrize(("text", "expect", "now"), DAY_OF_THE_EVENT)
def test_day_of_the_event(parser: Parser, text: str, expect: dict[str, Any],
                          now: datetime) -> None:
    check(parser, text, expect, now)


@pytest.mark.parametrize(("text", "expect"), MORE_EVENTS + MORE_COMMANDS + MORE_CHATTER)
def test_other_wordings(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


@pytest.mark.parametrize(("text", "expect"), NORMALISING)
def test_normalising(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


ACTIVITY_TRIGGERS = [
    (trigger, code)
    for code, triggers in {
        "lesson_prep": ["集体备课", "集备", "联合备课", "集体研课", "备课研讨", "备课活动"],
        "outreach": ["送教下乡", "送教", "送课下乡", "送课", "送培"],
        "observation": ["听评课", "听课", "评课", "观课", "议课"],
        "open_class": ["公开课", "示范课", "研讨课", "汇报课", "观摩课", "展示课", "同课异构"],
        "research": ["教研活动", "教研", "主题教研", "校本教研", "联合教研", "网络教研", "说课"],
        "training": ["培训", "集中培训", "专题培训", "讲座", "研修"],
        "supervision": ["视导", "管理视导", "督导", "调研指导"],
        "home_visit": ["家访", "入户家访"],
        "shadowing": ["跟岗", "跟岗学习", "挂职", "跟班学习"],
        "rotation": ["支教", "轮岗", "走教", "驻教"],
        "sync_class": ["同步课堂", "线上同步教学", "专递课堂", "远程课堂", "直播课堂"],
        "contest": ["优质课", "赛课", "课堂比武", "基本功展示", "基本功大赛"],
        "student_exchange": ["手拉手", "学生交流", "研学", "联谊"],
        "parent_school": ["家长学校", "家庭教育讲座", "家长课堂"],
        "project": ["课题研究", "开题", "结题", "立项", "课题"],
        "mentoring": ["师徒结对", "结对", "青蓝工程", "拜师"],
        "assessment": ["质量检测", "统一检测", "质量监测", "联考", "统考"],
    }.items()
    for trigger in triggers
]


@pytest.mark.parametrize(("trigger", "code"), ACTIVITY_TRIGGERS)
def test_every_trigger_names_its_activity(parser: Parser, trigger: str, code: str) -> None:
    check(parser, f"昨天开展了{trigger}活动", {"intent": "report", "activity": code,
                                          "date": "2026-11-25"})


@pytest.mark.parametrize(("alias", "canonical"), [
    (alias, name) for name, aliases in demo_schools() for alias in (name, *aliases)
])
def test_every_school_alias(parser: Parser, alias: str, canonical: str) -> None:
    check(parser, f"昨天在{alias}开展了集体备课", {"school": canonical, "intent": "report"})


@pytest.mark.parametrize(("word", "grade"), [
    ("一年级", "一年级"), ("2年级", "二年级"), ("六年级", "六年级"), ("初一", "七年级"),
    ("初二", "八年级"), ("初三", "九年级"), ("八年级", "八年级"), ("高一", "高一"),
    ("高二", "高二"), ("高三", "高三"), ("初中二年级", "八年级"), ("高一年级", "高一"),
    ("初一初二", None), ("七八年级", None),
    ("全校", None), ("低年级", None), ("高年级", None),
])
def test_grades(parser: Parser, word: str, grade: str | None) -> None:
    check(parser, f"昨天{word}数学集体备课", {"grade": grade, "intent": "report"})


@pytest.mark.parametrize(("word", "subject"), [
    ("语文", "语文"), ("数学", "数学"), ("英语", "英语"), ("物理", "物理"), ("化学", "化学"),
    ("生物", "生物"), ("历史", "历史"), ("地理", "地理"), ("道法", "道德与法治"),
    ("思品", "道德与法治"), ("政治", "道德与法治"), ("科学", "科学"), ("音乐", "音乐"),
    ("美术", "美术"), ("体育", "体育"), ("信息技术", "信息科技"), ("信息科技", "信息科技"),
    ("心理", "心理健康"), ("劳动", "劳动"), ("综合实践", "综合实践"), ("书法", "书法"),
    ("语文、数学", None), ("音乐美术", None),
])
def test_subjects(parser: Parser, word: str, subject: str | None) -> None:
    check(parser, f"昨天{word}组开展了集体备课", {"subject": subject, "intent": "report"})


def test_report_without_activity_is_not_confident(parser: Parser) -> None:
    result = parser.parse("昨天开展了一次活动，20人参加", NOW)
    assert result.intent == "report" and result.activity is None
    assert result.confidence < CONFIDENT


def test_clear_report_is_confident(parser: Parser) -> None:
    result = parser.parse("昨天开展了数学集体备课，12人参加", NOW)
    assert result.confidence >= CONFIDENT
    assert "集体备课" in result.matched


def test_conflicting_cues_lower_confidence(parser: Parser) -> None:
    plain = parser.parse("周五开展集体备课", NOW).confidence
    torn = parser.parse("原计划周五开展的集体备课已经开展了", NOW).confidence
    assert torn < CONFIDENT <= plain


def test_every_key_is_present(parser: Parser) -> None:
    data = parser.parse("好的", NOW).as_dict()
    for key in ("intent", "activity", "date", "time", "subject", "grade", "participants",
                "topic", "school", "period", "name", "confidence", "matched"):
        assert key in data
    assert 0.0 <= data["confidence"] <= 1.0


# Counting the bot's own records (记录/台账/次数/条 + 几/多少/哪些) with a period or an
# activity is a query, even with a past-looking period like 上个月 or 上周.
RECORD_QUERIES: list[Case] = [
    ("上周集体备课的记录有几条", {"intent": "query", "activity": "lesson_prep",
                               "period": "last_week", "date": None}),
    ("上周送教记录有多少条", {"intent": "query", "activity": "outreach", "period": "last_week"}),
    ("本学期家访台账有哪些", {"intent": "query", "activity": "home_visit",
                            "period": "this_semester"}),
    ("这个月教研活动记录一共多少", {"intent": "query", "activity": "research",
                                  "period": "this_month"}),
    ("上个月的签到记录有几条", {"intent": "query", "period": "last_month"}),
    ("上周公开课台账里有哪些", {"intent": "query", "activity": "open_class",
                              "period": "last_week"}),
    ("本学期送教下乡一共登记了几条", {"intent": "query", "activity": "outreach",
                                    "period": "this_semester"}),
    ("上月观课记录有几条？", {"intent": "query", "activity": "observation",
                            "period": "last_month"}),
    ("今年培训的次数有多少", {"intent": "query", "activity": "training", "period": "this_year"}),
    # Counts of something that is not ours, or records that are written, stay as they were.
    ("今天的教研活动大家提了几条建议", {"intent": "report", "activity": "research"}),
    ("昨天听课记录写了三页", {"intent": "report", "activity": "observation"}),
    ("我手机里有几条消息", {"intent": "unknown"}),
]


@pytest.mark.parametrize(("text", "expect"), RECORD_QUERIES)
def test_record_counts_are_queries(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)


# A forwarded notice (收到/接到/根据…通知, 通知：…) of a dated event announces or reports
# that event; its 收到 is no acknowledgement. A bare 收到 or 收到通知了 stays chatter.
NOTICES: list[Case] = [
    ("收到中心校通知：12月1日下午开展集体备课", {"intent": "plan", "activity": "lesson_prep",
                                          "date": "2026-12-01"}),
    ("刚接到通知，下周二组织送教下乡", {"intent": "plan", "activity": "outreach",
                                    "date": "2026-12-01"}),
    ("根据县教研室通知，本月28日举行数学公开课", {"intent": "plan", "activity": "open_class",
                                           "date": "2026-11-28", "subject": "数学"}),
    ("按照学区安排，12月4日进行家访", {"intent": "plan", "activity": "home_visit",
                                   "date": "2026-12-04"}),
    ("收到乡里通知，12月10日举办家长学校讲座，辛苦大家准备",
     {"intent": "plan", "activity": "parent_school", "date": "2026-12-10"}),
    ("昨天收到教育局通知：12月15日至17日举办新教师培训",
     {"intent": "plan", "activity": "training", "date": "2026-12-15"}),
    ("收到学区通知：11月20日已举办了语文公开课", {"intent": "report", "activity": "open_class",
                                           "date": "2026-11-20"}),
    ("收到县里通知：11月24日已召开了教研活动", {"intent": "report", "activity": "research",
                                         "date": "2026-11-24"}),
    ("收到", {"intent": "unknown"}),
    ("收到通知了", {"intent": "unknown"}),
    ("收到通知，谢谢", {"intent": "unknown"}),
    ("收到，谢谢王老师", {"intent": "unknown"}),
    ("收到通知：明天开展送教，谁去？", {"intent": "unknown"}),
]


@pytest.mark.parametrize(("text", "expect"), NOTICES)
def test_forwarded_notices(parser: Parser, text: str, expect: dict[str, Any]) -> None:
    check(parser, text, expect)
