"""Intent cues and markers, compiled once: which intents' words a message contains.

The decision itself (precedence, report vs plan) lives in parser.py; this module only says
which cue words are present, from the lexicon's patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.nlu.lexicon import Lexicon

# Words that ask rather than state; a query needs one of them, not only 进度 or 统计.
_ASKING = re.compile(r"几|多少|哪些|完成情况|查询|查一下|查看|查查|怎么样|如何|[?]|吗|呢|了没|没有")
# Questions to colleagues: the bot stays out of them.
_QUESTION = re.compile(
    r"[?]\s*$|[吗呢吧嘛]\s*[?。!]*\s*$|谁|哪里|哪儿|什么时候|几点|有没有|是不是|能不能|可不可以|"
    r"要不要|在哪|啥时候|咋|哪个|哪位|哪天|多久|怎么走"
)


_CLAUSE_END = re.compile(r"[,;!。，；！]")


def _clause_start(text: str, pos: int) -> int:
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, pos)]
    return ends[-1] if ends else 0


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")


@dataclass(frozen=True)
class Cues:
    """Which cue families a text contains, and the words that matched."""

    found: dict[str, str]
    future: list[str]
    past: list[str]
    asking: bool
    question: bool
    # Where the clause holding the question starts (after the last , ; ! before it).
    question_clause: int = 0

    def has(self, intent: str) -> bool:
        return intent in self.found


class CueFinder:
    def __init__(self, lexicon: Lexicon) -> None:
        self._cues = {intent: _compile(p) for intent, p in lexicon.cues.items()}
        self._future = _compile(lexicon.future_markers)
        self._past = _compile(lexicon.past_markers)
        self._targets = re.compile("|".join(re.escape(t) for t in lexicon.query_targets))
        self._events = re.compile("|".join(re.escape(t) for t in lexicon.event_words))
        self._verbs = _compile(lexicon.action_verbs)
        self._organising = _compile(lexicon.organising_verbs)
        # A count asked straight after a verb ("开展了几次") still asks.
        self._verb_count = re.compile(rf"(?:{self._verbs.pattern})了?\s*(?:几|多少|哪些)")

    def find(self, text: str) -> Cues:
        question = _QUESTION.search(text)
        found: dict[str, str] = {}
        for intent, pattern in self._cues.items():
            m = pattern.search(text)
            if m:
                found[intent] = m.group(0)
        return Cues(
            found=found,
            future=[m.group(0) for m in self._future.finditer(text)],
            past=[m.group(0) for m in self._past.finditer(text)],
            asking=bool(_ASKING.search(text)),
            question=question is not None,
            question_clause=_clause_start(text, question.start()) if question else 0,
        )

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
