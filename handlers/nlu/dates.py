"""Date words → calendar days, by the table of spec/nlu.md ("Dates and times").

Hand-written rules instead of a date library: the table is small and exact, and the
ambiguous forms (周X, M月D日, D号) need the report/plan rule, which no library knows.
`find_date` returns the first date mentioned (a span's first day); an ambiguous date keeps
both its past and its future occurrence until the intent is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.nlu.clauses import clause_span
from handlers.nlu.numbers import NUM, to_int
from handlers.nlu.prefilter import compile_prefiltered

_RELATIVE_DAYS = {
    "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "昨早": -1, "昨儿": -1,
    "今天": 0, "今日": 0, "今早": 0, "今晚": 0, "今儿": 0, "当天": 0,
    "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "明儿": 1, "后天": 2, "大后天": 3,
}
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7,
             "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "末": 6}

# Intents whose ambiguous date (周三, 3号) is the latest occurrence, not the next.
PAST_INTENTS = frozenset({"report", "correct", "checkin", "checkout"})

_REL_DAY = "|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True))
_WD = r"[一二三四五六日天七1-7末]"
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("full", rf"(?P<y>\d{{4}})\s*年\s*(?P<m>{NUM})\s*月\s*(?P<d>{NUM})\s*[日号]?"),
    ("full", r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    ("year_rel", rf"(?P<rel>今年|去年|明年|前年)\s*(?P<m>{NUM})\s*月\s*(?P<d>{NUM})\s*[日号]?"),
    ("month_rel", rf"(?P<rel>上个?月|下个?月|本月|这个?月)\s*(?P<d>{NUM})\s*[号日]"),
    ("week", rf"(?P<rel>本|这|上|下下|下)个?(?:周|星期|礼拜)(?P<wd>{_WD})"),
    ("weekday", rf"(?:周|星期|礼拜)(?P<wd>{_WD})"),
    ("rel_day", rf"(?P<word>{_REL_DAY})"),
    ("month_day", rf"(?<![\d.])(?P<m>{NUM})\s*月\s*(?P<d>{NUM})\s*[日号]?"),
    ("month_day", r"(?<![\d.:/-])(?P<m>\d{1,2})[./-](?P<d>\d{1,2})"
                  r"(?![\d.:/%]|\s*(?:分|元|倍|万|千|米|小时|课时|个|人|岁|%))"),
    # Not 3号楼, 为期三日, 一日研修: rooms, durations and "one day" are no dates.
    ("day", rf"(?<![\d月第每期共续近])(?P<d>(?![一两]\s*日){NUM})\s*[号日]"
            r"(?!子|常|记|期|程|楼|教室|室|门|线|车|馆|厅|院|机|内|游)"),
)


def _numbered(pattern: str, index: int) -> str:
    # One regex for all forms needs unique group names: y → y_3.
    return re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{m.group(1)}_{index}>", pattern)


_DATE_RE = compile_prefiltered(
    "|".join(f"(?P<k{i}>{_numbered(p, i)})" for i, (_, p) in enumerate(_PATTERNS))
)
# The group number of each form, and those of each part (y, m, d, rel, wd, word) across
# the forms, in the pattern's order: a match reads its groups by number, not by name.
_KINDS = tuple((_DATE_RE.groupindex[f"k{i}"], kind) for i, (kind, _) in enumerate(_PATTERNS))


def _part_groups() -> dict[str, tuple[int, ...]]:
    parts: dict[str, tuple[int, ...]] = {}
    for name, number in _DATE_RE.groupindex.items():  # in the pattern's order
        part = name.rsplit("_", 1)[0]
        parts[part] = (*parts.get(part, ()), number)
    return parts


_PARTS = _part_groups()


@dataclass(frozen=True)
class DateMention:
    """One date in the text: fixed, or ambiguous with both candidate days."""

    start: int
    end: int
    fixed: date | None = None
    past: date | None = None
    future: date | None = None
    # 'past' or 'future' when the date alone says so (昨天, 下周三: rule 1), else None.
    tense: str | None = None
    # A written date that does not exist (11.31, 2月30日): no day, and the bot asks.
    invalid: bool = False

    def nearest(self, today: date) -> date | None:
        if self.fixed is not None:
            return self.fixed
        if self.past is None or self.future is None:
            return self.past or self.future
        # The earlier occurrence wins a tie.
        return self.future if (self.future - today) < (today - self.past) else self.past

    def for_intent(self, intent: str) -> date | None:
        """Reports, corrections and check-ins take the latest occurrence on or before today;
        plans, leaves, cancels and reschedules the next one."""
        if self.fixed is not None:
            return self.fixed
        return self.past if intent in PAST_INTENTS else self.future


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month_day_past(today: date, month: int, day: int) -> date | None:
    for year in range(today.year, today.year - 5, -1):
        d = _safe_date(year, month, day)
        if d is not None and d <= today:
            return d
    return None


def _month_day_future(today: date, month: int, day: int) -> date | None:
    for year in range(today.year, today.year + 5):
        d = _safe_date(year, month, day)
        if d is not None and d >= today:
            return d
    return None


def _day_past(today: date, day: int) -> date | None:
    for delta in range(0, -13, -1):
        y, m = _shift_month(today.year, today.month, delta)
        d = _safe_date(y, m, day)
        if d is not None and d <= today:
            return d
    return None


def _day_future(today: date, day: int) -> date | None:
    for delta in range(0, 13):
        y, m = _shift_month(today.year, today.month, delta)
        d = _safe_date(y, m, day)
        if d is not None and d >= today:
            return d
    return None


def _invalid(start: int, end: int, month: int | None, day: int | None) -> DateMention | None:
    """A month and day that look like a date but name none (2月30日); else no date."""
    if month is None or day is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return DateMention(start, end, invalid=True)


def _tense_of(d: date, today: date) -> str | None:
    if d < today:
        return "past"
    if d > today:
        return "future"
    return None


def _mention(kind: str, m: re.Match[str], today: date) -> DateMention | None:
    start, end = m.span()
    groups = m.groups()

    def text(key: str) -> str:
        for number in _PARTS[key]:
            value = groups[number - 1]
            if value is not None:
                return value
        return ""

    def num(key: str) -> int | None:
        value = text(key)
        return to_int(value) if value else None

    if kind == "full":
        y, mo, d = num("y"), num("m"), num("d")
        if y is None or mo is None or d is None:
            return None
        fixed = _safe_date(y, mo, d)
        if fixed is None:
            return _invalid(start, end, mo, d)
        return DateMention(start, end, fixed=fixed, tense=_tense_of(fixed, today))
    if kind == "year_rel":
        mo, d = num("m"), num("d")
        shift = {"去年": -1, "明年": 1, "前年": -2}.get(text("rel"), 0)
        fixed = _safe_date(today.year + shift, mo, d) if mo and d else None
        if fixed is None:
            return _invalid(start, end, mo, d)
        return DateMention(start, end, fixed=fixed, tense=_tense_of(fixed, today))
    if kind == "rel_day":
        offset = _RELATIVE_DAYS[text("word")]
        tense = "past" if offset < 0 else "future" if offset > 0 else None
        return DateMention(start, end, fixed=today + timedelta(days=offset), tense=tense)
    if kind == "week":
        rel, wd = text("rel"), _WEEKDAYS[text("wd")]
        monday = today - timedelta(days=today.weekday())
        weeks = {"上": -1, "下": 1, "下下": 2}.get(rel, 0)
        fixed = monday + timedelta(days=7 * weeks + wd - 1)
        tense = "past" if weeks < 0 else "future" if weeks > 0 else None
        return DateMention(start, end, fixed=fixed, tense=tense)
    if kind == "weekday":
        target = _WEEKDAYS[text("wd")] - 1
        past = today - timedelta(days=(today.weekday() - target) % 7)
        future = today + timedelta(days=(target - today.weekday()) % 7)
        return DateMention(start, end, past=past, future=future)
    if kind == "month_rel":
        rel, d = text("rel"), num("d")
        if d is None:
            return None
        delta = -1 if rel.startswith("上") else 1 if rel.startswith("下") else 0
        y, mo = _shift_month(today.year, today.month, delta)
        fixed = _safe_date(y, mo, d)
        if fixed is None:
            return None
        tense = {-1: "past", 1: "future"}.get(delta)
        return DateMention(start, end, fixed=fixed, tense=tense)
    if kind == "month_day":
        mo, d = num("m"), num("d")
        if mo is None or d is None or not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        before, after = _month_day_past(today, mo, d), _month_day_future(today, mo, d)
        if before is None and after is None:
            return DateMention(start, end, invalid=True)
        return DateMention(start, end, past=before, future=after)
    if kind == "day":
        d = num("d")
        if d is None or not 1 <= d <= 31:
            return None
        return DateMention(start, end, past=_day_past(today, d), future=_day_future(today, d))
    return None


def _kind_of(m: re.Match[str]) -> str:
    groups = m.groups()
    for number, kind in _KINDS:
        if groups[number - 1] is not None:
            return kind
    return ""


# The second half of a span (11月18日—20日, 周一至周三) is no date of its own.
_SPAN_LINK = re.compile(r"\s*(?:至|到|-|—|–|~|～|、|和|或)\s*$")


def find_dates(text: str, today: date) -> list[DateMention]:
    """Every date mentioned, in order, without the second halves of spans."""
    out: list[DateMention] = []
    for m in _DATE_RE.finditer(text):
        mention = _mention(_kind_of(m), m, today)
        if mention is None:
            continue
        if out and _SPAN_LINK.match(text, out[-1].end, mention.start):
            continue
        out.append(mention)
    return out


def date_at(text: str, mentions: list[DateMention], anchor: int | None) -> DateMention | None:
    """The date of the event at `anchor` (its trigger or verb): the one in its clause —
    the last before the anchor, else the first after it — else the closest before it,
    else the first. Several dates in one clause without an anchor: the first."""
    if not mentions:
        return None
    if anchor is None or len(mentions) == 1:
        return mentions[0]
    start, stop = clause_span(text, anchor)
    before = [m for m in mentions if m.start < anchor]
    in_clause = [m for m in mentions if start <= m.start < stop]
    if in_clause:
        inside_before = [m for m in in_clause if m.start < anchor]
        return inside_before[-1] if inside_before else in_clause[0]
    return before[-1] if before else mentions[0]


def find_date(text: str, today: date) -> DateMention | None:
    """The first date mentioned: for a span (上周一至周三) that is its first day."""
    for m in _DATE_RE.finditer(text):
        mention = _mention(_kind_of(m), m, today)
        if mention is not None:
            return mention
    return None
