"""Clauses: the stretches of a message between ，。；！？ (after NFKC: , ; ! ?).

One definition for every step that asks "which clause is this in?": the day of an event
(dates.date_at), markers of the dated clause (report vs plan), where a question starts
(intents), and the events of a message (`more`). Imports nothing outside the stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLAUSE_END = re.compile(r"[,;!?。，；！？]")


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str


def split(text: str) -> list[Clause]:
    """Every clause of `text` in order, empty ones left out."""
    out: list[Clause] = []
    start = 0
    for m in CLAUSE_END.finditer(text):
        if m.start() > start:
            out.append(Clause(start, m.start(), text[start:m.start()]))
        start = m.end()
    if start < len(text):
        out.append(Clause(start, len(text), text[start:]))
    return out


def clause_start(text: str, pos: int) -> int:
    """Where the clause holding `pos` starts (just after the last clause end before it)."""
    start = 0
    for m in CLAUSE_END.finditer(text, 0, pos):
        start = m.end()
    return start


def clause_end(text: str, pos: int) -> int:
    """Where the clause holding `pos` ends (at the next clause end, or the text's end)."""
    stop = CLAUSE_END.search(text, pos)
    return stop.start() if stop else len(text)


def clause_span(text: str, pos: int) -> tuple[int, int]:
    return clause_start(text, pos), clause_end(text, pos)


def clause_of(text: str, pos: int) -> str:
    """The text of the clause holding `pos`."""
    start, end = clause_span(text, pos)
    return text[start:end]
