"""The parser's public face: `Parser(schools=…).parse(text, now)` → `ParseResult`.

Reads a message once (`rules.Reading`), lets the precedence table of rules.py pick the
intent, and fills the slots that intent has (spec/nlu.md). Imports nothing outside
handlers.nlu.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from handlers.nlu import clauses, slots
from handlers.nlu.dates import DateMention, date_at, find_dates
from handlers.nlu.intents import CueFinder
from handlers.nlu.lexicon import Lexicon, build_lexicon
from handlers.nlu.normalize import bot_mention_pattern, normalize
from handlers.nlu.rules import (
    EVENT,
    Reading,
    correction_at,
    correction_segment,
    decide,
    report_or_plan,
    reschedule_at,
)
from handlers.nlu.slot_json import slots_to_json_in_place
from handlers.nlu.times import TimeMention, find_end_time, find_time
from handlers.nlu.tokenizer import DomainTokenizer

KEYS = ("intent", "activity", "date", "time", "subject", "grade", "participants", "topic",
        "school", "period", "by", "from_date", "date_invalid", "name", "more", "end_time",
        "from_school")
# The keys of each later event in `more`.
EVENT_KEYS = ("activity", "date", "time", "subject", "grade", "participants", "topic",
              "school")

# Below this the report handler asks back instead of recording.
CONFIDENT = 0.6

Span = tuple[int, int]


@dataclass
class ParseResult:
    """What one message means; every key of spec/nlu.md, null where it does not apply."""

    intent: str = "unknown"
    activity: str | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    subject: str | None = None
    grade: str | None = None
    participants: int | None = None
    topic: str | None = None
    school: str | None = None
    period: str | None = None
    name: str | None = None
    confidence: float = 0.0
    matched: list[str] = field(default_factory=list)
    by: str | None = None
    from_date: dt.date | None = None
    # True when the message writes a date that does not exist (11.31); never False.
    date_invalid: bool | None = None
    # Later events of a report or plan: dicts with exactly the keys of EVENT_KEYS, typed like
    # the top level.
    more: list[dict[str, Any]] | None = None
    # The stated end of the event ("下午2点到4点" → 16:00).
    end_time: dt.time | None = None
    # The roster school that sends the people (县实小派出6名骨干教师到泗顶支教 → 县实小).
    from_school: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives (lists copied), without its recursive deep copy,
        which cost batch mode a third of its time."""
        data = {name: getattr(self, name) for name in _FIELDS}
        data["matched"] = list(self.matched)
        if self.more is not None:
            data["more"] = [dict(event) for event in self.more]
        return data

    def as_json(self) -> dict[str, Any]:
        """`as_dict` with days and times as the contract's text (`jiaolian parse`)."""
        return slots_to_json_in_place(self.as_dict())


_FIELDS = tuple(f.name for f in fields(ParseResult))


def _end_time(text: str, start: TimeMention | None) -> TimeMention | None:
    """`find_end_time` of `text`, whose first time is `start`: a text without one holds no
    time at all, so no end either (find_end_time would search it again to find that)."""
    return find_end_time(text, start) if start is not None else None


