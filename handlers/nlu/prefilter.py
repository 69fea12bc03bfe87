"""Regexes that skip the positions where no match can start.

Python's regex engine jumps straight to the possible first characters of a match only when
the pattern starts with a literal, a character class or alternatives that each start with a
literal. A pattern that starts otherwise — a lookbehind (`(?<!检)查看`), an optional group
(`(?:下午)?3点`), a group per alternative (the date forms) — is tried alternative by
alternative at every position of the text: most of what the parser's cue and date regexes
cost. `compile_prefiltered` puts a lookahead for those first characters in front of such a
pattern, so the other positions fail at one character test. Matches, groups and spans stay
exactly those of the plain pattern: a lookahead consumes nothing and captures nothing.

The first characters are read from the pattern's syntax tree (`re._parser`, the standard
library's own parser); whatever the reading does not cover exactly (case-insensitive parts,
negated classes, `.`, back-references, a pattern that can match nothing) leaves the pattern
as written. Imports nothing outside the stdlib.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

try:
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
except ImportError:  # another Python's internals: every pattern stays as written
    _parser = _c = None

# (op, value) items of a character class, as re._parser gives them.
_Items = list[tuple[Any, Any]]


def _category_escapes() -> dict[Any, str]:
    if _c is None:
        return {}
    return {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D",
            _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_NOT_SPACE: r"\S",
            _c.CATEGORY_WORD: r"\w", _c.CATEGORY_NOT_WORD: r"\W"}


_CATEGORIES = _category_escapes()


def _first(items: Any) -> tuple[_Items, bool] | None:
    """The class items a match of the sequence `items` can start with, and whether it can
    match nothing at all; None when that is not known exactly."""
    found: _Items = []
    for op, av in items:
        if op is _c.LITERAL:
            return [*found, (op, av)], False
        if op is _c.IN:
            if any(o is _c.NEGATE or (o is _c.CATEGORY and a not in _CATEGORIES)
                   or o not in (_c.LITERAL, _c.RANGE, _c.CATEGORY) for o, a in av):
                return None
            return [*found, *av], False
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: the next item consumes the first character
        if op is _c.SUBPATTERN:
            if av[1] & re.IGNORECASE:
                return None
            inner = _first(av[3].data)
        elif op is _c.ATOMIC_GROUP:
            inner = _first(av.data)
        elif op is _c.BRANCH:
            inner = _branch(av[1])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            inner = _first(av[2].data)
            if inner is not None and av[0] == 0:
                inner = (inner[0], True)
        else:
            return None
        if inner is None:
            return None
        found += inner[0]
        if not inner[1]:
            return found, False
    return found, True


def _branch(alternatives: Any) -> tuple[_Items, bool] | None:
    found: _Items = []
    empty = False
    for alternative in alternatives:
        inner = _first(alternative.data)
        if inner is None:
            return None
        found += inner[0]
        empty = empty or inner[1]
    return found, empty


def _engine_scans(data: Any) -> bool:
    """Whether the engine itself skips to the first characters (a literal prefix, a class or
    literal alternatives up front), or the pattern is anchored at the start."""
    while data and data[0][0] is _c.SUBPATTERN:
        data = data[0][1][3].data
    if not data:
        return False
    op, av = data[0]
    if op in (_c.LITERAL, _c.IN, _c.AT):
        return True
    return op is _c.BRANCH and all(alt.data and alt.data[0][0] is _c.LITERAL
                                   for alt in av[1])


def _escape(code: int) -> str:
    char = chr(code)
    return "\\" + char if char in "\\]^-[" else char


def _class(items: _Items) -> str:
    parts: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            parts.append(_escape(av))
        elif op is _c.RANGE:
            parts.append(f"{_escape(av[0])}-{_escape(av[1])}")
        else:
            parts.append(_CATEGORIES[av])
    return "[" + "".join(dict.fromkeys(parts)) + "]"


def first_chars(pattern: str) -> str | None:
    """A character class of every character a match of `pattern` can start with, or None
    when the engine needs no help or the class is not known exactly."""
    if _parser is None:
        return None
    parsed = _parser.parse(pattern)
    if parsed.state.flags & ~re.UNICODE or _engine_scans(parsed.data):
        return None
    first = _first(parsed.data)
    if first is None or first[1] or not first[0]:
        return None
    return _class(first[0])


def compile_prefiltered(pattern: str) -> re.Pattern[str]:
    """`re.compile(pattern)`, led by a lookahead for its first characters where that helps."""
    chars = first_chars(pattern)
    return re.compile(pattern if chars is None else f"(?={chars})(?:{pattern})")
