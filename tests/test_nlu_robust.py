"""The parser never fails and stays bounded, whatever text arrives (hypothesis)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.nlu.parser import KEYS, Parser, ParseResult
from tests import nlu_fixtures

# One Parser for the whole session (it owns its tokenizer; building one costs ~0.5 s).
parser = nlu_fixtures.parser

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
INTENTS = {"checkin", "checkout", "report", "plan", "leave", "query", "undo", "help", "bind",
           "unknown"}
# CJK characters that carry none of the parser's cue words, triggers or date words.
# The session-scoped parser is built once; hypothesis need not re-create it per example.
SLOW_FIXTURE = [HealthCheck.function_scoped_fixture]
NOISE = "甲乙丙丁戊己庚辛壬癸山水木火土风云雨雪花草鸟鱼虫石竹松柏桃李杏梅兰菊荷"


def well_formed(result: ParseResult) -> None:
    data = result.as_dict()
    assert set(KEYS) <= set(data)
    assert data["intent"] in INTENTS
    assert 0.0 <= data["confidence"] <= 1.0
    for key in ("topic", "name"):
        assert data[key] is None or len(data[key]) <= 100
    for key in ("date", "from_date"):
        assert data[key] is None or type(data[key]) is date
    for key in ("time", "end_time"):
        assert data[key] is None or (isinstance(data[key], dtime)
                                     and data[key].second == data[key].microsecond == 0)
    text = result.as_json()
    assert text["date"] == (data["date"].isoformat() if data["date"] else None)
    assert text["time"] == (data["time"].strftime("%H:%M") if data["time"] else None)
    assert data["participants"] is None or 0 < data["participants"] < 100_000


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_FIXTURE)
@given(st.text(max_size=300))
def test_any_unicode_parses(parser: Parser, text: str) -> None:
    well_formed(parser.parse(text, NOW))


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_FIXTURE)
@given(st.lists(st.sampled_from(
    list("０１２３４５６７８９：，。！？＠　") + ["😀", "👍", "\u200d", "\x00", "\x1b", "\ufe0f",
                                               "\u2005", "\r", "\t", "签到", "月", "日",
                                               "号", "周", "下午", "点", "人", "《", "》"]
), max_size=80).map("".join))
def test_full_width_emoji_and_controls(parser: Parser, text: str) -> None:
    well_formed(parser.parse(text, NOW))


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_FIXTURE)
@given(st.text(alphabet=NOISE, min_size=1, max_size=60))
def test_cjk_noise_is_unknown(parser: Parser, text: str) -> None:
    result = parser.parse(text, NOW)
    assert result.intent == "unknown"
    assert result.activity is None


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_FIXTURE)
# hypothesis takes naive bounds and attaches the zone itself.
@given(st.datetimes(min_value=datetime(2000, 1, 1),  # noqa: DTZ001
                    max_value=datetime(2090, 12, 31),  # noqa: DTZ001
                    timezones=st.just(ZoneInfo("Asia/Shanghai"))),
       st.sampled_from(["29号开展了送教", "2月29日开展了集体备课", "31号开展家访",
                        "周日开展了研学", "上个月31号开展了培训", "下个月31号开展培训"]))
def test_dates_at_any_moment(parser: Parser, now: datetime, text: str) -> None:
    result = parser.parse(text, now)
    well_formed(result)
    if result.date is not None:
        gap = abs((result.date - now.date()).days)
        assert gap <= 4 * 366


def test_huge_message_is_capped(parser: Parser) -> None:
    text = "今天开展了数学集体备课，" + "很好" * 5000
    assert len(text) > 10_000
    start = time.perf_counter()
    result = parser.parse(text, NOW)
    elapsed = time.perf_counter() - start
    well_formed(result)
    assert result.activity == "lesson_prep"
    assert elapsed < 0.5


def test_cue_beyond_the_cap_is_not_seen(parser: Parser) -> None:
    assert parser.parse("哈" * 600 + "签到", NOW).intent == "unknown"


def test_noise_ten_thousand_chars_is_unknown(parser: Parser) -> None:
    result = parser.parse(NOISE * (10_000 // len(NOISE) + 1), NOW)
    assert result.intent == "unknown"


def test_other_offset_uses_its_own_today(parser: Parser) -> None:
    utc_evening = datetime(2026, 11, 25, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert parser.parse("签到", utc_evening).date == date(2026, 11, 25)
    assert parser.parse("签到", utc_evening.astimezone(NOW.tzinfo)).date == date(2026, 11, 26)
    assert parser.parse("昨天开展了集备", NOW + timedelta(days=1)).date == date(2026, 11, 26)
