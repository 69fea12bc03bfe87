"""Raw chat text → the plain form every other step reads.

NFKC (full-width digits and punctuation to half-width), emoji and control characters
removed (zero-width ones without a trace: 签, U+200B, 到 is 签到), a leading @mention stripped,
length capped. Imports only handlers.cleantext.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.cleantext import drop_zero_width

# Emoji and pictographs; variation selectors and joiners glue them together.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff"
    "\U00002b00-\U00002bff\U0000fe00-\U0000fe0f\U0000200d\U000020e3\U00002300-\U000023ff]"
)
# A mention is a name without spaces; some clients separate it with U+2005.
_MENTION = re.compile(r"^\s*@[^\s@]{1,20}(?:\s+|$)")
_SPACES = re.compile(r"\s+")
_LINES = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
# WeChat placeholders for media ("[图片]", "[表情]") carry no words.
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,6}\]")
# What any clean-up step below would change, but for control and zero-width characters,
# which str.isprintable finds: whitespace (line breaks, runs, ends), emoji, "[" of a
# placeholder. Most messages hold none and skip the clean-up.
_UNTIDY = re.compile(rf"\s|\[|{_EMOJI.pattern}")


@dataclass(frozen=True)
class Normalized:
    text: str
    mentioned: bool
    bot_mentioned: bool = False


def _drop_controls(text: str) -> str:
    # isprintable() is False for every category below (Other and Separator but the ASCII
    # space): most messages hold none, and a look at each character costs a tenth of a parse.
    if text.isprintable():
        return text
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") else ch
        for ch in text
    )


def bot_mention_pattern(names: Sequence[str]) -> re.Pattern[str]:
    """The bot's own names may run straight into the text ("@教联助手签到")."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n)
    return re.compile(rf"^\s*@(?:{alternatives or '(?!)'})\s*")


DEFAULT_BOT = bot_mention_pattern(("教联助手",))


def normalize(raw: str, max_chars: int = 500, bot: re.Pattern[str] = DEFAULT_BOT) -> Normalized:
    """The first `max_chars` characters, normalised; leading @mentions stripped."""
    text = unicodedata.normalize("NFKC", raw[: max_chars * 2])[:max_chars]
    tidy = text.isprintable() and _UNTIDY.search(text) is None
    if not tidy:
        # A line break ends a clause (主题：…⏎人数：…), so it becomes a comma, not a space.
        text = _LINES.sub(",", text.strip())
        text = _EMOJI.sub(" ", text)
        text = _drop_controls(drop_zero_width(text))
    mentioned = bot_mentioned = False
    while True:
        match = bot.match(text)
        if match:
            bot_mentioned = True
        else:
            match = _MENTION.match(text)
            if not match:
                break
        mentioned = True
        text = text[match.end():]
    if not tidy:  # else what is left after a mention is as tidy as the whole was
        text = _PLACEHOLDER.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
    return Normalized(text=text, mentioned=mentioned, bot_mentioned=bot_mentioned)
