"""The parser's parts: config overrides, tokenizer set-up, normalisation, numbers, dates."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.nlu.dates import find_date
from handlers.nlu.lexicon import ACTIVITIES, activity_names, build_lexicon
from handlers.nlu.normalize import normalize
from handlers.nlu.numbers import COMMON, to_int
from handlers.nlu.parser import Parser
from handlers.nlu.slot_json import clock_of, clock_text, slots_from_json, slots_to_json
from handlers.nlu.slots import MASK, mask
from handlers.nlu.times import find_time
from handlers.nlu.tokenizer import BLOCKS, USER_FREQ, DomainTokenizer
from storage.demo_county import demo_schools

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()

SETTINGS = {
    "activities": {
        "reading": {"name": "读书分享", "triggers": ["读书分享", "共读"]},
        "home_visit": {"triggers": ["上门走访"]},
    },
    "subjects": {"科学": ["自然"], "法语": []},
    "non_activity_nouns": ["培训部"],
    "cues": {"checkin": ["到岗"]},
    "periods": {"this_month": ["这一月"]},
}


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Parser:
    return Parser(schools=demo_schools(), settings=SETTINGS,
                  cache_dir=tmp_path_factory.mktemp("cache"))


def test_config_adds_an_activity(custom: Parser) -> None:
    result = custom.parse("昨天开展了读书分享", NOW)
    assert (result.intent, result.activity) == ("report", "reading")


def test_config_extends_an_activity(custom: Parser) -> None:
    assert custom.parse("昨天上门走访了两个学生", NOW).activity == "home_visit"
    assert custom.parse("昨天开展了家访", NOW).activity == "home_visit"


def test_config_adds_subject_aliases_and_subjects(custom: Parser) -> None:
    assert custom.parse("昨天自然组集体备课", NOW).subject == "科学"
    assert custom.parse("昨天法语组集体备课", NOW).subject == "法语"


def test_config_blocks_a_noun(custom: Parser) -> None:
    assert custom.parse("昨天培训部开展了读书分享", NOW).activity == "reading"


def test_config_adds_cues_and_periods(custom: Parser) -> None:
    assert custom.parse("到岗", NOW).intent == "checkin"
    assert custom.parse("这一月开展了几次集备", NOW).period == "this_month"


def test_defaults_do_not_know_the_additions(tmp_path: Path) -> None:
    parser = Parser(schools=demo_schools(), settings=None, cache_dir=tmp_path)
    assert parser.parse("昨天开展了读书分享", NOW).activity is None
    assert parser.parse("到岗", NOW).intent == "unknown"


def test_activity_names() -> None:
    names = activity_names()
    assert names["lesson_prep"] == "集体备课"
    assert set(names) == set(ACTIVITIES)
    assert activity_names(SETTINGS)["reading"] == "读书分享"


def test_config_can_move_a_trigger() -> None:
    lex = build_lexicon({"activities": {"lecture": {"name": "专题讲座", "triggers": ["讲座"]}}})
    assert lex.trigger_map()["讲座"] == "lecture"
    assert "讲座" not in lex.activities["training"][1]


def test_replace_triggers() -> None:
    lex = build_lexicon({"activities": {"training": {"triggers": ["进修"], "replace": True}}})
    assert lex.activities["training"][1] == ("进修",)


def test_tokenizer_keeps_roster_words_whole_and_writes_nothing(tmp_path: Path) -> None:
    tok = DomainTokenizer(["集体备课", "泗顶中心校"], cache_dir=tmp_path / "c")
    assert not (tmp_path / "c").exists()
    assert "集体备课" in tok.tokens("今天开展了数学集体备课")
    assert "泗顶中心校" in tok.tokens("到泗顶中心校送教")


@pytest.mark.parametrize("text", [
    "今天开展了数学集体备课，12人参加。下午 听课3节", "签到", "", "  备课,,集体备课 abc-12 集备",
    "上周一至周三在县实小参加了赛课活动,我上了一节数学课", "前天晚上8点网络教研 主题“双减”",
])
def test_tokenizer_segments_only_wanted_blocks_and_the_same_way(text: str) -> None:
    """A block's tokens do not depend on the other blocks: segmenting only the blocks that
    hold a word gives exactly those blocks' tokens of the whole text."""
    tok = DomainTokenizer(["集体备课"])
    full = tok.spans(text)
    assert "".join(t for _, _, t in full) == text
    for word in ("备课", "集", "听课", "数学", "x"):
        wanted = [m.span() for m in BLOCKS.finditer(text) if word in m.group(0)]
        inside = [t for t in full if any(s <= t[0] < e for s, e in wanted)]
        assert tok.spans(text, lambda block, word=word: word in block) == inside, word


