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

# Asking colleagues what they think of an event (大家觉得怎么样, 有什么建议, 欢迎交流):
# chatter about something they already know, not a report of it.
_OPINION = re.compile(
    r"(?:大家|各位|你们|你(?![好们]))(?:都)?(?:觉得|感觉|认为|怎么看|看看|说说|谈谈)|"
    r"(?<!情况)(?<!进度)(?<!效果)(?:怎么样|咋样|怎样)(?!开展|组织|进行|上|备|写|评|做|填|汇报|签到)|"
    r"感觉如何|感受如何|效果如何|"
    r"有(?:什么|啥|何|没有|哪些)(?:好的)?(?:建议|意见|想法|看法|感受|感想|体会|收获|心得|办法|点子)|"
    r"提(?:提|点|些|出)?(?:宝贵)?(?:建议|意见)吧?\s*[?!。]*$|"
    r"欢迎[^,.;!?，。；！？]{0,8}?(?:交流|讨论|留言|分享|提意见|提建议|指正|拍砖)|"
    r"说说看|说一说|谈一谈|谈谈(?:看|感受|体会|想法)|聊聊|议一议"
)
# A question about arrangements (谁去, 几个人去, 几点出发, 在哪集合): not the bot's figures.
_ARRANGEMENT = re.compile(
    r"(?:几个人|几个老师|几位老师?|几人|谁|哪位|哪几位|哪几个人?)(?:要|会|能|一起|跟着?)?"
    r"(?:去|来|出发|带队|开车|主讲|主备|上课|讲课)(?![了过])|"
    r"几点(?:钟)?(?:出发|集合|走|到|开始|见)|在哪(?:里|儿)?(?:集合|见|等|上车)|"
    r"(?:你们|你(?![好们])|您)[^,.;!?，。；！？]{0,10}?"
    r"(?:几个|几位|几人|谁|哪几|几点|在哪|什么时候|啥时候|去不去|来不来|去吗|来吗)"
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
    # Where a request for colleagues' opinions starts (大家觉得…), or -1.
    opinion: int = -1
    # A question about who goes, when or where (你们几个人去？).
    arrangement: bool = False

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
        opinion = _OPINION.search(text)
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
            opinion=opinion.start() if opinion else -1,
            arrangement=_ARRANGEMENT.search(text) is not None,
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
