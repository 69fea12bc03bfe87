"""The intent precedence of spec/nlu.md as an ordered table of small named rules.

`RULES` is evaluated in order; the first rule whose predicate holds decides the intent, and
its name goes into `ParseResult.matched` as "rule:<name>", so a wrong parse names its rule.
The intent `EVENT` is no intent of its own: report or plan, decided by `report_or_plan`.
Each predicate reads one `Reading` (everything found in the message before the decision).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from handlers.nlu import slots
from handlers.nlu.clauses import clause_of
from handlers.nlu.dates import DateMention
from handlers.nlu.intents import CueFinder, Cues
from handlers.nlu.lexicon import Lexicon
from handlers.nlu.times import TimeMention, find_time

# Report or plan, decided after the table by dates and markers.
EVENT = "event"


@dataclass
class Reading:
    """Everything found in one message before the intent is decided."""

    text: str
    masked: str
    # jieba's tokens that hold a trigger or subject word (SlotFinder.word_tokens): the others
    # give no activity and no subject.
    tokens: list[tuple[int, int, str]]
    cues: Cues
    hits: list[slots.Hit]
    when: DateMention | None
    clock: TimeMention | None
    dates: list[DateMention]
    school_hits: list[slots.Hit]
    now: datetime
    finder: CueFinder
    slots: slots.SlotFinder
    lexicon: Lexicon

    @cached_property
    def head_count(self) -> int | None:
        """People who took part, the event's day and time masked (their digits count nobody);
        read on first use: most messages that are no report never ask."""
        spans = [(m.start, m.end) for m in (self.when, self.clock) if m is not None]
        return self.slots.participants(slots.mask(self.masked, spans))

    @property
    def activity(self) -> str | None:
        return self.hits[0].value if self.hits else None

    @property
    def activity_start(self) -> int | None:
        return self.hits[0].start if self.hits else None

    def shape(self, name: str, text: str | None = None) -> re.Match[str] | None:
        return self.finder.shape(name, self.masked if text is None else text)

    def placed(self) -> bool:
        return bool(self.school_hits) or self.shape("place") is not None

    def value_after(self, word: re.Match[str]) -> bool:
        """Whether a slot value (a count, subject, grade, topic, school, day, time or
        activity) is written after the correction `word` — what a correction corrects."""
        pos = word.end()
        rest, segment = self.masked[pos:], correction_segment(self.masked, word.start())
        return (any(h.start >= pos for h in (*self.school_hits, *self.hits))
                or any(d.start >= pos for d in self.dates)
                or find_time(rest) is not None
                or self.slots.participants(segment) is not None
                or slots.topic(segment)[0] is not None
                or self.slots.subject(self.tokens, within=(pos, len(self.masked)))[0] is not None
                or self.slots.grade(rest)[0] is not None)


Predicate = Callable[[Reading], bool]


@dataclass(frozen=True)
class Rule:
    """One line of the precedence table: when `when` holds, the message is `intent`."""

    name: str
    intent: str
    when: Predicate
    confidence: float = 0.9


_FIELD_BEFORE = re.compile(r"(?:参加人数|参与人数|到会人数|人数|主题|课题|地点|"
                           r"学科|科目|年级|时间|日期)"
                           r"\s*$")


def correction_segment(text: str, pos: int) -> str:
    """The text a correction at `pos` corrects: from a field noun right before it (人数改成…)
    to the end."""
    field = _FIELD_BEFORE.search(text, max(0, pos - 6), pos)
    return text[field.start() if field else pos:]


def _marker_weight(markers: list[str], strong: tuple[str, ...]) -> int:
    return sum(2 if any(word in m for word in strong) or m.startswith("请") else 1
               for m in markers)


def correction_at(r: Reading) -> int | None:
    """Where a correction with a value after it starts (不对，是11人 / 人数改成11), or None.
    改成/改为 + a day or time is a reschedule, not a correction."""
    m = r.finder.cue("correct", r.masked) if r.cues.has("correct") else None
    if m and r.value_after(m):
        return m.start()
    if not r.cues.has("correct_change") or r.cues.has("cancel"):
        return None
    change = r.finder.cue("correct_change", r.masked)
    if change is None:
        return None
    rest = r.masked[change.end():]
    if find_time(rest[:8]) is not None or any(0 <= d.start - change.end() <= 2 for d in r.dates):
        return None
    return change.start() if r.value_after(change) else None


def _correction(r: Reading) -> bool:
    return correction_at(r) is not None


def _is_query(r: Reading) -> bool:
    c = r.cues
    if _reports_done(r):
        return False
    if c.arrangement or (c.opinion >= 0 and not r.shape("counts")):
        return False
    weak_only = not c.has("query")
    if weak_only and (not c.has("query_weak")
                      or (c.past and not r.shape("ends_asking"))):
        return False
    # A period alone does not make "这个月工资多少" a question about our records.
    vague = c.found.get("query") in ("多少", "哪些")
    period = r.slots.period(r.masked)
    about_us = (r.activity is not None or r.finder.has_query_target(r.masked)
                or (not vague and period is not None and period not in r.lexicon.vague_periods))
    if not about_us:
        return False
    # "讨论了教学进度" reports; "进度怎么样" asks.
    return c.asking or not (r.activity and (c.past or r.when is not None))


def _reports_done(r: Reading) -> bool:
    """Verb, past marker and a date or place: "28号到泗顶中心小学开展视导，查看了…"; or a
    leading 汇报/上报."""
    if r.shape("asks") or r.shape("asks_how_many") or r.finder.counts_after_verb(r.masked):
        return False
    if r.shape("report_lead"):
        return True
    if not r.cues.past:
        return False
    return ((r.finder.action_verb(r.masked) is not None or r.shape("done") is not None)
            and (r.when is not None or r.placed()))


def _eventful(r: Reading) -> bool:
    return r.activity is not None or _event_without_type(r)


def _cancel(r: Reading) -> bool:
    """取消, 不搞了, 暂停 … of an activity, or of an event dated or timed (明天的会议取消了)."""
    return r.cues.has("cancel") and (
        r.activity is not None
        or (r.finder.has_event_word(r.masked) and (r.when is not None or r.clock is not None)))


def reschedule_at(r: Reading) -> re.Match[str] | None:
    """The move word of a reschedule (改到, 推迟到, 延期, …) of an activity or event."""
    if not r.cues.has("reschedule"):
        return None
    if r.activity is None and not r.finder.has_event_word(r.masked):
        return None
    return r.finder.cue("reschedule", r.masked)


def _reschedule(r: Reading) -> bool:
    return reschedule_at(r) is not None


def _leave(r: Reading) -> bool:
    return r.cues.has("leave")


def _states_before(r: Reading, pos: int) -> bool:
    """The text before `pos` states something done or announced (开展了…，请大家上传照片)."""
    return pos > 0 and _states(r, r.masked[:pos])


def _material(r: Reading) -> bool:
    """Asking colleagues to upload or send material, unless a report comes first."""
    m = r.finder.cue("material", r.masked) if r.cues.has("material") else None
    return m is not None and not _states_before(r, m.start())


def _promise(r: Reading) -> bool:
    return r.cues.has("promise")


def _howto(r: Reading) -> bool:
    return r.cues.has("howto")


def _checkout(r: Reading) -> bool:
    return r.cues.has("checkout")


def _checkin(r: Reading) -> bool:
    return r.cues.has("checkin") and not _announces(r)


def _bind(r: Reading) -> bool:
    return r.cues.has("bind") and r.activity is None


def _negation(r: Reading) -> bool:
    """还没/没有/没/未 before the activity or its verb, in the clause of the event."""
    m = r.finder.negation(r.masked)
    if m is None:
        return False
    anchor = r.activity_start
    if anchor is None:
        return True
    return clause_of(r.masked, anchor) == clause_of(r.masked, m.start())


def _directive(r: Reading) -> bool:
    """各校/要求/务必 … 开展 without a concrete day: an order, not a plan."""
    m = r.finder.cue("directive", r.masked) if r.cues.has("directive") else None
    if m is None or any(not d.invalid for d in r.dates):
        return False
    return r.finder.cue("directive_verb", r.masked, m.start()) is not None


def _states(r: Reading, text: str) -> bool:
    """A clause that says something was or will be done: a verb of school work with a past
    or future marker ("开展了…", "将于…召开")."""
    verb = (r.finder.action_verb(text) is not None or r.finder.organises(text)
            or r.shape("report_lead", text) is not None)
    if not verb:
        return False
    cues = r.finder.find(text)
    return bool(cues.past or cues.future or find_time(text) is not None)


def _announced_before(r: Reading) -> bool:
    """A question trailing a timed announcement (…三点集体备课，大家能来吗？) is no chat."""
    limit = r.cues.question_clause
    return (r.activity_start is not None and r.activity_start < limit
            and r.clock is not None and r.clock.start < limit)


def _announces(r: Reading) -> bool:
    """A check-in word inside an announcement ("明天培训请提前签到") is a plan."""
    if r.activity is None:
        return False
    if r.when is not None and r.when.tense == "future":
        return True
    return _marker_weight(r.cues.future, r.lexicon.strong_future) >= 2


def _chats(r: Reading) -> bool:
    """Colleagues asked for their opinion (大家觉得怎么样, 有什么建议) or about arrangements
    (你们几个人去？), with nothing before it that reports or announces."""
    c = r.cues
    if c.opinion < 0 and not c.arrangement:
        return False
    if c.opinion >= 0 and _states(r, r.masked[:c.opinion]):
        return False
    return not (c.arrangement and _announced_before(r))


def _question(r: Reading) -> bool:
    return r.cues.question and not r.cues.has("report") and not _announced_before(r)


def _event_without_type(r: Reading) -> bool:
    """An event word or a verb of school work, anchored by a date, a time, a place or a head
    count ("昨天在县实小听了3节课"); an organising verb needs only a past marker."""
    text = r.masked
    anchored = (r.when is not None or r.clock is not None or r.head_count is not None
                or r.placed())
    worded = r.finder.has_event_word(text) or r.finder.action_verb(text) is not None
    if worded and anchored:
        return True
    if r.shape("taught") and r.placed():
        return True
    return bool(r.cues.past) and r.finder.organises(text)


def _no_event(r: Reading) -> bool:
    return not (_eventful(r) or r.cues.has("report"))


def _notice_of_event(r: Reading, end: int) -> bool:
    """After a notice's lead, a dated event: a date and a verb of school work or an event
    word ("…通知：12月8日至10日举办班主任培训")."""
    rest = r.masked[end:]
    return (r.when is not None and r.when.start >= end
            and (r.finder.action_verb(rest) is not None or r.finder.has_event_word(rest)))


def _small_talk(r: Reading) -> bool:
    """Thanks, greetings, acknowledgements around an event ("谢谢王老师今天的示范课"); only
    the words after a forwarded notice can be small talk."""
    c = r.cues
    text, chatter = r.masked, c.has("chatter")
    notice = r.shape("notice")
    if notice and chatter and _notice_of_event(r, notice.end()):
        text = text[notice.end():]
        chatter = r.finder.find(text).has("chatter")
    if not chatter or c.has("report") or r.clock is not None or r.head_count is not None:
        return False
    return bool(r.shape("chatter_lead", text)) or not (c.past or c.future)


def _bare_name(r: Reading) -> bool:
    """An activity's name, with at most its subject and grade, and nothing else ("家访",
    "体育教研", "三年级数学集体备课"). It answers a question; it reports nothing."""
    hit = r.hits[0] if r.hits else None
    if hit is None or r.dates or r.clock is not None or r.head_count is not None:
        return False
    rest = r.masked.replace(hit.word, "", 1)
    names = (*r.lexicon.subjects.items(), *r.lexicon.grades.items())
    for word in sorted((w for canonical, aliases in names for w in (canonical, *aliases)),
                       key=len, reverse=True):
        rest = rest.replace(word, "")
    return re.sub(r"[\W的]", "", rest) == ""


def _always(_: Reading) -> bool:
    return True


RULES: tuple[Rule, ...] = (
    Rule("help", "help", lambda r: r.cues.has("help")),
    Rule("correction", "correct", _correction, 0.85),
    Rule("undo", "undo", lambda r: r.cues.has("undo")),
    Rule("query", "query", _is_query, 0.85),
    Rule("howto", "unknown", _howto, 0.8),
    Rule("cancel", "cancel", _cancel, 0.85),
    Rule("reschedule", "reschedule", _reschedule, 0.85),
    Rule("leave", "leave", _leave),
    Rule("material", "unknown", _material, 0.8),
    Rule("promise", "unknown", _promise, 0.8),
    Rule("checkout", "checkout", _checkout),
    Rule("checkin", "checkin", _checkin),
    Rule("bind", "bind", _bind, 0.85),
    Rule("negation", "unknown", _negation, 0.8),
    Rule("directive", "unknown", _directive, 0.8),
    Rule("chat", "unknown", _chats, 0.8),
    Rule("question", "unknown", _question, 0.8),
    Rule("no_event", "unknown", _no_event, 0.9),
    Rule("small_talk", "unknown", _small_talk, 0.6),
    Rule("bare_name", "unknown", _bare_name, 0.6),
    Rule("event", EVENT, _always),
)


def decide(r: Reading) -> Rule:
    """The first rule of `RULES` that holds."""
    for rule in RULES:
        if rule.when(r):
            return rule
    return RULES[-1]


def report_or_plan(r: Reading, clock_start: TimeMention | None = None) -> tuple[str, float]:
    """Report or plan: a date past or future by itself, then markers (those of the dated
    clause when they pull both ways), then the nearest occurrence of the date."""
    now = r.now
    today = now.date()
    base = 0.9 if r.activity is not None else 0.45
    tense = r.when.tense if r.when is not None else None
    if tense is not None:
        return ("report" if tense == "past" else "plan"), base
    future = _marker_weight(r.cues.future, r.lexicon.strong_future)
    past = _marker_weight(r.cues.past, r.lexicon.strong_past)
    # Markers pulling both ways leave the parse below CONFIDENT.
    torn = 0.35 if future and past else 0.0
    if torn and r.when is not None:
        # "11月25日开展了集备，下周将继续": the clause of the dated event decides.
        clause = r.finder.find(clause_of(r.masked, r.when.start))
        future = _marker_weight(clause.future, r.lexicon.strong_future)
        past = _marker_weight(clause.past, r.lexicon.strong_past)
        torn = 0.35 if future and past else 0.15
    if future > past:
        return "plan", base - torn
    if past > future:
        return "report", base - torn
    unsure = torn or 0.15
    day = r.when.nearest(today) if r.when is not None else today
    if day is None:
        return "report", base - unsure
    clock = clock_start or r.clock
    later_today = (day == today and clock is not None
                   and (clock.hour, clock.minute) > (now.hour, now.minute))
    intent = "plan" if day > today or later_today else "report"
    return intent, base - unsure
