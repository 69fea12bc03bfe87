"""The parser's vocabulary as data: activities, subjects, grades, cue words, markers, periods.

Defaults mirror spec/nlu.md; `build_lexicon(settings)` merges the `[nlu]` table of the TOML
config over them. Supported keys (all optional; see docs/nlu.md):

- `activities.<code>`: `name = "…"`, `triggers = [...]` — adds an activity or extends one
  (triggers are appended; `replace = true` replaces the default triggers).
- `subjects`: `{科学 = ["自然"]}` — aliases added to a subject, or a new subject.
- `grades`: `{七年级 = ["初一"]}` — aliases added to a grade, or a new grade.
- `non_activity_nouns`: nouns that contain a trigger or a subject but name neither
  (教研组, 课题组, 政治学习).
- `cues.<intent>`: extra literal cue words for checkin, checkout, leave, query, query_weak,
  undo, help, bind, report, chatter.
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
from dataclasses import dataclass
from typing import Any

ACTIVITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lesson_prep": ("集体备课", ("集体备课", "集备", "联合备课", "集体研课", "备课研讨", "备课活动")),
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

# Intent cues are regular expressions; config additions are escaped literals.
CUES: dict[str, tuple[str, ...]] = {
    "help": (
        r"^(?:帮助|help|菜单|使用说明|说明书|功能|指令|命令)$", r"使用说明",
        # "谢谢大家的帮助" and "食堂菜单" are no requests for help.
        r"^帮助", r"(?<![的相])帮助\s*[?!]*$", r"(?:查看|使用|获取)帮助",
        r"^(?:显示|查看|打开)?菜单", r"(?i:^help\b)", r"怎么用", r"如何使用", r"怎么使用",
        r"(?:怎么|如何|怎样)(?:汇报|签到|签退|操作|上报|打卡|请假|查询|绑定|登记|填报|报)",
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
        r"签到", r"签个到", r"^已签\s*$", r"打卡", r"报到", r"我到了", r"^已到",
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
        # Asking colleagues to send something: "昨天的教研活动照片发一下".
        r"(?:照片|图片|相片|材料|资料|课件|视频|美篇|简报|总结|教案)[^,.;!?，。；！？]{0,6}?"
        r"(?:发一下|发下|发给|发到|发群|传一下|传到|交一下|交给)",
    ),
}

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
# Of those, the ones that organise an event: with a past marker alone they report one.
ORGANISING_VERBS: tuple[str, ...] = (r"开展", r"组织", r"举行", r"举办", r"召开", r"承办")

# A reschedule ("改到下周三"): the date after it is the day of the plan.
RESCHEDULE = (r"(?:改|调整|调|推迟|推后|延期|延后|挪|换|顺延|提前|变更|更改)(?:到|至|为|在|成)"
              r"(?=\s*(?:[本这上下]个?(?:周|星期|礼拜)|周|星期|礼拜|明|后天|今|[\d一二三四五六七八九十两]"
              r"|[上下]午|晚上|早上))")

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
    "this_week": ("本周", "这周", "这星期", "本星期", "这个星期", "这礼拜", "这个礼拜"),
    "last_week": ("上周", "上星期", "上礼拜", "上个星期", "上个礼拜"),
    "this_month": ("本月", "这个月", "这月", "当月"),
    "last_month": ("上个月", "上月"),
    "this_semester": ("本学期", "这学期", "这个学期", "本期"),
    "this_year": ("今年", "本年度", "本年", "这一年", "全年"),
}

# How people @mention the bot; a bare mention of it asks for help.
BOT_NAMES: tuple[str, ...] = ("教联助手", "教联体助手", "教共体助手", "教联小助手")

# Generic words that announce an event without naming its type.
EVENT_WORDS: tuple[str, ...] = (
    "活动", "开展", "组织", "举行", "举办", "召开", "会议", "研讨", "开会", "座谈",
    "仪式",
)

# Lessons observed without a trigger word ("听了一节思品课") are still 听评课.
OBSERVATION_PATTERN = (r"听了?[^,.;!?，。；！？]{0,10}?(?:\d{1,2}|[一两二三四五六七八九十几])\s*节"
                       r"[^,.;!?，。；！？]{0,8}?课")


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


def build_lexicon(settings: Mapping[str, Any] | None = None) -> Lexicon:
    """Defaults of spec/nlu.md with the `[nlu]` config table merged over them."""
    cfg: Mapping[str, Any] = settings or {}
    cues = dict(CUES)
    extra_cues = cfg.get("cues", {})
    if isinstance(extra_cues, Mapping):
        for intent, words in extra_cues.items():
            cues[str(intent)] = (*cues.get(str(intent), ()), *_literal(_words(words)))
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
    )


def activity_names(settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Activity code → Chinese name (集体备课, …), config additions included."""
    return {code: name for code, (name, _) in _merge_activities(
        (settings or {}).get("activities")).items()}
