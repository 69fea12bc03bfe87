"""活动台账 as CSV: UTF-8 with a BOM (so Excel on Windows reads the Chinese), a header row,
and one record per event; a line break inside a cell is quoted, never a new record."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from handlers.ledger import vocab
from handlers.ledger.model import Ledger
from handlers.ledger.rows import event_values


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def csv_bytes(ledger: Ledger) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(vocab.EVENT_HEADERS)
    for values in event_values(ledger):
        writer.writerow([_cell(v) for v in values])
    return out.getvalue().encode("utf-8-sig")