def _within(mentions: Sequence[DateMention], span: Span) -> list[DateMention]:
    return [m for m in mentions if span[0] <= m.start < span[1]]


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
        self.cues = CueFinder(self.lexicon, self.slots.triggers)
        self._bot = bot_mention_pattern(self.lexicon.bot_names)
        self.tokenizer = DomainTokenizer(self.slots.dictionary_words(), cache_dir)
        # Told each parse's duration in seconds (the bot's metrics); None: nobody asks.
        self.on_parsed: Callable[[float], None] | None = None

    def mentioned_activity(self, text: str) -> str | None:
        """The first activity a text names, whatever it means ("明天培训几点开始" → training):
        what a question about the schedule asks about."""
        norm = normalize(text, self.lexicon.max_chars, self._bot)
        school_hits = self.slots.schools(norm.text)
        tokens = self.slots.word_tokens(self.tokenizer.spans(norm.text, self.slots.holds_word))
        hits = self.slots.activities(tokens, skip=[(h.start, h.end) for h in school_hits],
                                     text=norm.text)
        return hits[0].value if hits else None

    def _read(self, text: str, now: datetime) -> Reading:
        today = now.date()
        school_hits = self.slots.schools(text)
        school_spans = [(h.start, h.end) for h in school_hits]
        masked = slots.mask(text, school_spans)
        # Only the tokens that hold an activity or a subject, from jieba's blocks with one.
        tokens = self.slots.word_tokens(self.tokenizer.spans(text, self.slots.holds_word))
        hits = self.slots.activities(tokens, skip=school_spans, text=text)
        # A trigger split by 了 and a count (听了两节课) names its activity where it stands.
        fallback = self.slots.fallback_activity(masked)
        if fallback and not any(fallback.start <= h.start < fallback.end for h in hits):
            hits = sorted([*hits, fallback], key=lambda h: h.start)
        # The day of the event: the date in the clause of its trigger or verb
        # ("明天元旦放假，1月4日上午召开教研活动" → 1月4日), not the first date written.
        verb = None if hits else self.cues.action_verb(masked)
        anchor = hits[0].start if hits else verb.start() if verb else None
        dates = find_dates(masked, today)
        return Reading(
            text=text, masked=masked, tokens=tokens, cues=self.cues.find(masked), hits=hits,
            when=date_at(masked, dates, anchor), clock=find_time(masked), dates=dates,
            school_hits=school_hits, now=now, finder=self.cues, slots=self.slots,
            lexicon=self.lexicon,
        )

    def parse(self, text: str, now: datetime) -> ParseResult:
        on_parsed = self.on_parsed
        if on_parsed is None:  # nobody asks how long it took
            return self._parse(text, now)
        started = time.perf_counter()
        try:
            return self._parse(text, now)
        finally:
            on_parsed(time.perf_counter() - started)

    def _parse(self, text: str, now: datetime) -> ParseResult:
        norm = normalize(text, self.lexicon.max_chars, self._bot)
        if not norm.text:
            # A bare mention of the bot asks for help; of a colleague, it is chatter.
            intent = "help" if norm.bot_mentioned else "unknown"
            return ParseResult(intent=intent, confidence=0.9, matched=["rule:mention"])
        reading = self._read(norm.text, now)
        rule = decide(reading)
        intent, confidence = rule.intent, rule.confidence
        if intent == EVENT:
            intent, confidence = report_or_plan(reading)
        result = ParseResult(intent=intent,
                             confidence=round(max(0.0, min(1.0, confidence)), 2))
        result.matched = [*reading.cues.found.values(),
                          *[h.word for h in reading.hits[:3]], f"rule:{rule.name}"]
        filler = getattr(self, f"_fill_{intent}", None)
        if filler is not None:
            filler(reading, result)
        elif rule.name == "bare_name":
            # No report, but the name answers the bot's "which activity?".
            self._event_slots(reading, result)
            result.time = result.end_time = result.topic = result.school = None
        return result

    # --- filling, one method per intent -------------------------------------------------

    def _event_slots(self, r: Reading, result: ParseResult, span: Span | None = None) -> None:
        """Activity, subject, grade, school, time and end of the event in `span` (whole
        message by default)."""
        start, end = span or (0, len(r.masked))
        part = r.masked[start:end]
        hits = [h for h in r.hits if start <= h.start < end]
        result.activity = hits[0].value if hits else (r.activity if span is None else None)
        school_hits = [h for h in r.school_hits if start <= h.start < end]
        school_spans = [(h.start, h.end) for h in r.school_hits]
        topic_text, topic_span = slots.topic(r.text[start:end])
        topic_abs = (topic_span[0] + start, topic_span[1] + start) if topic_span else None
        result.subject, _ = self.slots.subject(r.tokens, skip=school_spans, topic=topic_abs,
                                               within=span)
        result.school = self.slots.pick_school(r.text, school_hits)
        dated = slots.mask(part, [(m.start - start, m.end - start)
                                  for m in _within(r.dates, (start, end))])
        result.grade, _ = self.slots.grade(dated)
        # The whole message's first time was read already.
        clock = r.clock if part == r.masked else find_time(part)
        result.time = clock.clock() if clock else None
        ending = _end_time(part, clock)
        result.end_time = ending.clock() if ending else None
        result.topic = topic_text

    def _day(self, r: Reading, intent: str, when: DateMention | None,
             default: date | None, result: ParseResult) -> None:
        if when is not None and when.invalid:
            result.date, result.date_invalid = None, True
            return
        day = when.for_intent(intent) if when is not None else default
        result.date = day

    def _fill_bind(self, r: Reading, result: ParseResult) -> None:
        self._event_slots(r, result)
        result.activity = result.time = result.end_time = result.topic = result.grade = None
        remove = [h.word for h in r.school_hits] + list(self.slots.subjects)
        result.name = self.slots.person_name(r.masked, remove)

    def _fill_query(self, r: Reading, result: ParseResult) -> None:
        self._event_slots(r, result)
        result.topic = result.end_time = None
        result.period = self.slots.period(r.masked)
        result.by = self.slots.query_by(r.masked)
        if result.by != "member":
            hidden = [(h.start, h.end) for h in (*r.hits, *r.school_hits)]
            hidden += [(m.start, m.end) for m in r.dates]
            result.name = self.slots.asked_name(slots.mask(r.masked, hidden))

    def _fill_checkin(self, r: Reading, result: ParseResult) -> None:
        self._event_slots(r, result)
        result.topic = None
        self._day(r, result.intent, r.when, r.now.date(), result)

    _fill_checkout = _fill_checkin

    def _fill_leave(self, r: Reading, result: ParseResult) -> None:
        self._event_slots(r, result)
        result.topic = None
        self._day(r, "leave", r.when, r.now.date(), result)

    def _fill_cancel(self, r: Reading, result: ParseResult) -> None:
        self._event_slots(r, result)
        result.topic = None
        self._day(r, "cancel", r.when, None, result)

    def _fill_reschedule(self, r: Reading, result: ParseResult) -> None:
        """The day and time after the move; the day before it, when the move names none
        but a time or place, and as `from_date` when it differs."""
        self._event_slots(r, result)
        result.topic = None
        move = reschedule_at(r)
        assert move is not None
        before = [m for m in r.dates if m.start < move.start()]
        after = [m for m in r.dates if m.start >= move.end()]
        old = date_at(r.masked, before, r.activity_start) if before else None
        rest = r.masked[move.end():]
        clock = find_time(rest)
        result.time = clock.clock() if clock else None
        ending = _end_time(rest, clock)
        result.end_time = ending.clock() if ending else None
        named_place = any(h.start >= move.end() for h in r.school_hits)
        if after:
            new: DateMention | None = after[0]
        elif (clock is not None or named_place) and not r.shape("vague_move", rest):
            new = old
        else:
            new = None
        self._day(r, "reschedule", new, None, result)
        old_day = old.for_intent("reschedule") if old is not None and not old.invalid else None
        if old_day is not None and old_day != result.date:
            result.from_date = old_day

    def _fill_correct(self, r: Reading, result: ParseResult) -> None:
        """Only what the correction names, read from the correction on."""
        pos = correction_at(r)
        assert pos is not None
        start = len(r.masked) - len(correction_segment(r.masked, pos))
        span = (start, len(r.masked))
        self._event_slots(r, result, span)
        dates = _within(r.dates, span)
        self._day(r, "correct", dates[0] if dates else None, None, result)
        part = r.masked[start:]
        result.participants = self.slots.participants(
            slots.mask(part, [(m.start - start, m.end - start) for m in dates]))

    def _fill_report(self, r: Reading, result: ParseResult) -> None:
        intent = result.intent
        default = r.now.date() if intent == "report" else None
        events = self._events(r)
        first = (0, events[1][0]) if len(events) > 1 else None
        self._event_slots(r, result, first)
        end = first[1] if first else len(r.masked)
        result.from_school = self.slots.pick_sender(
            r.text, [h for h in r.school_hits if h.start < end], result.school)
        self._day(r, intent, r.when, default, result)
        if first is None:
            result.participants = r.head_count
            return
        result.participants = self._head_count(r, first)
        if result.activity is None:
            result.activity = r.activity
        starts = [s for s, _ in events[1:]]
        ends = [*starts[1:], len(r.masked)]
        result.more = [self._later_event(r, span, intent, r.when, default)
                       for span in zip(starts, ends, strict=True)]

    _fill_plan = _fill_report

    def _head_count(self, r: Reading, span: Span) -> int | None:
        start, end = span
        part = r.masked[start:end]
        clock = find_time(part)
        hidden = [(m.start - start, m.end - start) for m in _within(r.dates, span)]
        if clock is not None:
            hidden.append((clock.start, clock.end))
        return self.slots.participants(slots.mask(part, hidden))

    def _later_event(self, r: Reading, span: Span, intent: str, message_day: DateMention | None,
                     default: date | None) -> dict[str, Any]:
        event = ParseResult(intent=intent)
        self._event_slots(r, event, span)
        own = _within(r.dates, span)
        self._day(r, intent, own[0] if own else message_day, default, event)
        event.participants = self._head_count(r, span)
        data = event.as_dict()
        return {key: data[key] for key in EVENT_KEYS}

    def _events(self, r: Reading) -> list[tuple[int, str]]:
        """(clause start, activity) of each event: the first activity's clause, then each
        later clause naming an activity with its own verb, day, time of day or clock
        ("上午听了两节课，下午进行了集体备课")."""
        if not r.hits:
            return []
        first = clauses.clause_start(r.masked, r.hits[0].start)
        if clauses.CLAUSE_END.search(r.masked, first) is None:
            return [(first, r.hits[0].value)]
        hits = sorted([*r.hits, *self.slots.fallback_activities(r.masked)],
                      key=lambda h: h.start)
        events = [(first, r.hits[0].value)]
        for clause in clauses.split(r.masked):
            if clause.start <= first:
                continue
            inside = [h for h in hits if clause.start <= h.start < clause.end]
            if inside and self._own_event(r, clause.text, inside[0].value != events[-1][1]):
                events.append((clause.start, inside[0].value))
        return events

    def _own_event(self, r: Reading, text: str, other: bool) -> bool:
        """A clause is an event of its own with its own day, time of day or clock, or, for
        another activity, its own organising verb with a marker ("上周五组织了家长学校");
        "上了一节示范课" after "送教到泗顶" or "听课教师30人" belong to the event before."""
        if (r.shape("time_of_day", text) is not None or find_time(text) is not None
                or find_dates(text, r.now.date())):
            return True
        if not (other and self.cues.organises(text)):
            return False
        cues = self.cues.find(text)
        return bool(cues.past or cues.future)
