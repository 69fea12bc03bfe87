"""handlers.nlu.prefilter: a guarded pattern finds exactly what the plain one finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.nlu.dates import _PATTERNS, _numbered
from handlers.nlu.lexicon import CUES, FUTURE_MARKERS, PAST_MARKERS, PEOPLE, SHAPES
from handlers.nlu.prefilter import compile_prefiltered, lookahead
from handlers.nlu.slots import _PARTICIPANT_SHAPES, alternation
from handlers.nlu.times import TIME


@pytest.mark.parametrize(("pattern", "guard"), [
    (r"(?<![检调])查看|统计", "(?=[查统])"),
    (r"(?:下午)?\s*(?P<h>\d{1,2})点", r"(?=[下\s\d])"),
    (r"^(?:我是|本人)|(?:老|教)师", "(?=[我本老教])"),
    (r"a*b?c", "(?=[abc])"),
    (r"[x-z]+|(?=q)w", "(?=[x-zw])"),
    # Case-insensitive, or nothing at all, but only at the start of the text.
    (r"(?<!a)x|(?i:^help)", "(?:^|(?=[x]))"),
    (r"(?<!a)x|^", "(?:^|(?=[x]))"),
])
def test_lookahead(pattern: str, guard: str) -> None:
    assert lookahead(pattern) == guard


@pytest.mark.parametrize("pattern", [
    r"签到|签退",  # the engine skips ahead by itself (literal alternatives)
    r"^(?:a|b)c",  # anchored at the start: tried once
    r"(?:x)?",  # can match nothing
    r"(?<!a).b|c",  # any character first
    r"(?<!a)[^b]c|d",  # a negated class first
    r"(?<!a)(?i:b)|c",  # case-insensitive
    r"(?<!a)b|(?m:^c)",  # multi-line: ^ after every line break
])
def test_left_alone(pattern: str) -> None:
    assert lookahead(pattern) is None
    assert compile_prefiltered(pattern).pattern == pattern


_PATTERNS_UNDER_TEST = [
    *("|".join(f"(?:{p})" for p in family) for family in (*CUES.values(), *SHAPES.values())),
    "|".join(f"(?:{p})" for p in FUTURE_MARKERS),
    "|".join(f"(?:{p})" for p in PAST_MARKERS),
    "|".join(f"(?P<k{i}>{_numbered(p, i)})" for i, (_, p) in enumerate(_PATTERNS)),
    TIME,
    *(shape.replace("{people}", alternation(PEOPLE)) for shape in _PARTICIPANT_SHAPES),
]
# Characters the patterns above care about, and some they do not.
_ALPHABET = "".join(sorted({ch for p in _PATTERNS_UNDER_TEST for ch in p if ord(ch) > 127}
                           | set("0123456789 ,.:?!-/年月日号点半abhelpHELP")))


def _found(pattern: re.Pattern[str], text: str) -> list[object]:
    spans = [(m.span(), m.groupdict()) for m in pattern.finditer(text)]
    anchored = [(m.span(), m.groupdict()) if (m := pattern.match(text, i)) else None
                for i in range(len(text) + 1)]
    return [spans, anchored, [m.span() if (m := pattern.search(text, i, len(text) - 1)) else None
                              for i in range(len(text))]]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_same_matches(text: str) -> None:
    for source in _PATTERNS_UNDER_TEST:
        plain, guarded = re.compile(source), compile_prefiltered(source)
        assert _found(plain, text) == _found(guarded, text), source
