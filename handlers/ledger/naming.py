"""Chinese file names for exports: 融安县实验小学教共体_活动台账_2026年11月.xlsx."""

from __future__ import annotations

import datetime as dt
import re

from handlers.ledger import vocab
from handlers.periods import Period

_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "jiaolian"


def file_name(scope_name: str, start: dt.date, end: dt.date, ext: str = "xlsx") -> str:
    """A ledger's file name: scope, 活动台账, and the month (or the range)."""
    return f"{_safe(scope_name)}_{vocab.EVENTS_SHEET}_{vocab.span_label(start, end)}.{ext}"


def assessment_file_name(scope_name: str, term: Period) -> str:
    """融安县实验小学教共体_考核表_2026年秋季学期.xlsx."""
    return f"{_safe(scope_name)}_{vocab.ASSESSMENT_DOC}_{vocab.period_label(term)}.xlsx"