def test_tokenizer_scores_paths_against_jiebas_total() -> None:
    """The shipped dictionary's padding entry keeps jieba's total frequency, so a path with
    more tokens pays what it pays with the full dictionary."""
    tok = DomainTokenizer([])
    ours = sum(1 for f in tok._jieba.FREQ.values() if f == USER_FREQ)
    assert tok._jieba.total == 60_101_964 + USER_FREQ * ours  # jieba 0.42.1's dict.txt
    assert tok.tokens("\ue000") == ["\ue000"]


def test_tokenizer_is_not_jiebas_global(tmp_path: Path) -> None:
    import jieba

    tok = DomainTokenizer(["青蓝工程"], cache_dir=tmp_path)
    assert tok._jieba is not jieba.dt
    assert "青蓝工程" not in jieba.dt.FREQ or jieba.dt.FREQ["青蓝工程"] < 2_000_000


def test_jieba_is_quiet(tmp_path: Path) -> None:
    DomainTokenizer([], cache_dir=tmp_path)
    assert logging.getLogger("jieba").getEffectiveLevel() >= logging.WARNING


@pytest.mark.parametrize(("raw", "text", "mentioned"), [
    ("@教联助手 签到", "签到", True),
    ("＠王老师　签到", "签到", True),
    ("@教联助手\u2005签到", "签到", True),
    ("签到👍👍", "签到", False),
    ("１２人，参加", "12人,参加", False),
    ("a\x00b\x1bc", "a b c", False),
    ("[图片]", "", False),
    ("@教联助手", "", True),
])
def test_normalize(raw: str, text: str, mentioned: bool) -> None:
    norm = normalize(raw)
    assert (norm.text, norm.mentioned) == (text, mentioned)


def test_bot_mention_without_a_space() -> None:
    norm = normalize("@教联助手签到")
    assert (norm.text, norm.bot_mentioned) == ("签到", True)
    assert not normalize("@王老师 签到").bot_mentioned


def test_config_adds_bot_names(custom: Parser) -> None:
    assert Parser(schools=[], settings={"bot_names": ["小教"]}).parse(
        "@小教", NOW).intent == "help"
    assert custom.parse("@小教", NOW).intent == "unknown"


def test_normalize_caps_length() -> None:
    assert len(normalize("字" * 10_000, max_chars=500).text) == 500


@pytest.mark.parametrize(("span", "value"), [
    ("12", 12), ("十二", 12), ("两", 2), ("二十", 20), ("三十五", 35), ("一百零八", 108),
    ("零", 0), ("", None), ("十十十", None),
])
def test_to_int(span: str, value: int | None) -> None:
    assert to_int(span) == value


def test_numerals_read_without_cn2an_read_as_cn2an_reads_them() -> None:
    import cn2an

    for span, value in COMMON.items():
        assert value == int(cn2an.cn2an(span.replace("〇", "零"), "smart")), span


@pytest.mark.parametrize(("text", "fixed", "past", "future"), [
    ("今天", date(2026, 11, 26), None, None),
    ("大前天", date(2026, 11, 23), None, None),
    ("后天", date(2026, 11, 28), None, None),
    ("这星期一", date(2026, 11, 23), None, None),
    ("上礼拜日", date(2026, 11, 22), None, None),
    ("下星期五", date(2026, 12, 4), None, None),
    ("上个月31号", date(2026, 10, 31), None, None),
    ("下个月1号", date(2026, 12, 1), None, None),
    ("2026年2月3日", date(2026, 2, 3), None, None),
    ("2026-02-03", date(2026, 2, 3), None, None),
    ("星期四", None, date(2026, 11, 26), date(2026, 11, 26)),
    ("礼拜六", None, date(2026, 11, 21), date(2026, 11, 28)),
    ("11月26日", None, date(2026, 11, 26), date(2026, 11, 26)),
    ("1月5号", None, date(2026, 1, 5), date(2027, 1, 5)),
    ("12/25", None, date(2025, 12, 25), date(2026, 12, 25)),
    ("30号", None, date(2026, 10, 30), date(2026, 11, 30)),
    ("31日", None, date(2026, 10, 31), date(2026, 12, 31)),
    ("11.23-11.25", None, date(2026, 11, 23), date(2027, 11, 23)),
    ("二十一日", None, date(2026, 11, 21), date(2026, 12, 21)),
    ("去年3月1日", date(2025, 3, 1), None, None),
])
def test_find_date(text: str, fixed: date | None, past: date | None,
                   future: date | None) -> None:
    mention = find_date(text, TODAY)
    assert mention is not None
    assert (mention.fixed, mention.past, mention.future) == (fixed, past, future)


