"""What an export asked for in chat means: which document, which dates, and whose scope.

`导出本月台账`, `导出上学期台账`, `导出11月台账`, `发一下考核表`: the words name a document and a
period; the asker's role names the scope (a principal their school, the lead school's
principal the community, an admin the county). Pure: no database, no files.
Imports handlers.periods only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from handlers.periods import Period, PeriodOf, add_months

EXPORT = re.compile(
    r"^\s*(?:请|麻烦)?(?:帮我|给我)?(?:导出|下载|发一下|发个|发一份|要一份|来一份|发我)\s*"
    r"(?P<when>本月|这个月|这月|上月|上个月|本学期|这学期|这个学期|上学期|上个学期|"
    r"本季度|这个季度|上季度|上个季度|本学年|这学年|"
    r"(?:[1-9]|1[0-2]|[一二三四五六七八九十]|十[一二])月(?:份)?)?"
    r"\s*(?:的)?\s*(?:活动)?(?P<what>台账|考核表|签到表|签到簿|报表)\s*(?:吧|呗)?\s*[。!！]?\s*$"
)

_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12}


@dataclass(frozen=True)
class ExportRequest:
    assessment: bool  # 考核表: the term's bundled assessment, not the ledger
    start: dt.date
    end: dt.date  # inclusive
    label: str  # how the reply names the range: 11月 / 2026年秋季学期


def _month_number(word: str) -> int:
    digits = word.rstrip("份").rstrip("月")
    return int(digits) if digits.isdigit() else _CN_MONTHS[digits]


def _month(first: dt.date) -> tuple[dt.date, dt.date, str]:
    return first, add_months(first, 1) - dt.timedelta(days=1), f"{first.year}年{first.month}月"


def _span(period: Period) -> tuple[dt.date, dt.date]:
    return period.start, period.end - dt.timedelta(days=1)


def term_name(period: Period) -> str:
    """2026-autumn → 2026年秋季学期 (the label the calendar gives a semester)."""
    year, _, season = period.label.partition("-")
    return f"{year}年{'秋季' if season == 'autumn' else '春季'}学期"


def export_request(match: re.Match[str], today: dt.date, period_of: PeriodOf) -> ExportRequest:
    """The dates a matched export names; without a period, this month (the term for 考核表)."""
    when = match.group("when") or ""
    assessment = match.group("what") == "考核表"
    first = today.replace(day=1)
    if "学期" in when or (assessment and not when):
        term = period_of("semester", today)
        if when.startswith("上"):
            term = period_of("semester", term.start - dt.timedelta(days=1))
        start, end = _span(term)
        return ExportRequest(assessment, start, end, term_name(term))
    if "学年" in when:
        year = period_of("year", today)
        start, end = _span(year)
        return ExportRequest(assessment, start, end, f"{start.year}—{end.year}学年")
    if "季度" in when:
        quarter = period_of("quarter", today)
        if when.startswith("上"):
            quarter = period_of("quarter", quarter.start - dt.timedelta(days=1))
        start, end = _span(quarter)
        return ExportRequest(assessment, start, end,
                             f"{start.year}年第{(start.month - 1) // 3 + 1}季度")
    if when.startswith("上"):
        return ExportRequest(assessment, *_month(add_months(first, -1)))
    if when and when[0] not in "本这":
        number = _month_number(when)
        # The latest such month not after this one: 12月 asked in January is last December.
        in_year = today.year if number <= today.month else today.year - 1
        return ExportRequest(assessment, *_month(dt.date(in_year, number, 1)))
    return ExportRequest(assessment, *_month(first))
