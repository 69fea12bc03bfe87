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
from handlers.nlu.prefilter import compile_prefiltered

Span = tuple[int, int]
Token = tuple[int, int, str]

MASK = "□"


def alternation(words: Sequence[str]) -> str:
    """A regex matching any of `words`, longest first so 听评课 beats 评课."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered) or r"(?!)"


def mask(text: str, spans: Sequence[Span]) -> str:
    """`text` with each span blanked out, same length, so offsets stay valid."""
    if not spans:
        return text
    # Spans in order, apart and inside the text (nearly all): the text between them, sliced.
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        if not pos <= start <= end <= len(text):
            return _mask_chars(text, spans)
        pieces += (text[pos:start], MASK * (end - start))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _mask_chars(text: str, spans: Sequence[Span]) -> str:
    """`mask` for spans in any order, overlapping or not."""
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


_PARTICIPANT_SHAPES = (
    rf"(?:参加|参与|参会|参训|到会|出席|与会|听课|活动)?人数\s*"
    rf"(?:改成|改为|更正为|应为|应该是)?\s*[:为是共有约]*\s*(?P<n>{NUM})",
    rf"(?:参加者|参与者|参会人员|参训人员|参会者|到会人员)\s*[:为是共有约]*\s*(?P<n>{NUM})",
    rf"(?<![第每\d])(?P<n>{NUM})\s*(?:余|多|来)?\s*(?:个|位|名)?\s*(?:{{people}})(?!一课|次|均)",
    # "参加的老师有二十来个": the people first, then how many.
    rf"(?:老师|教师|人员|师生|学生|家长|同学|学员)(?:有|共有|共|约|大约)\s*"
    rf"(?P<n>{NUM})\s*(?:余|多|来)?\s*(?:个|位|名|人)",
    # "邀请了一名专家" names a guest, not a head count.
    rf"(?<![第每\d一])(?P<n>(?!一\s*[位名]){NUM})\s*(?:余|多)?\s*(?:位|名)(?!单|称|字|次|列)",
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
_TOPIC_MARKED = compile_prefiltered(
    r"(?:(?:主题|内容|题目|专题)\s*(?:是|为|改成|改为|更正为|应为|应该是)\s*:?"
    r"|(?:主题|内容|题目|课题|课题名称)\s*:)"
    r"\s*(?P<t>[^,;!?，。；！？\n]{1,80})"
)
_TOPIC_AROUND = re.compile(
    r"以\s*[“\"'「《‘]?(?P<t>[^,.;!?，。；！？\n“”\"'「」《》‘’]{2,40})[”\"'」》’]?\s*为(?:主题|题)"
)
_BOOK = re.compile(r"《(?P<t>[^》]{1,80})》")
_LESSON_WORD = re.compile(r"课|[一两二三四五六七八九几]节|执教|授课|讲授|教学")
_GRADE_SEVERAL = compile_prefiltered(
    r"[一二三四五六七八九1-9](?:\s*[、,和与及至到~-]\s*[一二三四五六七八九1-9])+\s*年级"
    r"|[一二三四五六七八九1-9]{2,}年级|(?:初|高)[一二三](?:[、,和与及至到~-]?(?:初|高)?[一二三])+"
)
_NAME_MARKER = re.compile(
    r"^(?:(?:你好|您好|大家好|老师好|各位好)[,!\s]*)?"
    r"(?:我是|本人|我叫|绑定身份|身份绑定|绑定|认证|姓名|名字)\s*[:是]?\s*"
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,4}")
# A town's roster school ("泗顶镇中心小学" → 泗顶): the town name before 镇/乡.
_TOWN = re.compile(r"^(?:.{1,3}县)?(?P<town>[\u4e00-\u9fff]{2})[镇乡]")


def town_aliases(schools: Sequence[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """A town's name alone (泗顶, 浮石) → its roster school, when the roster has exactly one
    school there; also the town with 镇/乡 (泗顶镇)."""
    by_town: dict[str, list[str]] = {}
    for canonical, _ in schools:
        m = _TOWN.match(canonical)
        if m:
            by_town.setdefault(m.group("town"), []).append(canonical)
            by_town.setdefault(m.group(0)[-3:], []).append(canonical)
    return {town: names[0] for town, names in by_town.items() if len(set(names)) == 1}


class SlotFinder:
    """Compiled patterns for one lexicon and one school roster."""

    def __init__(self, lexicon: Lexicon, schools: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.lexicon = lexicon
        self.triggers = lexicon.trigger_map()
        self.blocked = frozenset(lexicon.non_activity_nouns)
        self._trigger_re = re.compile(alternation(list(self.triggers)))
        self._trigger_as_noun = re.compile(lexicon.trigger_as_noun)
        self.subjects = lexicon.subject_map()
        self._subject_re = re.compile(alternation(list(self.subjects)))
        # Any trigger or subject: a stretch of text without one needs no tokens.
        self._word_re = re.compile(alternation([*self.triggers, *self.subjects]))
        # Tokens shorter than every trigger and subject hold none (most tokens are one character).
        self._shortest = min(map(len, (*self.triggers, *self.subjects)), default=1)
        self.grades = lexicon.grade_map()
        self._grade_re = re.compile(alternation(list(self.grades)))
        self._grade_group_re = re.compile(alternation(lexicon.grade_groups))
        self.school_names: dict[str, str] = {}
        for canonical, aliases in schools:
            for word in (canonical, *aliases):
                self.school_names.setdefault(word, canonical)
        for town, canonical in town_aliases(schools).items():
            self.school_names.setdefault(town, canonical)
        self._school_re = re.compile(alternation(list(self.school_names)))
        self._school_lead = compile_prefiltered("|".join(lexicon.shapes["school_lead"]))
        self._school_sends = compile_prefiltered("|".join(lexicon.shapes["school_sends"]))
        self._sender_lead = re.compile("|".join(lexicon.shapes["sender_lead"]))
        self._school_staff = compile_prefiltered("|".join(lexicon.shapes["school_staff"]))
        self._fallbacks = [(re.compile(p), code) for p, code in lexicon.fallbacks
                           if code in lexicon.activities]
        self.periods = {w: p for p, words in lexicon.periods.items() for w in words}
        self._period_re = re.compile(alternation(list(self.periods)))
        people = alternation(lexicon.people)
        self._participants = [compile_prefiltered(p.replace("{people}", people))
                              for p in _PARTICIPANT_SHAPES]
        self._total = compile_prefiltered("|".join(lexicon.shapes["total"]))
        self._by = [(by, re.compile(alternation(words)))
                    for by, words in lexicon.query_by.items()]
        self._surnames = frozenset(lexicon.surnames)
        self._double_surnames = frozenset(lexicon.double_surnames)
        self._role_words = re.compile(lexicon.role_words)
        han = r"[\u4e00-\u9fff]"
        titles, followers = alternation(lexicon.titles), alternation(lexicon.name_followers)
        # 张丽老师 / 覃海燕老师: a name before a title; 莫小兰上学期…: a name leading a query.
        self._titled = re.compile(rf"(?<={han})(?:{titles})")
        self._han_only = re.compile(rf"{han}+")
        self._leading = re.compile(
            rf"^(?:{alternation(lexicon.query_leads)})?\s*(?P<name>{han}{{2,3}}?)(?={followers})"
        )

    def dictionary_words(self) -> list[str]:
        """Words the tokenizer must keep whole."""
        return [*self.triggers, *self.blocked, *self.subjects, *self.grades,
                *self.school_names, *self.lexicon.grade_groups, *self.periods,
                *self.lexicon.extra_words]

    def holds_word(self, text: str) -> bool:
        """Whether `text` holds a trigger or a subject; the tokens of text that holds
        neither give no activity and no subject (`activities`, `subject`)."""
        return self._word_re.search(text) is not None

    def word_tokens(self, tokens: Sequence[Token]) -> list[Token]:
        """The tokens that hold a trigger or subject and are no non-activity noun: the only
        ones `activities` and `subject` find anything in, however often they are asked."""
        shortest, blocked, words = self._shortest, self.blocked, self._word_re
        return [t for t in tokens if t[1] - t[0] >= shortest and t[2] not in blocked
                and words.search(t[2]) is not None]

    def _token_hits(
        self, tokens: Sequence[Token], pattern: re.Pattern[str], mapping: dict[str, str],
        skip: Sequence[Span] = (),
    ) -> list[Hit]:
        hits: list[Hit] = []
        shortest = self._shortest
        for start, end, token in tokens:
            if end - start < shortest or token in self.blocked or (skip and any(
                    s <= start < e for s, e in skip)):
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
        return [h for h in hits if not self._trigger_as_noun.match(text, h.end)]

    def fallback_activity(self, text: str) -> Hit | None:
        """An activity described rather than named, when no trigger word is present."""
        for pattern, code in self._fallbacks:
            m = pattern.search(text)
            if m:
                return Hit(m.start(), m.end(), m.group(0), code)
        return None

    def fallback_activities(self, text: str) -> list[Hit]:
        """Every described activity (听了两节课), for messages that report several events."""
        return [Hit(m.start(), m.end(), m.group(0), code)
                for pattern, code in self._fallbacks for m in pattern.finditer(text)]

    def subject(self, tokens: Sequence[Token], skip: Sequence[Span] = (),
                topic: Span | None = None, within: Span | None = None,
                ) -> tuple[str | None, list[Hit]]:
        """The one subject named (inside `within` if given); several (数学、美术) give None."""
        hits = self._token_hits(tokens, self._subject_re, self.subjects, skip)
        if within is not None:
            hits = [h for h in hits if within[0] <= h.start < within[1]]
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

    def pick_school(self, text: str, hits: Sequence[Hit]) -> str | None:
        """The school after 在/到/赴/去/来/地点, else the only school named."""
        for hit in hits:
            if self._school_lead.search(text, max(0, hit.start - 6), hit.start):
                return hit.value
        names = {h.value for h in hits}
        return names.pop() if len(names) == 1 else None

    def pick_sender(self, text: str, hits: Sequence[Hit], venue: str | None) -> str | None:
        """The school that sends people: named before 派出/选派…, after 从, or, when it is
        not the venue, before a head count of staff (泗顶小学3名教师到县实小跟岗)."""
        for hit in hits:
            if (self._school_sends.match(text, hit.end)
                    or self._sender_lead.search(text, max(0, hit.start - 3), hit.start)):
                return hit.value
        for hit in hits:
            if (venue is not None and hit.value != venue
                    and self._school_staff.match(text, hit.end)):
                return hit.value
        return None

    def period(self, text: str) -> str | None:
        m = self._period_re.search(text)
        return self.periods[m.group(0)] if m else None

    def query_by(self, text: str) -> str | None:
        """`school` for 哪些学校/各校/每个学校, `member` for 哪些老师/谁/哪几位, else None."""
        found = [(m.start(), by) for by, pattern in self._by if (m := pattern.search(text))]
        return min(found)[1] if found else None

    def participants(self, text: str) -> int | None:
        """People who took part; households (户), lessons (节) and pairs (对) are not people.
        A count after 共/一共/总共/合计/累计 wins over the others; else the first found."""
        first: int | None = None
        for pattern in self._participants:
            for m in pattern.finditer(text):
                value = to_int(m.group("n"))
                if value is None or not 0 < value < 100_000:
                    continue
                if self._total.search(text, max(0, m.start("n") - 10), m.start("n")):
                    return value
                if first is None:
                    first = value
        return first

    def _is_name(self, candidate: str) -> bool:
        return (candidate[:2] in self._double_surnames
                or (candidate[0] in self._surnames and len(candidate) <= 3))

    def person_name(self, text: str, remove: Sequence[str]) -> str | None:
        """For `bind`: the person's name, once the marker, school and subject words are
        removed."""
        rest = _NAME_MARKER.sub("", text)
        for word in sorted(remove, key=len, reverse=True):
            if word:
                rest = rest.replace(word, " ")
        rest = self._role_words.sub(" ", rest)
        for candidate in _HAN_RUN.findall(rest):
            if self._is_name(candidate):
                return str(candidate)
        return None

    def asked_name(self, text: str) -> str | None:
        """For a query: the one teacher asked about, without a title (张丽老师 → 张丽);
        `text` has dates, periods, schools and activities masked."""
        found: set[str] = set()
        for m in self._titled.finditer(text):
            for size in (3, 2):
                candidate = text[max(0, m.start() - size):m.start()]
                if (len(candidate) == size and self._han_only.fullmatch(candidate)
                        and self._is_name(candidate)):
                    found.add(candidate)
                    break
        lead = None if found else self._leading.match(text)
        if lead and self._is_name(lead.group("name")):
            found.add(lead.group("name"))
        return found.pop() if len(found) == 1 else None


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
