"""Odd characters out of incoming text before it is parsed or stored.

Chat clients and copy-paste bring zero-width characters (U+200B in 签到), control characters
(a NUL, which PostgreSQL cannot store in text or JSON) and lone surrogates (which no UTF-8
encoder accepts). Zero-width characters are removed (they join what they split), control
characters become a space (they separate), lone surrogates become U+FFFD; line breaks and
tabs stay. Imports nothing outside the stdlib.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Zero-width and direction marks, word joiners, the BOM / zero-width no-break space. U+200D
# (the emoji joiner) goes too: the parser drops emoji anyway.
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# C0/C1 controls but tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Any of the three: almost no text has one, and one search is cheaper than three passes.
_ODD = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
                  "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def drop_zero_width(text: str) -> str:
    return _ZERO_WIDTH.sub("", text)


def clean_text(text: str) -> str:
    """`text` without invisible characters, and encodable as UTF-8."""
    if _ODD.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", drop_zero_width(text)))


def clean_value(value: Any) -> Any:
    """Every string in a JSON-like value (dict keys included) cleaned; the rest as it was."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


# Any character `_ODD` finds, written as a JSON escape: \b, \f or \uXXXX of a control,
# zero-width, direction or surrogate code point. An escaped backslash before such letters
# matches too, which only costs the slow path.
_ESCAPED_ODD = re.compile(
    r"\\[bf]|\\u(?:00[01]|007f|00[89]|200[b-f]|202[a-e]|206[0-4]|feff|d[89a-f])",
    re.IGNORECASE)


def clean_json(value: Any) -> str:
    """A JSON-like value as JSON text with every string cleaned (as `clean_value`). Encoding
    first and searching the text once is several times cheaper than walking the value, and
    almost no payload has anything to clean (the acknowledgement path saves every event)."""
    text = json.dumps(value, ensure_ascii=False)
    return json_text_if_clean(text) or json.dumps(clean_value(value), ensure_ascii=False)


def json_text_if_clean(text: str) -> str | None:
    """JSON text as it came when none of its strings has anything to clean, else None (then
    decode, `clean_json`): a platform's own encoding is kept rather than done again."""
    if _ODD.search(text) is None and _ESCAPED_ODD.search(text) is None:
        return text
    return None
