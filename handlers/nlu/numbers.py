"""Numbers in chat text: Arabic or Chinese numerals (十二, 两, 三十五) → int.

cn2an only ever sees an extracted numeral span, never a sentence; single characters
(两, 十), tens (十五, 三十二) and digits need no call at all. Imports cn2an only, on first use.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

CN_DIGITS = "零〇一二两三四五六七八九十百千"
# A number as teachers write it: digits, or Chinese numerals.
NUM = rf"(?:\d{{1,4}}|[{CN_DIGITS}]{{1,6}})"
NUM_RE = re.compile(NUM)
_SIMPLE = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9, "十": 10}
_NINE = "一二三四五六七八九"


def _tens() -> dict[str, int]:
    """十一 … 九十九 (and 一十, 二十, …): head counts mostly, read without cn2an, which takes
    a tenth of a parse for each (tests/test_nlu_parts checks that both agree)."""
    digits = [("", 0), *((d, n) for n, d in enumerate(_NINE, 1))]
    return {f"{tens}十{ones}": (t or 1) * 10 + o
            for tens, t in digits for ones, o in digits}


# Numerals read without cn2an.
COMMON = {**_tens(), **_SIMPLE}


@functools.cache
def _cn2an() -> Any:
    # cn2an costs ~90 ms to import; most messages never need it, so it loads on first use.
    return importlib.import_module("cn2an")


def to_int(span: str) -> int | None:
    """`span` (a whole numeral, nothing else) as an int, or None if it is not one."""
    span = span.strip()
    if not span:
        return None
    if span.isdigit():
        return int(span)
    if span in COMMON:
        return COMMON[span]
    try:
        value = _cn2an().cn2an(span.replace("〇", "零"), "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return int(value) if float(value).is_integer() else None
