"""Clock times in chat text (下午两点, 九点半, 14:30) → "HH:MM", by spec/nlu.md.

A morning word keeps the hour, an afternoon or evening word adds 12 to hours below 12.
Without one, 1–6 o'clock is the afternoon (schools do not meet at 3 a.m.: "3点开会" is
15:00) and 7–12 o'clock is taken as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import time

from handlers.nlu.numbers import NUM, to_int
from handlers.nlu.prefilter import compile_prefiltered

_AFTERNOON = ("下午", "晚上", "今晚", "昨晚", "明晚", "傍晚", "晚间", "夜里", "晚", "午后")
_NOON = ("中午",)
_PERIOD = (r"上午|早上|早晨|清晨|凌晨|半夜|早|今早|明早|昨早|下午|晚上|"
           r"今晚|昨晚|明晚|傍晚|晚间|夜里|"
           r"晚|中午|午后")
# Without a period word, hours up to this one are in the afternoon.
_BARE_AFTERNOON_UNTIL = 6
TIME = (
    rf"(?:(?P<period>{_PERIOD})\s*(?:约|大约|大概|准时|于)?\s*)?"
    rf"(?:(?P<h1>\d{{1,2}})\s*[:：]\s*(?P<m1>\d{{2}})"
    rf"|(?<![周期拜])(?P<h2>{NUM})\s*[点时](?:\s*(?P<half>半|一刻|三刻)|\s*(?P<m2>{NUM})\s*分?)?)"
)
_TIME_RE = compile_prefiltered(TIME)


@dataclass(frozen=True)
class TimeMention:
    start: int
    end: int
    hour: int
    minute: int
    # Whether a period word (上午, 下午, …) came with it.
    period: bool = False

    def clock(self) -> time:
        return time(self.hour, self.minute)


# "一点" and "两点要求" are "a bit" and "two points", not clock times.
_NOT_CLOCK = re.compile(r"\s*(?:要求|建议|意见|体会|内容|做法|收获|问题|感受|看法|思考|不足)")


def _vague(m: re.Match[str], text: str) -> bool:
    hour_text = m.group("h2") or ""
    if not hour_text or m.group("half") or m.group("m2"):
        return False
    if hour_text == "一":
        return True
    return not m.group("period") and bool(_NOT_CLOCK.match(text, m.end()))


def find_time(text: str) -> TimeMention | None:
    """The first clock time in `text`, or None."""
    return _first_time(text, 0)


def _first_time(text: str, pos: int, *, anchored: bool = False) -> TimeMention | None:
    matches = [_TIME_RE.match(text, pos)] if anchored else _TIME_RE.finditer(text, pos)
    for m in matches:
        if m is None:
            continue
        hour = to_int(m.group("h1") or m.group("h2") or "")
        if hour is None or hour > 24:
            continue
        minute: int | None = 0
        if m.group("m1"):
            minute = to_int(m.group("m1"))
        elif m.group("half"):
            minute = {"半": 30, "一刻": 15, "三刻": 45}[m.group("half")]
        elif m.group("m2"):
            minute = to_int(m.group("m2"))
        if minute is None or minute > 59:
            continue
        period = m.group("period") or ""
        if period in ("", "早", "晚") and _vague(m, text):
            continue
        bare = not period and 1 <= hour <= _BARE_AFTERNOON_UNTIL
        if (period in _AFTERNOON or (period in _NOON and hour < 6) or bare) and hour < 12:
            hour += 12
        if hour == 24:
            hour = 0
        return TimeMention(m.start(), m.end(), hour, minute, bool(period))
    return None


# "下午2点到4点", "14:30-16:30": the second time of a span; "至16点结束", "4点结束": an end.
_SPAN_LINK = re.compile(r"\s*(?:到|至|-|—|–|~|～)\s*")
_ENDS = re.compile(r"\s*(?:左右)?\s*(?:结束|散会|完毕|止)")


def find_end_time(text: str, start: TimeMention | None) -> TimeMention | None:
    """The end of the event that starts at `start`: the other half of a span, or a time
    followed by 结束. A bare end hour keeps the start's afternoon (下午2点到4点 → 16:00)."""
    end: TimeMention | None = None
    if start is not None:
        link = _SPAN_LINK.match(text, start.end)
        if link:
            end = _first_time(text, link.end(), anchored=True)
    if end is None:
        pos = start.end if start is not None else 0
        while (candidate := _first_time(text, pos)) is not None:
            if _ENDS.match(text, candidate.end):
                end = candidate
                break
            pos = candidate.end
    if end is None:
        return None
    if start is not None and not end.period and start.hour >= 12 > end.hour \
            and end.hour + 12 > start.hour:
        end = replace(end, hour=end.hour + 12)
    return end
