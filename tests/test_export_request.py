"""Export requests in chat: which document and which dates the words name."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.export_request import EXPORT, export_request
from handlers.periods import plain_period

TODAY = dt.date(2026, 11, 27)


def _ask(text: str, today: dt.date = TODAY) -> tuple[bool, dt.date, dt.date, str]:
    match = EXPORT.search(text)
    assert match is not None, text
    r = export_request(match, today, plain_period)
    return r.assessment, r.start, r.end, r.label


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("导出本月台账", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月"),
    ("导出台账", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月"),
    ("导出上个月的台账", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "2026年10月"),
    ("导出11月台账", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月"),
    ("导出九月份台账", dt.date(2026, 9, 1), dt.date(2026, 9, 30), "2026年9月"),
    ("导出12月台账", dt.date(2025, 12, 1), dt.date(2025, 12, 31), "2025年12月"),
    # The default school calendar's windows: a term counts from the day after the last ended.
    ("请导出本学期台账", dt.date(2026, 7, 11), dt.date(2027, 1, 22), "2026年秋季学期"),
    ("导出上学期台账", dt.date(2026, 1, 21), dt.date(2026, 7, 10), "2026年春季学期"),
    ("导出本季度台账", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026年第4季度"),
])
def test_ledger_periods(text: str, start: dt.date, end: dt.date, label: str) -> None:
    assert _ask(text) == (False, start, end, label)


def test_assessment_is_the_term_by_default() -> None:
    assert _ask("发一下考核表") == (True, dt.date(2026, 7, 11), dt.date(2027, 1, 22),
                                 "2026年秋季学期")
    assert _ask("发一下考核表", dt.date(2027, 3, 2))[3] == "2027年春季学期"


@pytest.mark.parametrize("text", ["导出本月台账了吗大家", "台账怎么写", "我把台账导出来了",
                                  "导出13月台账"])
def test_other_sentences_are_not_requests(text: str) -> None:
    assert EXPORT.search(text) is None
