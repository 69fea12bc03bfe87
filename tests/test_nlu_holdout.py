"""The parser on an independent held-out set written from spec/nlu.md by someone who never
read the parser. It guards generalisation; the failure message gives figures only, so the set
stays a fair measure rather than a list of sentences to patch.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from handlers.nlu import Parser
from storage.demo_county import demo_schools

HOLDOUT = Path(__file__).parent / "data" / "nlu_holdout.jsonl"


def _norm(key: str, value: object) -> object:
    if isinstance(value, str):
        value = value.strip().strip("《》“”\"'「」").strip()
        if key == "topic":
            value = value.replace(" ", "")
        return value or None
    return value


def test_holdout_accuracy() -> None:
    rows = [json.loads(line) for line in HOLDOUT.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    parser = Parser(schools=demo_schools())
    intent_ok = exact = 0
    for row in rows:
        got = parser.parse(row["text"], datetime.fromisoformat(row["now"])).as_dict()
        want = row["expect"]
        intent_ok += got["intent"] == want["intent"]
        exact += all(_norm(k, got.get(k)) == _norm(k, v) for k, v in want.items())
    n = len(rows)
    assert n >= 300
    assert intent_ok / n >= 0.97, f"intent {intent_ok}/{n}"
    assert exact / n >= 0.95, f"exact {exact}/{n}"
