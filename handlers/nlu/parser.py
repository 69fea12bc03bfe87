"""The parser's public face: `Parser(schools=…).parse(text, now)` → `ParseResult`.

Decides the intent by the precedence of spec/nlu.md (help, undo, query, leave over check-in,
…; report vs plan by date, then markers, then the nearest occurrence) and fills the slots.
Imports nothing outside handlers.nlu.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from handlers.nlu import slots
from handlers.nlu.dates import DateMention, date_at, find_date, find_dates
from handlers.nlu.intents import CueFinder, Cues
from handlers.nlu.lexicon import RESCHEDULE, TAUGHT_ELSEWHERE, Lexicon, build_lexicon
from handlers.nlu.normalize import bot_mention_pattern, normalize
from handlers.nlu.times import TimeMention, find_time
from handlers.nlu.tokenizer import DomainTokenizer

KEYS = ("intent", "activity", "date", "time", "subject", "grade", "participants", "topic",
        "school", "period", "name")

# Below this the report handler asks back instead of recording.
CONFIDENT = 0.6

# Strong markers outweigh a lone 了 or 过.
_STRONG_FUTURE = ("将", "拟", "计划", "定于", "预计", "届时", "准时", "即将", "打算", "将于",
                  "改", "调", "推", "延", "挪", "换", "提前", "变更")
_STRONG_PAST = ("已", "完成", "结束", "圆满", "顺利")
_ENDS_ASKING = re.compile(r"(?:[?]|吗|呢|了)\s*[?]*\s*$")
# Thanks and greetings up front make the rest small talk ("谢谢王老师今天的示范课").
_RESCHEDULE = re.compile(RESCHEDULE)
_TAUGHT = re.compile(TAUGHT_ELSEWHERE)
# Work done with a query word in it ("查看了送教进度", "统计了成绩") states, not asks.
_DONE = re.compile(r"(?:查看|检查|查阅|抽查|督查|调研|视察|指导|统计|汇总|了解)了")
# "汇报一下今天的情况" is about to report.
_REPORT_LEAD = re.compile(r"^(?:汇报|上报|报告|反馈)")
_CHATTER_LEAD = re.compile(r"^(?:谢谢|感谢|祝贺|恭喜|辛苦|点赞|赞|好的|收到|哈哈)")
# A forwarded notice ("今天收到县里通知：…", "根据教育局通知，…", "通知：…"): its 收到 is no
# acknowledgement; what follows it decides, like any announcement or report.
_NOTICE = re.compile(
    r"(?:收到|接到|接|根据|按照|依据|按)[^,.;!?，。；！？:：]{0,12}?(?:通知|文件|安排)"
    r"(?:要求|精神)?\s*[,:：，]?|^\s*(?:通知|紧急通知|重要通知)\s*[:：]"
)
# A message that ends by asking (？, 吗, 呢) is a question whatever verbs it holds.
_ASKS = re.compile(r"(?:[?]|吗|呢|么|没有?)\s*[?]*\s*$")
# "昨天参加了送教的老师有哪些": a count or a list asked for, whatever the verbs.
_ASKS_HOW_MANY = re.compile(r"有(?:几|多少)|多少|哪些|哪几")
# Counts and look-ups that ask the bot even inside a chatty question.
_COUNTS = re.compile(r"几次|次数|多少|统计|查|哪些|几场|汇总|记录")
# A place the event was held at, when it is no roster school ("在县教育局会议室").
_PLACE = re.compile(
    r"(?:在|到|赴|前往)了?\s*[^,.;!?，。；！？\s]{0,12}?"
    r"(?:学校|小学|中学|中心校|完小|校区|幼儿园|教学点|教室|会议室|报告厅|礼堂|多媒体室|录播室|"
    r"教育局|进修学校|村|屯|家中|学生家)"
)


@dataclass
class ParseResult:
    """What one message means; every key of spec/nlu.md, null where it does not apply."""

    intent: str = "unknown"
    activity: str | None = None
    date: str | None = None
    time: str | None = None
    subject: str | None = None
    grade: str | None = None
    participants: int | None = None
    topic: str | None = None
    school: str | None = None
    period: str | None = None
    name: str | None = None
    confidence: float = 0.0
    matched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Reading:
    """Everything found in one message before the intent is decided."""

    text: str
    masked: str
    tokens: list[tuple[int, int, str]]
    cues: Cues
    activity: str | None
    activity_words: list[str]
    activity_start: int | None
    when: DateMention | None
    clock: TimeMention | None
    school_hits: list[slots.Hit]
    head_count: int | None


def _after(text: str, pos: int, today: date, when: DateMention | None,
           clock: TimeMention | None) -> tuple[DateMention | None, TimeMention | None]:
    """Date and time stated after `pos`; the date before it stays if none follows."""
    new_when, new_clock = find_date(text[pos:], today), find_time(text[pos:])
    if new_when is not None:
        when = replace(new_when, start=new_when.start + pos, end=new_when.end + pos)
    if new_clock is not None:
        return when, replace(new_clock, start=new_clock.start + pos, end=new_clock.end + pos)
    return when, None


_CLAUSE_END = re.compile(r"[,;!?。，；！？]")


def _clause_of(text: str, pos: int) -> str:
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, pos)]
    stop = _CLAUSE_END.search(text, pos)
    return text[ends[-1] if ends else 0:stop.start() if stop else len(text)]


def _marker_weight(markers: list[str], strong: tuple[str, ...]) -> int:
    return sum(2 if any(word in m for word in strong) or m.startswith("请") else 1
               for m in markers)


class Parser:
    """Loaded once per process; `parse` is pure and thread-safe."""

    def __init__(
        self,
        *,
        schools: Sequence[tuple[str, Sequence[str]]],
        settings: Mapping[str, Any] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.schools = list(schools)
        self.settings = dict(settings or {})
        self.lexicon: Lexicon = build_lexicon(self.settings)
        self.slots = slots.SlotFinder(self.lexicon, self.schools)
        self.cues = CueFinder(self.lexicon)
        self._bot = bot_mention_pattern(self.lexicon.bot_names)
        self.tokenizer = DomainTokenizer(self.slots.dictionary_words(), cache_dir)
        self.cache_dir = self.tokenizer.cache_dir

    def _read(self, text: str, today: date) -> _Reading:
        school_hits = self.slots.schools(text)
        school_spans = [(h.start, h.end) for h in school_hits]
        masked = slots.mask(text, school_spans)
        tokens = self.tokenizer.spans(text)
        hits = self.slots.activities(tokens, skip=school_spans, text=text)
        if not hits:
            fallback = self.slots.fallback_activity(masked)
            hits = [fallback] if fallback else []
        # The day of the event: the date in the clause of its trigger or verb
        # ("明天元旦放假，1月4日上午召开教研活动" → 1月4日), not the first date written.
        verb = self.cues.action_verb(masked)
        anchor = hits[0].start if hits else verb.start() if verb else None
        when = date_at(masked, find_dates(masked, today), anchor)
        clock = find_time(masked)
        moved = _RESCHEDULE.search(masked)
        if moved:
            # "明天的集备改到下周三下午三点": the new day and hour count, not the old ones.
            when, clock = _after(masked, moved.end(), today, when, clock)
        spans = [(m.start, m.end) for m in (when, clock) if m is not None]
        return _Reading(
            text=text,
            masked=masked,
            tokens=tokens,
            cues=self.cues.find(masked),
            activity=hits[0].value if hits else None,
            activity_words=[h.word for h in hits],
            activity_start=hits[0].start if hits else None,
            when=when,
            clock=clock,
            school_hits=school_hits,
            head_count=slots.participants(slots.mask(masked, spans)),
        )

    def parse(self, text: str, now: datetime) -> ParseResult:
        norm = normalize(text, self.lexicon.max_chars, self._bot)
        if not norm.text:
            # A bare mention of the bot asks for help; of a colleague, it is chatter.
            intent = "help" if norm.bot_mentioned else "unknown"
            return ParseResult(intent=intent, confidence=0.9)
        today = now.date()
        reading = self._read(norm.text, today)
        intent, confidence = self._intent(reading, now)
        return self._fill(reading, intent, confidence, now)

    def _placed(self, r: _Reading) -> bool:
        return bool(r.school_hits) or bool(_PLACE.search(r.masked))

    def _reports_done(self, r: _Reading) -> bool:
        """Verb, past marker and a date or place: "28号到泗顶中心小学开展视导，查看了…";
        or a leading 汇报/上报."""
        c = r.cues
        if (_ASKS.search(r.masked) or _ASKS_HOW_MANY.search(r.masked)
                or self.cues.counts_after_verb(r.masked)):
            return False
        if _REPORT_LEAD.match(r.masked):
            return True
        if not c.past:
            return False
        return ((self.cues.action_verb(r.masked) is not None or bool(_DONE.search(r.masked)))
                and (r.when is not None or self._placed(r)))

    def _states(self, text: str) -> bool:
        """A clause that says something was or will be done: a verb of school work with a
        past or future marker ("开展了…", "将于…召开")."""
        verb = (self.cues.action_verb(text) is not None or self.cues.organises(text)
                or bool(_REPORT_LEAD.match(text)))
        if not verb:
            return False
        cues = self.cues.find(text)
        return bool(cues.past or cues.future or find_time(text) is not None)

    def _chats(self, r: _Reading) -> bool:
        """Colleagues asked for their opinion (大家觉得怎么样, 有什么建议, 欢迎交流) or about
        arrangements (你们几个人去？), with nothing before it that reports or announces."""
        c = r.cues
        if c.opinion < 0 and not c.arrangement:
            return False
        if c.opinion >= 0 and self._states(r.masked[:c.opinion]):
            return False
        return not (c.arrangement and self._announced_before(r))

    def _is_query(self, r: _Reading) -> bool:
        c = r.cues
        if self._reports_done(r):
            return False
        if c.arrangement or (c.opinion >= 0 and not _COUNTS.search(r.masked)):
            return False
        weak_only = not c.has("query")
        if weak_only and (not c.has("query_weak")
                          or (c.past and not _ENDS_ASKING.search(r.masked))):
            return False
        # A period alone does not make "这个月工资多少" a question about our records.
        vague = c.found.get("query") in ("多少", "哪些")
        about_us = (r.activity is not None or self.cues.has_query_target(r.masked)
                    or (not vague and self.slots.period(r.masked) is not None))
        if not about_us:
            return False
        # "讨论了教学进度" reports; "进度怎么样" asks.
        return c.asking or not (r.activity and (c.past or r.when is not None))

    def _intent(self, r: _Reading, now: datetime) -> tuple[str, float]:
        c = r.cues
        if c.has("help"):
            return "help", 0.9
        if c.has("undo"):
            return "undo", 0.9
        if self._is_query(r):
            return "query", 0.85
        if c.has("leave"):
            return "leave", 0.9
        if c.has("checkout"):
            return "checkout", 0.9
        if c.has("checkin") and not self._announces(r):
            return "checkin", 0.9
        if c.has("bind") and r.activity is None:
            return "bind", 0.85
        if self._chats(r):
            return "unknown", 0.8
        if c.question and not c.has("report") and not self._announced_before(r):
            return "unknown", 0.8
        eventful = r.activity is not None or c.has("report") or self._event_without_type(r)
        if not eventful:
            return "unknown", 0.9
        text, chatter = r.masked, c.has("chatter")
        notice = _NOTICE.search(text)
        if notice and chatter and self._notice_of_event(r, notice.end()):
            # "收到通知：12月8日举办培训": only the notice's own words can be small talk.
            text = text[notice.end():]
            chatter = self.cues.find(text).has("chatter")
        small_talk = chatter and not c.has("report") and r.clock is None
        if small_talk and r.head_count is None \
                and (_CHATTER_LEAD.match(text) or not (c.past or c.future)):
            return "unknown", 0.6
        return self._report_or_plan(r, now)

    def _event_without_type(self, r: _Reading) -> bool:
        """An event word or a verb of school work, anchored by a date, a time, a place or a
        head count ("昨天在县实小听了3节课"); an organising verb needs only a past marker."""
        text = r.masked
        anchored = (r.when is not None or r.clock is not None or r.head_count is not None
                    or self._placed(r))
        worded = self.cues.has_event_word(text) or self.cues.action_verb(text) is not None
        if worded and anchored:
            return True
        if _TAUGHT.search(text) and self._placed(r):
            return True
        return bool(r.cues.past) and self.cues.organises(text)

    def _notice_of_event(self, r: _Reading, end: int) -> bool:
        """After a notice's lead, a dated event: a date and a verb of school work or an
        event word ("…通知：12月8日至10日举办班主任培训")."""
        rest = r.masked[end:]
        return (r.when is not None and r.when.start >= end
                and (self.cues.action_verb(rest) is not None or self.cues.has_event_word(rest)))

    @staticmethod
    def _announced_before(r: _Reading) -> bool:
        """A question trailing a timed announcement (…三点集体备课，大家能来吗？) is no chat."""
        limit = r.cues.question_clause
        return (r.activity_start is not None and r.activity_start < limit
                and r.clock is not None and r.clock.start < limit)

    @staticmethod
    def _announces(r: _Reading) -> bool:
        """A check-in word inside an announcement ("明天培训请提前签到") is a plan."""
        if r.activity is None:
            return False
        if r.when is not None and r.when.tense == "future":
            return True
        return _marker_weight(r.cues.future, _STRONG_FUTURE) >= 2

    def _report_or_plan(self, r: _Reading, now: datetime) -> tuple[str, float]:
        today = now.date()
        base = 0.9 if r.activity is not None else 0.45
        tense = r.when.tense if r.when is not None else None
        if tense is not None:
            return ("report" if tense == "past" else "plan"), base
        future = _marker_weight(r.cues.future, _STRONG_FUTURE)
        past = _marker_weight(r.cues.past, _STRONG_PAST)
        # Markers pulling both ways leave the parse below CONFIDENT.
        torn = 0.35 if future and past else 0.0
        if torn and r.when is not None:
            # "11月25日开展了集备，下周将继续": the clause of the dated event decides.
            clause = self.cues.find(_clause_of(r.masked, r.when.start))
            future = _marker_weight(clause.future, _STRONG_FUTURE)
            past = _marker_weight(clause.past, _STRONG_PAST)
            torn = 0.35 if future and past else 0.15
        if future > past:
            return "plan", base - torn
        if past > future:
            return "report", base - torn
        unsure = torn or 0.15
        day = r.when.nearest(today) if r.when is not None else today
        if day is None:
            return "report", base - unsure
        later_today = (day == today and r.clock is not None
                       and (r.clock.hour, r.clock.minute) > (now.hour, now.minute))
        intent = "plan" if day > today or later_today else "report"
        return intent, base - unsure

    def _day(self, r: _Reading, intent: str, today: date) -> date | None:
        if intent in ("checkin", "checkout"):
            return today
        if intent in ("report", "plan", "leave"):
            if r.when is not None:
                return r.when.for_intent(intent)
            return None if intent == "plan" else today
        return None

    def _fill(self, r: _Reading, intent: str, confidence: float, now: datetime) -> ParseResult:
        result = ParseResult(intent=intent, confidence=round(max(0.0, min(1.0, confidence)), 2))
        result.matched = [*r.cues.found.values(), *r.activity_words[:3]]
        if intent in ("unknown", "help", "undo"):
            return result
        school_spans = [(h.start, h.end) for h in r.school_hits]
        topic, topic_span = slots.topic(r.text)
        subject, _ = self.slots.subject(r.tokens, skip=school_spans, topic=topic_span)
        result.subject = subject
        result.school = self.slots.pick_school(r.text, r.school_hits)
        if intent == "bind":
            remove = [h.word for h in r.school_hits] + list(self.slots.subjects)
            result.name = slots.person_name(r.masked, remove)
            return result
        result.activity = r.activity
        dated = slots.mask(r.masked, [(r.when.start, r.when.end)] if r.when else [])
        result.grade, _ = self.slots.grade(dated)
        day = self._day(r, intent, now.date())
        result.date = day.isoformat() if day else None
        result.time = r.clock.text() if r.clock else None
        if intent == "query":
            result.period = self.slots.period(r.masked)
            return result
        if intent in ("report", "plan"):
            result.topic = topic
            result.participants = r.head_count
        return result
