"""Intent cues and markers, compiled once: which intents' words a message contains.

The decision itself (the precedence table) lives in rules.py; this module only says which
cue words and sentence shapes are present, from the lexicon's patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from handlers.nlu.clauses import clause_start
from handlers.nlu.lexicon import Lexicon
from handlers.nlu.prefilter import compile_prefiltered


def _alternatives(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns) or r"(?!)"


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return compile_prefiltered(_alternatives(patterns))


def _words(words: Iterable[str]) -> str:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered) or r"(?!)"


def _matched(pattern: re.Pattern[str], text: str) -> list[str]:
    """The text of every match; findall gives just that, and fast, when there are no groups."""
    if pattern.groups:
        return [m.group(0) for m in pattern.finditer(text)]
    found: list[str] = pattern.findall(text)
    return found


# Cue families only looked up by name, never reported as an intent's words.
_BY_NAME = frozenset({"directive_verb"})


@dataclass(frozen=True)
class Cues:
    """Which cue families a text contains, and the words that matched."""

    found: dict[str, str]
    future: list[str]
    past: list[str]
    asking: bool
    question: bool
    # Where the clause holding the question starts (after the last , ; ! ? before it).
    question_clause: int = 0
    # Where a request for colleagues' opinions starts (大家觉得…), or -1.
    opinion: int = -1
    # A question about who goes, when or where (你们几个人去？).
    arrangement: bool = False

    def has(self, intent: str) -> bool:
        return intent in self.found


class CueFinder:
    def __init__(self, lexicon: Lexicon, triggers: Iterable[str] = ()) -> None:
        self._cues = {name: _compile(p) for name, p in lexicon.cues.items()}
        # Only the intent families are looked for in every message; the rest by name.
        self._intent_cues = [(name, self._cues[name]) for name in lexicon.intent_cues
                             if name in self._cues]
        self._intent_cues += [(name, pattern) for name, pattern in self._cues.items()
                              if name not in lexicon.intent_cues and name not in _BY_NAME]
        self._shapes = {name: _compile(p) for name, p in lexicon.shapes.items()}
        self._future = _compile(lexicon.future_markers)
        self._past = _compile(lexicon.past_markers)
        self._targets = re.compile(_words(lexicon.query_targets))
        self._events = re.compile(_words(lexicon.event_words))
        self._verbs = _compile(lexicon.action_verbs)
        self._organising = _compile(lexicon.organising_verbs)
        # A count asked straight after a verb ("开展了几次") still asks.
        self._verb_count = compile_prefiltered(
            rf"(?:{_alternatives(lexicon.action_verbs)})了?\s*(?:几|多少|哪些)")
        # 还没开展, 没有搞, 未开展集备, 还没集备: the activity has not taken place.
        self._negation_heads = frozenset(w[0] for w in lexicon.negations)
        self._negation = compile_prefiltered(
            rf"(?:{_words(lexicon.negations)})(?:{_words(lexicon.negation_fillers)})?"
            rf"过?(?:{_words((*lexicon.negated_verbs, *triggers))})"
        )

    def find(self, text: str) -> Cues:
        shapes = self._shapes
        question = shapes["question"].search(text)
        opinion = shapes["opinion"].search(text)
        found: dict[str, str] = {}
        for intent, pattern in self._intent_cues:
            m = pattern.search(text)
            if m:
                found[intent] = m.group(0)
        return Cues(
            found=found,
            future=_matched(self._future, text),
            past=_matched(self._past, text),
            asking=bool(shapes["asking"].search(text)),
            question=question is not None,
            question_clause=clause_start(text, question.start()) if question else 0,
            opinion=opinion.start() if opinion else -1,
            arrangement=shapes["arrangement"].search(text) is not None,
        )

    def shape(self, name: str, text: str, pos: int = 0) -> re.Match[str] | None:
        """The first match of the named sentence shape (lexicon.SHAPES) in `text`."""
        return self._shapes[name].search(text, pos)

    def cue(self, name: str, text: str, pos: int = 0) -> re.Match[str] | None:
        """The first match of the named cue family (lexicon.CUES) in `text`."""
        return self._cues[name].search(text, pos)

    def negation(self, text: str) -> re.Match[str] | None:
        if not self._negation_heads.intersection(text):
            return None
        return self._negation.search(text)

    def has_query_target(self, text: str) -> bool:
        return bool(self._targets.search(text))

    def has_event_word(self, text: str) -> bool:
        return bool(self._events.search(text))

    def action_verb(self, text: str) -> re.Match[str] | None:
        return self._verbs.search(text)

    def organises(self, text: str) -> bool:
        return bool(self._organising.search(text))

    def counts_after_verb(self, text: str) -> bool:
        return bool(self._verb_count.search(text))
