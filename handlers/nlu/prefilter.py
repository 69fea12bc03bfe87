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
library's own parser). Alternatives anchored at the start of the text (`^`) may start with
anything there, so the lookahead lets the start through too. Whatever the reading does not
cover exactly (case-insensitive text away from the start, negated classes, `.`,
back-references, flags other than `i`, a pattern that can match nothing) leaves the pattern
as written. Imports nothing outside the stdlib.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, NamedTuple

try:
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
except ImportError:  # another Python's internals: every pattern stays as written
    _parser = _c = None


class _First(NamedTuple):
    """What a piece of pattern can start with."""

    # Items of a character class (re._parser's (op, value) pairs).
    chars: list[tuple[Any, Any]]
    # It can match the empty string.
    empty: bool
    # Some of its matches start only at the start of the text, with any character.
    at_start: bool = False


def _category_escapes() -> dict[Any, str]:
    if _c is None:
        return {}
    return {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D",
            _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_NOT_SPACE: r"\S",
            _c.CATEGORY_WORD: r"\w", _c.CATEGORY_NOT_WORD: r"\W"}


_CATEGORIES = _category_escapes()


def _class_items(op: Any, av: Any) -> list[tuple[Any, Any]] | None:
    """The class items of a literal or a class that can be written back exactly."""
    if op is _c.LITERAL:
        return [(op, av)]
    if any(o not in (_c.LITERAL, _c.RANGE, _c.CATEGORY)
           or (o is _c.CATEGORY and a not in _CATEGORIES) for o, a in av):
        return None  # negated, or a category without an escape
    return list(av)


def _first(items: Any, nocase: bool = False) -> _First | None:
    """What the sequence `items` can start with; None when that is not known exactly."""
    chars: list[tuple[Any, Any]] = []
    at_start = False
    for index, (op, av) in enumerate(items):
        if op is _c.AT and av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
            rest = _first(items[index + 1:], nocase)
            if rest is None or rest.empty:
                return _First(chars, False, True)
            return _First(chars + rest.chars, False, at_start or rest.at_start)
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: the next item consumes the first character
        if op in (_c.LITERAL, _c.IN):
            found = None if nocase else _class_items(op, av)
            return None if found is None else _First(chars + found, False, at_start)
        inner = _inner(op, av, nocase)
        if inner is None:
            return None
        chars += inner.chars
        at_start = at_start or inner.at_start
        if not inner.empty:
            return _First(chars, False, at_start)
    return _First(chars, True, at_start)


def _inner(op: Any, av: Any, nocase: bool) -> _First | None:
    """What a group, a set of alternatives or a repeat can start with."""
    if op is _c.SUBPATTERN:
        _, add, remove, pattern = av
        if (add | remove) & ~re.IGNORECASE:
            return None  # multi-line, ASCII, … change what ^ or \d mean
        return _first(pattern.data, (nocase or bool(add)) and not remove)
    if op is _c.ATOMIC_GROUP:
        return _first(av.data, nocase)
    if op is _c.BRANCH:
        firsts = [_first(alternative.data, nocase) for alternative in av[1]]
        if any(f is None for f in firsts):
            return None
        return _First([item for f in firsts if f for item in f.chars],
                      any(f.empty for f in firsts if f), any(f.at_start for f in firsts if f))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        inner = _first(av[2].data, nocase)
        return inner if inner is None or av[0] else inner._replace(empty=True)
    return None


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


def _class(items: list[tuple[Any, Any]]) -> str:
    parts: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            parts.append(_escape(av))
        elif op is _c.RANGE:
            parts.append(f"{_escape(av[0])}-{_escape(av[1])}")
        else:
            parts.append(_CATEGORIES[av])
    return "[" + "".join(dict.fromkeys(parts)) + "]"


def lookahead(pattern: str) -> str | None:
    """The lookahead for the first characters of `pattern`'s matches (the start of the text
    let through when some match only there), or None when the engine needs no help or the
    characters are not known exactly."""
    if _parser is None:
        return None
    parsed = _parser.parse(pattern)
    if parsed.state.flags & ~re.UNICODE or _engine_scans(parsed.data):
        return None
    first = _first(parsed.data)
    if first is None or first.empty or not first.chars:
        return None
    chars = _class(first.chars)
    return f"(?:^|(?={chars}))" if first.at_start else f"(?={chars})"


def compile_prefiltered(pattern: str) -> re.Pattern[str]:
    """`re.compile(pattern)`, led by a lookahead for its first characters where that helps."""
    guard = lookahead(pattern)
    return re.compile(pattern if guard is None else f"{guard}(?:{pattern})")
