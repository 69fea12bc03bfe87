"""`jiaolian parse`: the parser's contract on the command line (spec/nlu.md).

One JSON object per message; batch mode reads stdin line by line so start-up is paid once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from handlers.nlu import Parser
from handlers.nlu.parser import KEYS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# One encoder for every line: json.dumps(…, ensure_ascii=False) builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(SHANGHAI)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def result_json(parser: Parser, text: str, now: datetime) -> str:
    data = parser.parse(text, now).as_json()
    ordered = {k: data.get(k) for k in KEYS}
    for k, v in data.items():  # the other keys after the contract's, in their order
        ordered.setdefault(k, v)
    return _ENCODE(ordered)


def run_parse(parser: Parser, texts: Sequence[str], now: datetime, out: TextIO) -> None:
    for text in texts:
        out.write(result_json(parser, text, now) + "\n")


def run_batch(parser: Parser, now: datetime, src: TextIO = sys.stdin,
              out: TextIO = sys.stdout) -> None:
    for line in src:
        out.write(result_json(parser, line.rstrip("\r\n"), now) + "\n")
    out.flush()
