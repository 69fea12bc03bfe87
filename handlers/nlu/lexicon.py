"""The parser's vocabulary as data: activities, subjects, grades, cue words, markers, periods.

Defaults mirror spec/nlu.md; `build_lexicon(settings)` merges the `[nlu]` table of the TOML
config over them. Supported keys (all optional; see docs/nlu.md):

- `activities.<code>`: `name = "…"`, `triggers = [...]` — adds an activity or extends one
  (triggers are appended; `replace = true` replaces the default triggers).
- `subjects`: `{科学 = ["自然"]}` — aliases added to a subject, or a new subject.
- `grades`: `{七年级 = ["初一"]}` — aliases added to a grade, or a new grade.
- `non_activity_nouns`: nouns that contain a trigger or a subject but name neither
  (教研组, 课题组, 政治学习).
- `cues.<family>`: extra literal cue words for an intent family (checkin, checkout, leave,
  query, query_weak, undo, help, bind, report, chatter, howto, material, correct,
  correct_change, cancel, reschedule, directive, promise) or a sentence shape (opinion,
  arrangement, notice, place, school_lead, vague_move, total, …).
- `negated_verbs`: extra verbs that 还没/没有/未 negate (the activity did not take place).
- `query_by`: `{school = [...], member = [...]}` — words asking per school or per person.
- `titles`: extra titles after a teacher's name (张丽老师 → 张丽).
- `people`: extra words for people in a head count (12名学员).
- `future_markers`, `past_markers`: extra literal marker words (report vs plan).
- `periods.<period>`: extra words for a query period (this_week, last_month, …).
- `action_verbs`: extra verbs of school work (开展, 组织, …) that make a dated message an event.
- `words`: extra words for the tokenizer's user dictionary.
- `bot_names`: extra names the bot is @mentioned by (default 教联助手).
- `max_chars`: how much of a message is examined (default 500).

Imports nothing outside the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACTIVITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lesson_prep": ("集体备课", ("集体备课", "集备", "联合备课", "集体研课", "备课研讨",
                                 "备课活动")),
    "outreach": ("送教下乡", ("送教下乡", "送教", "送课下乡", "送课", "送培")),
    "observation": ("听评课", ("听评课", "听课", "评课", "观课", "议课")),
    "open_class": (
        "公开课",
        ("公开课", "示范课", "研讨课", "汇报课", "观摩课", "展示课", "同课异构"),
    ),
    "research": (
        "教研活动",
        ("教研活动", "教研", "主题教研", "校本教研", "联合教研", "网络教研", "说课"),
    ),
    "training": ("教师培训", ("培训", "集中培训", "专题培训", "讲座", "研修")),
    "supervision": ("管理视导", ("视导", "管理视导", "督导", "调研指导")),
    "home_visit": ("家访", ("家访", "入户家访")),
    "shadowing": ("跟岗学习", ("跟岗", "跟岗学习", "挂职", "跟班学习")),
    "rotation": ("支教轮岗", ("支教", "轮岗", "走教", "驻教")),
    "sync_class": (
        "同步课堂",
        ("同步课堂", "线上同步教学", "专递课堂", "远程课堂", "直播课堂"),
    ),
    "contest": ("优质课竞赛", ("优质课", "赛课", "课堂比武", "基本功展示", "基本功大赛")),
    "student_exchange": ("学生交流", ("手拉手", "学生交流", "研学", "联谊")),
    "parent_school": ("家长学校", ("家长学校", "家庭教育讲座", "家长课堂")),
    "project": ("课题研究", ("课题研究", "开题", "结题", "立项", "课题")),
    "mentoring": ("师徒结对", ("师徒结对", "结对", "青蓝工程", "拜师")),
    "assessment": ("质量检测", ("质量检测", "统一检测", "质量监测", "联考", "统考")),
}

# Nouns that contain a trigger but are groups, offices or people, never an activity.
NON_ACTIVITY_NOUNS: tuple[str, ...] = (
    "教研组", "教研组长", "课题组", "课题组长", "课题组成员", "教研室", "教研员", "教研处",
    "教研主任", "教研中心", "培训中心", "研修中心", "培训基地", "研学基地", "培训费",
)

# Nouns that contain a subject name but are no school subject.
NON_SUBJECT_NOUNS: tuple[str, ...] = (
    "政治学习", "政治理论", "劳动节", "劳动纪律", "体育馆", "体育节", "美术馆", "音乐厅",
    "音乐节", "科学家", "历史性", "心理素质", "数学家", "文化课",
)

SUBJECTS: dict[str, tuple[str, ...]] = {
    "语文": (),
    "数学": (),
    "英语": (),
    "物理": (),
    "化学": (),
    "生物": (),
    "历史": (),
    "地理": (),
    "道德与法治": ("道法", "思品", "政治", "思想品德"),
    "科学": (),
    "音乐": (),
    "美术": (),
    "体育": ("体育与健康",),
    "信息科技": ("信息技术",),
    "心理健康": ("心理",),
    "劳动": (),
    "综合实践": (),
    "书法": (),
}

GRADES: dict[str, tuple[str, ...]] = {
    "一年级": ("1年级",),
    "二年级": ("2年级",),
    "三年级": ("3年级",),
    "四年级": ("4年级",),
    "五年级": ("5年级",),
    "六年级": ("6年级",),
    "七年级": ("7年级", "初一", "初中一年级"),
    "八年级": ("8年级", "初二", "初中二年级"),
    "九年级": ("9年级", "初三", "初中三年级"),
    "高一": ("高中一年级",),
    "高二": ("高中二年级",),
    "高三": ("高中三年级",),
}

# Words that stand for several grades at once and so give no grade.
GRADE_GROUPS: tuple[str, ...] = ("低年级", "中年级", "高年级", "全校", "各年级", "全年级")

# Material colleagues are asked to send (照片发一下), and the sending.
MATERIAL = ("照片|图片|相片|材料|资料|课件|视频|美篇|简报|总结|教案|心得|签到表|表格|讲稿|"
            "PPT|ppt|作业|试卷|文件|记录")
SENDING = ("上传|发一下|发下|发给|发到|发群|发在|发过来|发我|发上来|发出来|传一下|传到|传给|"
           "传上来|交一下|交给|提交|分享一下|发一份|整理一下发")

# A reschedule ("改到下周三"): the date after it is the day of the plan.
RESCHEDULE = (r"(?:改|调整|调|推迟|推后|延期|延后|挪|换|顺延|提前|变更|更改)(?:到|至|为|在|成)"
              r"(?=\s*(?:[本这上下]个?(?:周|星期|礼拜)|周|星期|礼拜|明|后天|大后天|今|[\d一二三四五六七八九十两]"
              r"|[上下]午|晚上|早上|中午|傍晚))")

# Intent cues are regular expressions; config additions are escaped literals.
CUES: dict[str, tuple[str, ...]] = {
    "help": (
        r"^(?:帮助|help|菜单|使用说明|说明书|功能|指令|命令)$", r"使用说明",
        # "谢谢大家的帮助" and "食堂菜单" are no requests for help.
        r"^帮助", r"(?<![的相])帮助\s*[?!]*$", r"(?:查看|使用|获取)帮助",
        r"^(?:显示|查看|打开)?菜单", r"(?i:^help\b)", r"怎么用", r"如何使用", r"怎么使用",
        r"(?:怎么|如何|怎样)(?:汇报|签到|签退|操作|上报|打卡|请假|查询|绑定|登记|填报|报(?!名))",
        r"有(?:什么|哪些|啥)功能", r"能(?:做|干)(?:什么|啥|嘛)", r"是(?:干|做)什么的",
        r"^[?？]+$", r"操作指南", r"使用方法", r"^功能介绍",
    ),
    "undo": (
        # "王老师撤回了一条消息" is WeChat's notice of a recall, not a request.
        r"撤销", r"撤消", r"撤回(?!了一条消息)", r"^(?:发错了|填错了|报错了|写错了)",
        r"(?:删除|删掉|删了|去掉|作废|取消)(?:我的)?(?:上一条|刚才|刚刚|最后一条|那条)",
        r"(?:刚才|刚刚|上一条|那条)(?:那条|的)?(?:记录|消息|信息)?(?:发错|填错|报错|写错|不算|作废)",
    ),
    "query": (
        # 检查/调查/督查 are inspections, 查看了 an action done: neither asks our records.
        r"几次", r"次数", r"多少", r"统计", r"查询", r"(?<![检调督抽审排巡核])查一下",
        r"(?<![检调督抽审排巡核])查看(?!了|过)", r"(?<![检调督抽审排巡核])查查", r"哪些",
        r"^(?:请|麻烦)?(?:帮我|给我)?查(?!看了|了)",
        r"完成情况", r"进度", r"几场", r"几个活动", r"情况如何", r"汇总",
        r"情况(?:怎么样|怎样|咋样|如何)",
        r"(?:开展|完成|签到|打卡|出勤|考勤|参加|参与|请假|活动)(?:的)?情况",
        r"情况\s*[?]?\s*$", r"(?:签到|打卡|请假|考勤|出勤)记录", r"达标",
        r"(?:签到|打卡|汇报|上报|完成|开展)了?(?:吗|没有?)\s*[?]?\s*$",
        # Counting the bot's records ("上个月听课记录有几条", "台账里有哪些"): a record word
        # then the count, or a count of 条 that ends the clause ("提了几条建议" is no query).
        r"(?:记录|台账|档案|登记|次数)[^,.;!?，。；！？]{0,6}?(?:几|多少|哪些)",
        r"(?:几|多少)\s*条(?:记录|台账)?\s*(?:[?。!]|吗|呢|了|啊|呀|$)",
    ),
    # "去了几个学校" states; these ask only in a question or without a past marker.
    "query_weak": (
        # 谁, 哪个, 哪几 ask our data with a ranking ("本季度谁参加培训最多"); "谁明天去" not.
        r"(?:谁|哪个|哪几)[^,.;!?，。；！？]{0,12}?(?:最多|最少|最高|最低|第一|排第|最积极)",
        r"(?:谁|哪些人|哪几位)(?:还)?(?:没有?|未)(?:签到|打卡|报到|参加|上报|汇报)",
        r"几个", r"几回", r"几项", r"几位", r"几人", r"几天", r"排名", r"排行", r"看(?:看|一下)",
    ),
    "leave": (
        r"请.{0,3}假", r"来不了", r"不能参加", r"参加不了", r"去不了", r"无法参加", r"无法出席",
        r"不能出席", r"到不了", r"缺席", r"没法参加", r"没办法参加", r"赶不过去", r"不能来",
        r"不来了", r"不参加了", r"出席不了", r"没(?:办)?法来", r"(?:来|去|参加)不成",
        r"不去了", r"赶不上", r"赶不回",
    ),
    "checkout": (r"签退", r"离会打卡", r"离会", r"离场", r"退场打卡", r"下班打卡"),
    "checkin": (
        r"签到", r"签个到", r"^已签\s*$", r"补签", r"补个签", r"补打卡", r"补个?卡", r"打卡",
        r"报到", r"我到了", r"^已到",
        r"已到(?:达|场|会|岗|齐|位|□|\s*$)",
        r"^到了?[\s!。.~]*$", r"^到了[,，。!]", r"已经到了", r"到会打卡", r"报个到", r"打个卡",
        # "我到县实小了": the school is masked (□) before cues are looked for.
        r"^我?(?:已经?|刚)?到(?:达)?□+了?[\s!。.~]*$",
    ),
    "bind": (
        r"^(?:(?:你好|您好|大家好|老师好|各位好)[,!\s]*)?"
        r"(?:我是|本人|我叫|绑定|绑定身份|身份绑定|认证|姓名\s*[:：])",
    ),
    "report": (r"汇报", r"上报", r"报告[:：]", r"^报告", r"反馈一下", r"记录一下"),
    "chatter": (
        r"谢谢", r"感谢", r"辛苦", r"点赞", r"太棒", r"厉害", r"收到", r"好的", r"哈哈",
        r"早上好", r"晚上好", r"下午好", r"快乐", r"祝贺", r"恭喜", r"晚安", r"真好", r"很好",
        r"精彩", r"收获很大", r"受益", r"不错", r"很棒", r"好棒", r"赞", r"佩服", r"学习了$",
        r"记得", r"别忘", r"不要忘",
    ),
    # How to do something (请假条怎么写, 签到表在哪里拿, 怎么报名): a question, not a request.
    "howto": (
        r"(?:怎么|如何|怎样|咋)(?:写|填|弄|做|报名|交|下载|领|拿|找|申请|打印|上传|提交|准备)",
        r"(?:在哪|去哪|到哪|哪里|哪儿)(?!些|几)(?:里|儿)?(?:拿|领|下载|找|填|交|打印|签|报名|买|取|看)",
        r"(?:表|条|单|册|本)(?:在哪|放哪|哪里有)",
    ),
    # Asking colleagues to send or upload material ("照片发一下", "请把教案发群里"); a
    # statement that it was sent (已上传, 发了) is none.
    "material": (
        rf"(?:{MATERIAL})[^,.;!?，。；！？]{{0,8}}?(?<!已)(?:{SENDING})(?!了|过)",
        rf"(?<!已)(?<!已经)(?:{SENDING})(?!了|过)[^,.;!?，。；！？]{{0,14}}?(?:{MATERIAL})",
    ),
    # A correction of what was just reported: with a slot value it is a `correct`.
    "correct": (
        r"不对", r"更正", r"纠正", r"应该是", r"应为", r"(?:写|搞|弄|填|打|说|发|记|报)错了?",
        r"有误", r"错了",
    ),
    # 改成/改为 + a head count, subject, grade, topic or school (人数改成11) corrects.
    "correct_change": (r"(?:改成|改为|更改为|修改为|更正为|改一下)",),
    # A planned activity will not take place.
    "cancel": (
        r"取消(?!上一条|刚才|刚刚|最后一条|那条|我的上一条)", r"暂停", r"停一次", r"停办",
        r"作罢", r"不再?(?:搞|开展|举行|举办|办|开|进行|组织)(?:了|啦)",
        r"不(?:搞|开展|举行|举办|进行|组织)(?=\s*(?:$|[,;!?。，；！？]))",
    ),
    # A planned activity moves: to a day or time, to a place, or to no particular day.
    "reschedule": (
        RESCHEDULE,
        r"(?:改|调|换|挪|推迟|推后|延期|延后|顺延)(?:到|在)(?!\s*(?:$|[,;!?。，；！？]))",
        r"(?:推迟|推后|延期|延后|顺延|改期|改天)(?!到|至|在|了?(?:几|多少))",
    ),
    # An order to others to carry an activity out (各校…开展); without a day it is no plan.
    "directive": (
        r"各(?:校|学校|成员校|单位|联合学校|学区|教研组|年级组|乡镇)", r"要求", r"务必", r"必须",
    ),
    "directive_verb": (r"(?:开展|组织|举行|举办|落实|完成|安排|搞)(?![了过])",),
    # The sender's own attendance promise (我准时到, 我们会参加的): no plan of an event.
    "promise": (
        r"(?:我|我们|本人)(?:都|也|明天|届时|肯定)?(?:一定会?|肯定会?|会准时|会按时|准时|按时|"
        r"会|届时)(?:到|参加|去|来|出席|到场|参与)(?:的|哦|呀|啊|哈|滴)?"
        r"(?=\s*[!.~。]*\s*(?:$|[,;!?，。；！？]))",
    ),
}

# Regular expressions of sentence shapes, by name; `[nlu.cues]` may extend them too.
SHAPES: dict[str, tuple[str, ...]] = {
    # Words that ask rather than state; a query needs one of them, not only 进度 or 统计.
    "asking": (r"几|多少|哪些|完成情况|查询|查一下|查看|查查|怎么样|如何|[?]|吗|呢|了没|没有",),
    # Questions to colleagues: the bot stays out of them.
    "question": (
        r"[?]\s*$|[吗呢吧嘛]\s*[?。!]*\s*$|谁|哪里|哪儿|什么时候|几点|有没有|是不是|能不能|"
        r"可不可以|要不要|在哪|啥时候|咋|哪个|哪位|哪天|多久|怎么走",
    ),
    # Asking colleagues what they think of an event (大家觉得怎么样, 有什么建议, 欢迎交流).
    "opinion": (
        r"(?:大家|各位|你们|你(?![好们]))(?:都)?(?:觉得|感觉|认为|怎么看|看看|说说|谈谈)",
        r"(?<!情况)(?<!进度)(?<!效果)(?:怎么样|咋样|怎样)"
        r"(?!开展|组织|进行|上|备|写|评|做|填|汇报|签到)",
        r"感觉如何|感受如何|效果如何",
        r"有(?:什么|啥|何|没有|哪些)(?:好的)?(?:建议|意见|想法|看法|感受|感想|体会|收获|心得|"
        r"办法|点子)",
        r"提(?:提|点|些|出)?(?:宝贵)?(?:建议|意见)吧?\s*[?!。]*$",
        r"欢迎[^,.;!?，。；！？]{0,8}?(?:交流|讨论|留言|分享|提意见|提建议|指正|拍砖)",
        r"说说看|说一说|谈一谈|谈谈(?:看|感受|体会|想法)|聊聊|议一议",
    ),
    # A question about arrangements (谁去, 几个人去, 几点出发, 在哪集合): not the bot's figures.
    "arrangement": (
        r"(?:几个人|几个老师|几位老师?|几人|谁|哪位|哪几位|哪几个人?)(?:要|会|能|一起|跟着?)?"
        r"(?:去|来|出发|带队|开车|主讲|主备|上课|讲课)(?![了过])",
        r"几点(?:钟)?(?:出发|集合|走|到|开始|见)|在哪(?:里|儿)?(?:集合|见|等|上车)",
        r"(?:你们|你(?![好们])|您)[^,.;!?，。；！？]{0,10}?"
        r"(?:几个|几位|几人|谁|哪几|几点|在哪|什么时候|啥时候|去不去|来不来|去吗|来吗)",
    ),
    "ends_asking": (r"(?:[?]|吗|呢|了)\s*[?]*\s*$",),
    # Work done with a query word in it ("查看了送教进度", "统计了成绩") states, not asks.
    "done": (r"(?:查看|检查|查阅|抽查|督查|调研|视察|指导|统计|汇总|了解)了",),
    # "汇报一下今天的情况" is about to report.
    "report_lead": (r"^(?:汇报|上报|报告|反馈)",),
    # Thanks and greetings up front make the rest small talk ("谢谢王老师今天的示范课").
    "chatter_lead": (r"^(?:谢谢|感谢|祝贺|恭喜|辛苦|点赞|赞|好的|收到|哈哈)",),
    # A forwarded notice ("今天收到县里通知：…", "根据教育局通知，…", "通知：…"): its 收到 is
    # no acknowledgement; what follows it decides.
    "notice": (
        r"(?:收到|接到|接|根据|按照|依据|按)[^,.;!?，。；！？:：]{0,12}?(?:通知|文件|安排)"
        r"(?:要求|精神)?\s*[,:：，]?",
        r"^\s*(?:通知|紧急通知|重要通知)\s*[:：]",
    ),
    # A message that ends by asking (？, 吗, 呢) is a question whatever verbs it holds.
    "asks": (r"(?:[?]|吗|呢|么|没有?)\s*[?]*\s*$",),
    # "昨天参加了送教的老师有哪些": a count or a list asked for, whatever the verbs.
    "asks_how_many": (r"有(?:几|多少)|多少|哪些|哪几",),
    # Counts and look-ups that ask the bot even inside a chatty question.
    "counts": (r"几次|次数|多少|统计|查|哪些|几场|汇总|记录",),
    # A place the event was held at, when it is no roster school ("在县教育局会议室").
    "place": (
        r"(?:在|到|赴|前往)了?\s*[^,.;!?，。；！？\s]{0,12}?"
        r"(?:学校|小学|中学|中心校|完小|校区|幼儿园|教学点|教室|会议室|报告厅|礼堂|多媒体室|录播室|"
        r"教育局|进修学校|村|屯|家中|学生家)",
    ),
    # A school named after one of these is where the event takes place.
    "school_lead": (
        r"(?:(?:在|到|赴|去|来|前往|走进|深入|进入|走访)了?|于|地点\s*[:为是]?)\s*$",
    ),
    # A school named just before one of these sends the people (县实小派出6名骨干教师…);
    # matched right after the school's name.
    "school_sends": (
        r"\s*(?:共|先后|再次|又|本学期|今年)?\s*(?:派出|派遣|选派|委派|输送|抽调|派)了?",
    ),
    # …or just after one of these (从泗顶小学来的…).
    "sender_lead": (r"从\s*$",),
    # A school other than the venue followed by a head count of staff sends them
    # (泗顶小学3名教师到县实小跟岗).
    "school_staff": (
        r"\s*(?:的|有|共)?\s*(?:\d{1,4}|[一二两三四五六七八九十]{1,3})\s*(?:名|位|个)?\s*"
        r"(?:骨干|青年|年轻|优秀|学科)?\s*(?:教师|老师|干部|行政|校长|管理人员)",
    ),
    # A move to no particular day (推迟到下周, 另行通知): the new day is unknown.
    "vague_move": (r"^\s*(?:[本这下]个?(?:周|星期|礼拜|月)(?![一二三四五六日天七1-7末])|月底|"
                   r"期末|以后|之后|近期|另行|待定|下学期|学期末|节后)",),
    # A time of day of its own makes a clause a separate event (上午听课，下午集备).
    "time_of_day": (r"上午|下午|晚上|早上|中午|傍晚|今晚|明早|明晚|昨晚",),
    # A head count introduced by 共/一共/总共/合计/累计 wins over the others.
    "total": (r"(?:一共|总共|合计|累计|共计|共(?![体同享建育]))\s*(?:有|计|约)?\s*"
              r"(?:参加|参与|到会)?(?:教师|老师|人员|学生|家长|师生|学员)?\s*$",),
}

# Strong markers outweigh a lone 了 or 过.
STRONG_FUTURE: tuple[str, ...] = (
    "将", "拟", "计划", "定于", "预计", "届时", "准时", "即将", "打算", "将于", "改", "调", "推",
    "延", "挪", "换", "提前", "变更",
)
STRONG_PAST: tuple[str, ...] = ("已", "完成", "结束", "圆满", "顺利")

# Who counts as a participant ("12位老师", "到会家长40人").
PEOPLE: tuple[str, ...] = (
    "人", "老师", "教师", "学生", "家长", "同学", "学员", "师生", "孩子", "班主任", "校长", "骨干",
    "教职工", "名师", "干部", "辅导员", "代表", "成员", "党员", "幼儿", "志愿者",
)
# Surnames for names (bind, a query about one teacher).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤蓝欧农麦凌卜甘蒙骆柳岑黎庞粟滕玉阮梅包祝左涂谷伍奚屈颜车晏"
    "温易池鲁饶利宁章关施符翁柯焦尤单洪荣古舒卓艾芦裴管乔葛"
)
DOUBLE_SURNAMES: tuple[str, ...] = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
)
# Words around a name in a `bind` message that are no part of it.
ROLE_WORDS = (r"老师|教师|班主任|副校长|校长|主任|组长|任教|教|负责|的|是|在|我|叫|姓名|名字|学科|"
              r"科目|一名|一位|现任|担任|来自|小学|中学|学校|年级|初中|高中")
# A trigger followed by these is a thing, not an activity (听课本, 集体备课表).
TRIGGER_AS_NOUN = (r"\s*(?:本(?!周|月|学期|期|年|次|校|县|乡|镇|人|部)|笔记|记录本|记录表|记录册|"
                   r"表(?!彰|现|演|示|达|扬|态|率)|手册|册)")

# Intent families CueFinder.find reports in `Cues.found` (the others are looked up by name).
INTENT_CUES: tuple[str, ...] = (
    "help", "undo", "query", "query_weak", "leave", "checkout", "checkin", "bind", "report",
    "chatter", "howto", "material", "correct", "correct_change", "cancel", "reschedule",
    "directive", "promise",
)

# Not yet done (还没开展, 没有搞, 未开展): negation words, then (after a filler) a verb of
# school work or an activity trigger.
NEGATIONS: tuple[str, ...] = ("还没有", "还没", "尚未", "并未", "还未", "没有", "没", "未")
NEGATION_FILLERS: tuple[str, ...] = ("有", "能", "再", "正式", "去", "来得及", "怎么", "组织")
NEGATED_VERBS: tuple[str, ...] = (
    "开展", "搞", "进行", "组织", "举行", "举办", "召开", "参加", "参与", "完成", "落实",
    "安排", "做", "去", "上", "听", "评", "开",
)

# Queries per school or per person (哪些学校, 各校 / 哪些老师, 谁).
QUERY_BY: dict[str, tuple[str, ...]] = {
    "school": (
        "哪些学校", "哪个学校", "哪所学校", "哪几所学校", "哪几个学校", "各校", "各学校",
        "每个学校", "每所学校", "各成员校", "各个学校", "哪些成员校", "哪个校", "哪些校",
    ),
    "member": (
        "哪些老师", "哪位老师", "哪几位", "哪些人", "哪个老师", "哪几个老师", "哪几个人",
        "哪些教师", "每位老师", "每个老师", "各个老师", "谁",
    ),
}
# Titles after a teacher's name (张丽老师 → 张丽).
TITLES: tuple[str, ...] = ("副校长", "校长", "老师", "教师", "主任", "组长", "同志")
# Words that may follow a bare name in a query (莫小兰上学期送教几次).
NAME_FOLLOWERS: tuple[str, ...] = (
    "本", "这", "上", "今", "去", "的", "在", "参加", "参与", "签到", "打卡", "请假", "送教",
    "听课", "开展", "一共", "共", "有", "几", "多少", "最近", "近",
)
QUERY_LEADS: tuple[str, ...] = (
    "帮我查一下", "帮我查询", "帮我查", "帮我统计一下", "帮我统计", "查询一下", "查询", "查一下",
    "统计一下", "统计", "查看", "查", "请问", "看一下", "看看",
)

# A query must be about our own data: activities, check-ins, a period, a school.
# 次 and 场 alone are no target: "这个表我改了几次了" counts something that is not ours.
QUERY_TARGETS: tuple[str, ...] = (
    "签到", "打卡", "请假", "活动", "记录", "参加", "参与", "完成", "开展", "汇报", "任务",
    "学校", "我校", "本校", "考勤", "出勤", "上报", "组织", "举行", "举办", "送教", "听课",
)

# Verbs of school work (regexes): with a date, a time, a place or a head count they report
# or announce an event even when no trigger names its type ("今天上午在桥板中心校听了3节课").
ACTION_VERBS: tuple[str, ...] = (
    r"开展", r"组织", r"举行", r"举办", r"进行", r"召开",
    # "明天我参加" answers a colleague: taking part needs what one takes part in.
    r"(?:参加|参与|出席)(?!了?\s*(?:$|[,.;!?，。；！？]|的|吧|哈|哦|啊|呀))",
    r"完成(?!情况|率|度|作业|任务)", r"主持", r"承办", r"观摩", r"走访", r"深入",
    r"开了?[^,.;!?，。；！？]{0,6}?会(?!议室|计|场|所|长|员)",
    # Observing or preparing a lesson; teaching one (上课) is everyday work, not an event.
    r"(?:听|评|磨|说|执教)了?[^,.;!?，。；！？]{0,8}?课(?!本|表|件|题|桌|间|外|程|笔记|记录)",
)
# Teaching somewhere else ("在县实小上了一节课") is an event only with that place named.
TAUGHT_ELSEWHERE = r"(?:上|讲)了[^,.;!?，。；！？]{0,8}?课(?!本|表|件|题|桌|间|外|程)"
SHAPES["taught"] = (TAUGHT_ELSEWHERE,)
# Of those, the ones that organise an event: with a past marker alone they report one.
ORGANISING_VERBS: tuple[str, ...] = (r"开展", r"组织", r"举行", r"举办", r"召开", r"承办")

FUTURE_MARKERS: tuple[str, ...] = (
    # 计划 as a noun (教学计划, 复习计划的) promises nothing.
    r"将于", r"将(?!军|近|就)", r"(?<!模)拟",
    r"(?<![学作期程习课训])计划(?![,.;!?，。；！？]|$|和|与|的|书|表)", r"定于", r"准备(?!了)",
    r"预计", r"届时", r"准时", r"请[^,.;!?，。；！？]{0,20}参加", r"即将", r"打算", r"安排在",
    r"要(?:开展|举行|进行|组织|召开|去|到|上)", r"敬请", r"欢迎[^,.;!?，。；！？]{0,10}参加",
    r"过[几两一]天", r"将要", r"待会", RESCHEDULE,
)
PAST_MARKERS: tuple[str, ...] = (
    # 辛苦了, 太精彩了: a 了 after praise is no report of the past.
    r"(?<![为除苦好棒对算罢极彩错美赞害忘])了(?!解)", r"已", r"完成(?!情况|率|度)", r"结束",
    r"(?<![通经超不难])过(?![程来去几两一年节])", r"圆满", r"顺利",
)

PERIODS: dict[str, tuple[str, ...]] = {
    "today": ("今天", "今日"),
    "this_week": ("本周", "这周", "这星期", "本星期", "这个星期", "这礼拜", "这个礼拜"),
    "last_week": ("上周", "上星期", "上礼拜", "上个星期", "上个礼拜"),
    "this_month": ("本月", "这个月", "这月", "当月"),
    "last_month": ("上个月", "上月"),
    "this_quarter": ("本季度", "这个季度", "这季度", "本季"),
    "this_semester": ("本学期", "这学期", "这个学期", "本期"),
    "last_semester": ("上学期", "上个学期", "上一学期"),
    "this_year": ("今年", "本年度", "本年", "这一年", "全年", "本学年", "这学年"),
}
# Periods that do not by themselves make a question about our records ("今天几点开会").
VAGUE_PERIODS: tuple[str, ...] = ("today",)

# How people @mention the bot; a bare mention of it asks for help.
BOT_NAMES: tuple[str, ...] = ("教联助手", "教联体助手", "教共体助手", "教联小助手")

# Generic words that announce an event without naming its type.
EVENT_WORDS: tuple[str, ...] = (
    "活动", "开展", "组织", "举行", "举办", "召开", "会议", "研讨", "开会", "座谈",
    "仪式",
)

# Lessons observed without a trigger word ("听了一节思品课") are still 听评课.
OBSERVATION_PATTERN = (r"(?:听|评|观|议)了?[^,.;!?，。；！？]{0,10}?"
                       r"(?:\d{1,2}|[一两二三四五六七八九十几])\s*节[^,.;!?，。；！？]{0,8}?课")


@dataclass(frozen=True)
class Lexicon:
    """Every word list the parser uses, after config overrides."""

    activities: dict[str, tuple[str, tuple[str, ...]]]
    non_activity_nouns: tuple[str, ...]
    subjects: dict[str, tuple[str, ...]]
    grades: dict[str, tuple[str, ...]]
    grade_groups: tuple[str, ...]
    cues: dict[str, tuple[str, ...]]
    query_targets: tuple[str, ...]
    future_markers: tuple[str, ...]
    past_markers: tuple[str, ...]
    periods: dict[str, tuple[str, ...]]
    event_words: tuple[str, ...]
    action_verbs: tuple[str, ...] = ACTION_VERBS
    organising_verbs: tuple[str, ...] = ORGANISING_VERBS
    extra_words: tuple[str, ...] = ()
    fallbacks: tuple[tuple[str, str], ...] = ()
    bot_names: tuple[str, ...] = BOT_NAMES
    max_chars: int = 500
    shapes: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SHAPES))
    intent_cues: tuple[str, ...] = INTENT_CUES
    strong_future: tuple[str, ...] = STRONG_FUTURE
    strong_past: tuple[str, ...] = STRONG_PAST
    negations: tuple[str, ...] = NEGATIONS
    negation_fillers: tuple[str, ...] = NEGATION_FILLERS
    negated_verbs: tuple[str, ...] = NEGATED_VERBS
    query_by: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(QUERY_BY))
    vague_periods: tuple[str, ...] = VAGUE_PERIODS
    titles: tuple[str, ...] = TITLES
    name_followers: tuple[str, ...] = NAME_FOLLOWERS
    query_leads: tuple[str, ...] = QUERY_LEADS
    people: tuple[str, ...] = PEOPLE
    surnames: str = SURNAMES
    double_surnames: tuple[str, ...] = DOUBLE_SURNAMES
    role_words: str = ROLE_WORDS
    trigger_as_noun: str = TRIGGER_AS_NOUN

    def trigger_map(self) -> dict[str, str]:
        """Trigger word → activity code; the first activity listing a word keeps it."""
        out: dict[str, str] = {}
        for code, (_, triggers) in self.activities.items():
            for word in triggers:
                out.setdefault(word, code)
        return out

    def subject_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for canonical, aliases in self.subjects.items():
            for word in (canonical, *aliases):
                out.setdefault(word, canonical)
        return out

    def grade_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for canonical, aliases in self.grades.items():
            for word in (canonical, *aliases):
                out.setdefault(word, canonical)
        return out


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value if str(v))
    return ()


def _merge_aliases(
    base: Mapping[str, tuple[str, ...]], extra: Any
) -> dict[str, tuple[str, ...]]:
    out = dict(base)
    if isinstance(extra, Mapping):
        for key, aliases in extra.items():
            out[str(key)] = tuple(dict.fromkeys((*out.get(str(key), ()), *_words(aliases))))
    return out


def _merge_activities(extra: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    out = dict(ACTIVITIES)
    if not isinstance(extra, Mapping):
        return out
    for code, table in extra.items():
        if not isinstance(table, Mapping):
            continue
        name, triggers = out.get(str(code), (str(code), ()))
        new = _words(table.get("triggers", ()))
        merged = new if table.get("replace") else tuple(dict.fromkeys((*triggers, *new)))
        # A trigger the config gives to this activity no longer names another one.
        for other, (other_name, other_triggers) in list(out.items()):
            if other != str(code) and set(new) & set(other_triggers):
                out[other] = (other_name, tuple(t for t in other_triggers if t not in new))
        out[str(code)] = (str(table.get("name", name)), merged)
    return out


def _literal(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(re.escape(w) for w in words)


class NluConfigError(ValueError):
    """An `[nlu]` key that cannot be used; the message starts with the key."""


# The `[nlu]` keys build_lexicon reads, and those of one `[nlu.activities.<code>]` table.
NLU_KEYS = frozenset({
    "cues", "activities", "non_activity_nouns", "subjects", "grades", "future_markers",
    "past_markers", "periods", "action_verbs", "words", "bot_names", "max_chars",
    "negated_verbs", "query_by", "titles", "people",
})
ACTIVITY_KEYS = frozenset({"name", "triggers", "replace"})
_TABLES = ("cues", "activities", "subjects", "grades", "periods", "query_by")


def check_nlu_table(settings: Mapping[str, Any] | None) -> None:
    """Refuse a key build_lexicon would silently ignore, or a value of the wrong shape."""
    cfg: Mapping[str, Any] = settings or {}
    for key, value in cfg.items():
        if key not in NLU_KEYS:
            raise NluConfigError(f"{key}: unknown key")
        if key in _TABLES and not isinstance(value, Mapping):
            raise NluConfigError(f"{key}: expected a table")
        if key == "max_chars" and (isinstance(value, bool) or not isinstance(value, int)
                                   or value < 1):
            raise NluConfigError(f"{key}: expected a positive whole number, got {value!r}")
        if key not in _TABLES and key != "max_chars" and not isinstance(value, str | list):
            raise NluConfigError(f"{key}: expected a list of words")
    for code, table in (cfg.get("activities") or {}).items():
        if not isinstance(table, Mapping):
            raise NluConfigError(f"activities.{code}: expected a table")
        for key in table:
            if key not in ACTIVITY_KEYS:
                raise NluConfigError(f"activities.{code}.{key}: unknown key")


def build_lexicon(settings: Mapping[str, Any] | None = None) -> Lexicon:
    """Defaults of spec/nlu.md with the `[nlu]` config table merged over them."""
    cfg: Mapping[str, Any] = settings or {}
    cues, shapes = dict(CUES), dict(SHAPES)
    extra_cues = cfg.get("cues", {})
    if isinstance(extra_cues, Mapping):
        for intent, words in extra_cues.items():
            table = shapes if str(intent) in shapes else cues
            table[str(intent)] = (*table.get(str(intent), ()), *_literal(_words(words)))
    activities = _merge_activities(cfg.get("activities"))
    return Lexicon(
        activities=activities,
        non_activity_nouns=(*NON_ACTIVITY_NOUNS, *NON_SUBJECT_NOUNS,
                            *_words(cfg.get("non_activity_nouns", ()))),
        subjects=_merge_aliases(SUBJECTS, cfg.get("subjects")),
        grades=_merge_aliases(GRADES, cfg.get("grades")),
        grade_groups=GRADE_GROUPS,
        cues=cues,
        query_targets=QUERY_TARGETS,
        future_markers=(*FUTURE_MARKERS, *_literal(_words(cfg.get("future_markers", ())))),
        past_markers=(*PAST_MARKERS, *_literal(_words(cfg.get("past_markers", ())))),
        periods=_merge_aliases(PERIODS, cfg.get("periods")),
        event_words=EVENT_WORDS,
        action_verbs=(*ACTION_VERBS, *_literal(_words(cfg.get("action_verbs", ())))),
        extra_words=_words(cfg.get("words", ())),
        fallbacks=((OBSERVATION_PATTERN, "observation"),),
        bot_names=(*BOT_NAMES, *_words(cfg.get("bot_names", ()))),
        max_chars=int(cfg.get("max_chars", 500)),
        shapes=shapes,
        negated_verbs=(*NEGATED_VERBS, *_words(cfg.get("negated_verbs", ()))),
        query_by=_merge_aliases(QUERY_BY, cfg.get("query_by")),
        titles=(*TITLES, *_words(cfg.get("titles", ()))),
        people=(*PEOPLE, *_words(cfg.get("people", ()))),
    )


def activity_names(settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Activity code → Chinese name (集体备课, …), config additions included."""
    return {code: name for code, (name, _) in _merge_activities(
        (settings or {}).get("activities")).items()}