@pytest.mark.parametrize("text", ["12月中旬", "第3次", "一人一课", "两节课", "3.5分", "在3号楼",
                                  "为期三日", "一日研修", "下周"])
def test_no_date(text: str) -> None:
    assert find_date(text, TODAY) is None


@pytest.mark.parametrize(("text", "clock"), [
    ("上午九点", "09:00"), ("早上8点半", "08:30"), ("下午两点", "14:00"),
    ("晚上7点", "19:00"), ("今晚八点", "20:00"), ("明早7点", "07:00"), ("中午12点", "12:00"),
    ("下午2:30", "14:30"), ("8:30", "08:30"), ("14:30", "14:30"), ("14点30分", "14:30"),
    ("十点一刻", "10:15"), ("下午十二点", "12:00"), ("明晚七点半", "19:30"),
    ("早一点", None), ("提两点建议", None), ("三节课", None), ("提出3点要求", None),
    ("下午三点钟", "15:00"), ("两点十分", "14:10"), ("9时30分", "09:30"),
    # A bare hour: 1–6 is the afternoon of a school day, 7–12 as written.
    ("3点开会", "15:00"), ("周五三点", "15:00"), ("礼拜三三点半", "15:30"), ("6点半", "18:30"),
    ("3:30", "15:30"), ("7点", "07:00"), ("12点", "12:00"), ("凌晨3点", "03:00"),
    ("中午1点", "13:00"), ("上午11点", "11:00"),
])
def test_find_time(text: str, clock: str | None) -> None:
    found = find_time(text)
    assert clock_text(found.clock() if found else None) == clock


def test_slot_json_round_trip() -> None:
    typed = {"date": date(2026, 11, 26), "from_date": None, "time": time(9, 5),
             "end_time": time(16, 0), "topic": "10:00 的课", "participants": 9,
             "more": [{"date": date(2026, 11, 27), "time": None}]}
    text = slots_to_json(typed)
    assert text == {"date": "2026-11-26", "from_date": None, "time": "09:05",
                    "end_time": "16:00", "topic": "10:00 的课", "participants": 9,
                    "more": [{"date": "2026-11-27", "time": None}]}
    assert json.loads(json.dumps(text)) == text
    assert slots_from_json(text) == typed
    assert typed["date"] == date(2026, 11, 26)
    assert (clock_of("07:30"), clock_of(None), clock_of("")) == (time(7, 30), None, None)


@pytest.mark.parametrize(("spans", "masked"), [
    ([], "abcdef"), ([(1, 3)], "a□□def"), ([(1, 2), (4, 6)], "a□cd□□"),
    ([(4, 6), (1, 2)], "a□cd□□"),  # out of order
    ([(1, 4), (2, 5)], "a□□□□f"),  # overlapping
    ([(4, 9)], "abcd□□□□□"),  # past the end: the text grows, as it always did
    ([(3, 1)], "abcdef"),  # empty the wrong way round
])
def test_mask(spans: list[tuple[int, int]], masked: str) -> None:
    assert MASK == "□"
    assert mask("abcdef", spans) == masked


def test_cli_prints_json_and_nothing_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "TMPDIR": str(tmp_path / "tmp")}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--demo", "--now", NOW.isoformat()],
        input="@教联助手 签到\n昨天开展了集备，１２人参加\n", capture_output=True, text=True,
        env=env, timeout=60, check=True,
    )
    assert done.stderr == ""
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["intent"] for r in rows] == ["checkin", "report"]
    assert rows[1]["participants"] == 12
    assert [p.name for p in tmp_path.rglob("*")] == ["tmp"]  # nothing written at run time
