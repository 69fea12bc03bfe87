"""Slot finders: activity, subject, grade, school, participants, topic, period, name.

Each finder reads the normalised text (and, for words, its jieba tokens); all regexes are
compiled once in `SlotFinder.__init__`, so the hot path does no dictionary work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.nlu.lexicon import Lexicon
from handlers.nlu.numbers import NUM, to_int

Span = tuple[int, int]
Token = tuple[int, int, str]

MASK = "□"


def alternation(words: Sequence[str]) -> str:
    """A regex matching any of `words`, longest first so 听评课 beats 评课."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered) or r"(?!)"


def mask(text: str, spans: Sequence[Span]) -> str:
    """`text` with each span blanked out, same length, so offsets stay valid."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = MASK * (end - start)
    return "".join(chars)


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    word: str
    value: str


_PEOPLE = (r"人|老师|教师|学生|家长|同学|学员|师生|孩子|班主任|校长|骨干|教职工|名师|干部|"
           r"辅导员|代表|成员|党员|幼儿|志愿者")
_PARTICIPANT_RES = (
    re.compile(rf"(?:参加|参与|参会|参训|到会|出席|与会|听课|活动)?人数\s*[:为是共有约]*\s*(?P<n>{NUM})"),
    re.compile(rf"(?:参加者|参与者|参会人员|参训人员|参会者|到会人员)\s*[:为是共有约]*\s*(?P<n>{NUM})"),
    re.compile(
        rf"(?<![第每\d])(?P<n>{NUM})\s*(?:余|多|来)?\s*(?:个|位|名)?\s*(?:{_PEOPLE})(?!一课|次|均)"
    ),
    # "参加的老师有二十来个": the people first, then how many.
    re.compile(rf"(?:老师|教师|人员|师生|学生|家长|同学|学员)(?:有|共有|共|约|大约)\s*"
               rf"(?P<n>{NUM})\s*(?:余|多|来)?\s*(?:个|位|名|人)"),
    # "邀请了一名专家" names a guest, not a head count.
    re.compile(rf"(?<![第每\d一])(?P<n>(?!一\s*[位名]){NUM})\s*(?:余|多)?\s*(?:位|名)"
               r"(?!单|称|字|次|列)"),
)
# A quoted title right after 主题 (with or without 是/为/: and spaces), in any quote style.
_OPEN_Q = "“\"'「『《‘"
_CLOSE_Q = "”\"'」』》’"
_TOPIC_QUOTED = re.compile(
    rf"(?:主题|课题|题目)\s*[:为是]?\s*[{_OPEN_Q}](?P<t>[^{_CLOSE_Q}]{{1,80}})[{_CLOSE_Q}]"
    r"(?=\s|$|[,.;!?，。；！？(（]|\d|[一二三四五六七八九十两]+[人位名]|共|参|到|的|活动|开展|线上"
    r"|线下|为主|研讨|教研|培训|讲座|交流|分享|展示)"
)
# In "主题：大单元教学 参加人数：12" a space before the next field ends the topic.
_FIELD_BREAK = re.compile(r"\s+(?=\S*:|参加|参与|人数|地点|时间|主讲|授课|主持|共)")
_QUOTES = re.compile(r"[“”\"'「」『』《》‘’]")
_TOPIC_MARKED = re.compile(
    r"(?:(?:主题|内容|题目|专题)\s*(?:是|为)\s*:?|(?:主题|内容|题目|课题|课题名称)\s*:)"
    r"\s*(?P<t>[^,;!?，。；！？\n]{1,80})"
)
_TOPIC_AROUND = re.compile(
    r"以\s*[“\"'「《‘]?(?P<t>[^,.;!?，。；！？\n“”\"'「」《》‘’]{2,40})[”\"'」》’]?\s*为(?:主题|题)"
)
_BOOK = re.compile(r"《(?P<t>[^》]{1,80})》")
_LESSON_WORD = re.compile(r"课|[一两二三四五六七八九几]节|执教|授课|讲授|教学")
_SCHOOL_LEAD = re.compile(r"(?:(?:在|到|赴|去|来|前往|走进|深入|进入|走访)了?|于|地点\s*[:为是]?)\s*$")
_GRADE_SEVERAL = re.compile(
    r"[一二三四五六七八九1-9](?:\s*[、,和与及至到~-]\s*[一二三四五六七八九1-9])+\s*年级"
    r"|[一二三四五六七八九1-9]{2,}年级|(?:初|高)[一二三](?:[、,和与及至到~-]?(?:初|高)?[一二三])+"
)
_NAME_MARKER = re.compile(
    r"^(?:(?:你好|您好|大家好|老师好|各位好)[,!\s]*)?"
    r"(?:我是|本人|我叫|绑定身份|身份绑定|绑定|认证|姓名|名字)\s*[:是]?\s*"
)
_ROLE_WORDS = re.compile(
    r"老师|教师|班主任|副校长|校长|主任|组长|任教|教|负责|的|是|在|我|叫|姓名|名字|学科|科目|"
    r"一名|一位|现任|担任|来自|小学|中学|学校|年级|初中|高中"
)
_TRIGGER_AS_NOUN = re.compile(
    r"\s*(?:本(?!周|月|学期|期|年|次|校|县|乡|镇|人|部)|笔记|记录本|记录表|记录册|表(?!彰|现|演|示|达|扬|态|率)"
    r"|手册|册)"
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,4}")
_DOUBLE_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐"}
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤蓝欧农麦凌卜甘蒙骆柳岑黎庞粟滕玉阮梅包祝左涂谷伍奚屈颜车晏"
    "温易池鲁饶利宁章关施符翁柯焦尤单洪荣古舒卓艾芦裴管乔葛"
)


class SlotFinder:
    """Compiled patterns for one lexicon and one school roster."""

    def __init__(self, lexicon: Lexicon, schools: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.lexicon = lexicon
        self.triggers = lexicon.trigger_map()
        self.blocked = frozenset(lexicon.non_activity_nouns)
        self._trigger_re = re.compile(alternation(list(self.triggers)))
        self.subjects = lexicon.subject_map()
        self._subject_re = re.compile(alternation(list(self.subjects)))
        self.grades = lexicon.grade_map()
        self._grade_re = re.compile(alternation(list(self.grades)))
        self._grade_group_re = re.compile(alternation(lexicon.grade_groups))
        self.school_names: dict[str, str] = {}
        for canonical, aliases in schools:
            for word in (canonical, *aliases):
                self.school_names.setdefault(word, canonical)
        self._school_re = re.compile(alternation(list(self.school_names)))
        self._fallbacks = [(re.compile(p), code) for p, code in lexicon.fallbacks
                           if code in lexicon.activities]
        self.periods = {w: p for p, words in lexicon.periods.items() for w in words}
        self._period_re = re.compile(alternation(list(self.periods)))

    def dictionary_words(self) -> list[str]:
        """Words the tokenizer must keep whole."""
        return [*self.triggers, *self.blocked, *self.subjects, *self.grades,
                *self.school_names, *self.lexicon.grade_groups, *self.periods,
                *self.lexicon.extra_words]

    def _token_hits(
        self, tokens: Sequence[Token], pattern: re.Pattern[str], mapping: dict[str, str],
        skip: Sequence[Span] = (),
    ) -> list[Hit]:
        hits: list[Hit] = []
        for start, _end, token in tokens:
            if token in self.blocked or any(s <= start < e for s, e in skip):
                continue
            for m in pattern.finditer(token):
                word = m.group(0)
                hits.append(Hit(start + m.start(), start + m.end(), word, mapping[word]))
        return hits

    def activities(self, tokens: Sequence[Token], skip: Sequence[Span] = (),
                   text: str = "") -> list[Hit]:
        """Every trigger word outside non-activity nouns, in order of appearance.

        A trigger followed by 本, 笔记, 记录本 or 表 is a thing, not an activity (听课本 is a
        notebook, 集体备课表 a form), like 教研组 is a group.
        """
        hits = self._token_hits(tokens, self._trigger_re, self.triggers, skip)
        return [h for h in hits if not _TRIGGER_AS_NOUN.match(text, h.end)]

    def fallback_activity(self, text: str) -> Hit | None:
        """An activity described rather than named, when no trigger word is present."""
        for pattern, code in self._fallbacks:
            m = pattern.search(text)
            if m:
                return Hit(m.start(), m.end(), m.group(0), code)
        return None

    def subject(self, tokens: Sequence[Token], skip: Sequence[Span] = (),
                topic: Span | None = None) -> tuple[str | None, list[Hit]]:
        """The one subject named; several (数学、美术) give None."""
        hits = self._token_hits(tokens, self._subject_re, self.subjects, skip)
        if topic is not None:
            outside = [h for h in hits if not topic[0] <= h.start < topic[1]]
            hits = outside or hits
        names = {h.value for h in hits}
        return (names.pop() if len(names) == 1 else None), hits

    def grade(self, text: str) -> tuple[str | None, list[str]]:
        """The one grade named; several grades, 低年级/高年级/全校 give None."""
        if _GRADE_SEVERAL.search(text) or self._grade_group_re.search(text):
            return None, []
        found = [m.group(0) for m in self._grade_re.finditer(text)]
        names = {self.grades[w] for w in found}
        return (names.pop() if len(names) == 1 else None), found

    def schools(self, text: str) -> list[Hit]:
        return [Hit(m.start(), m.end(), m.group(0), self.school_names[m.group(0)])
                for m in self._school_re.finditer(text)]

    @staticmethod
    def pick_school(text: str, hits: Sequence[Hit]) -> str | None:
        """The school after 在/到/赴/去/来/地点, else the only school named."""
        for hit in hits:
            if _SCHOOL_LEAD.search(text, max(0, hit.start - 6), hit.start):
                return hit.value
        names = {h.value for h in hits}
        return names.pop() if len(names) == 1 else None

    def period(self, text: str) -> str | None:
        m = self._period_re.search(text)
        return self.periods[m.group(0)] if m else None


def participants(text: str) -> int | None:
    """People who took part; households (户), lessons (节) and pairs (对) are not people."""
    for pattern in _PARTICIPANT_RES:
        m = pattern.search(text)
        if m:
            value = to_int(m.group("n"))
            if value is not None and 0 < value < 100_000:
                return value
    return None


def topic(text: str) -> tuple[str | None, Span | None]:
    """The theme or lesson title, without quotes or 《》, and where it stands."""
    for pattern in (_TOPIC_QUOTED, _TOPIC_MARKED, _TOPIC_AROUND):
        m = pattern.search(text)
        if m:
            first = _FIELD_BREAK.split(m.group("t"), maxsplit=1)[0]
            value = _QUOTES.sub("", first).strip().rstrip(".:")
            if value:
                return value, m.span("t")
    for m in _BOOK.finditer(text):
        outside = text[: m.start()] + text[m.end():]
        if _LESSON_WORD.search(outside):
            return m.group("t").strip(), m.span("t")
    return None, None


def person_name(text: str, remove: Sequence[str]) -> str | None:
    """For `bind`: the person's name, once the marker, school and subject words are removed."""
    rest = _NAME_MARKER.sub("", text)
    for word in sorted(remove, key=len, reverse=True):
        if word:
            rest = rest.replace(word, " ")
    rest = _ROLE_WORDS.sub(" ", rest)
    candidates = _HAN_RUN.findall(rest)
    for candidate in candidates:
        if candidate[:2] in _DOUBLE_SURNAMES or (candidate[0] in _SURNAMES
                                                 and len(candidate) <= 3):
            return candidate
    return None
