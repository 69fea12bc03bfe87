"""Charts (issue 10): the PNG, the project's own CJK font, figures equal to the chat's, the CLI.

The demo county: 融安县实验小学教共体 is 融安县实验小学 (lead; 李娜, 陈静 …) and
泗顶镇中心小学 (张丽 …); 刘洋 teaches in another community.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import struct
import tomllib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from handlers.chart import (
    FONT_PATH,
    ChartData,
    ChartError,
    ChartMonth,
    ChartSchool,
    chart_data,
    chart_png,
    font,
    missing_glyphs,
    months_between,
)
from handlers.periods import add_months
from storage import demo_county
from storage.db import create_engine, session_factory, transaction, upgrade
from storage.events import add_event
from storage.models import Activity, Community
from tests.chat_harness import Chat, at
from tests.scheduler_support import demo, member, school

SHIYAN = "融安县实验小学教共体"
ROOT = Path(__file__).resolve().parent.parent


def sample(months: int = 3) -> ChartData:
    firsts = months_between(dt.date(2026, 9, 1), add_months(dt.date(2026, 9, 1), months - 1))
    counts = [(2, 1), (1, 0), (3, 2), (0, 0), (1, 1), (2, 0)]
    return ChartData(2, SHIYAN, "lesson_prep", "集体备课", 2,
                     (ChartSchool(3, "融安县实验小学", True),
                      ChartSchool(4, "泗顶镇中心小学", False)),
                     tuple(ChartMonth(f, counts[i % 6], max(counts[i % 6]))
                           for i, f in enumerate(firsts)))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# --- the picture ----------------------------------------------------------------------------


def test_the_chart_is_a_phone_sized_png_and_the_same_data_give_the_same_bytes() -> None:
    png = chart_png(sample())
    assert png_size(png) == (1200, 700)
    assert png == chart_png(sample())
    assert png != chart_png(sample(4))


def test_titles_name_the_community_and_the_months() -> None:
    assert sample().title == "融安县实验小学教共体 各校每月活动 2026年9月—11月"
    assert sample(1).range_text == "2026年9月"
    assert sample(5).range_text == "2026年9月—2027年1月"
    assert png_size(chart_png(sample(5))) == (1200, 700)


def test_months_are_whole_and_a_range_must_make_sense() -> None:
    assert months_between(dt.date(2026, 9, 15), dt.date(2026, 11, 2)) == [
        dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    with pytest.raises(ChartError, match="before it starts"):
        months_between(dt.date(2026, 11, 1), dt.date(2026, 9, 1))
    with pytest.raises(ChartError, match="at most 12"):
        months_between(dt.date(2026, 1, 1), dt.date(2027, 1, 1))


# --- the font -------------------------------------------------------------------------------


def rendered(text: str) -> np.ndarray:
    """`text` drawn by matplotlib with the chart's font, as a grey-scale array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 1), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.05, 0.3, text, fontproperties=font(28))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def ink_width(image: np.ndarray) -> int:
    columns = np.nonzero((image < 128).any(axis=0))[0]
    return int(columns[-1] - columns[0] + 1) if columns.size else 0


def test_matplotlib_finds_the_projects_font_not_a_system_one() -> None:
    from matplotlib.font_manager import findfont

    assert Path(findfont(font(12), fallback_to_default=False)) == FONT_PATH
    assert FONT_PATH.stat().st_size < 6_000_000  # a subset, not the 16 MB original


def test_chinese_renders_as_chinese_not_as_boxes() -> None:
    with pytest.warns(UserWarning, match="missing from font"):
        box = rendered("\uac00")  # a Hangul syllable: not in the subset, so the missing box
    hanzi = [rendered(c) for c in "融安实验泗顶"]
    for image in hanzi:
        assert (image < 128).any()  # ink, not nothing
        assert not np.array_equal(image, box)
    assert len({image.tobytes() for image in hanzi}) == len(hanzi)  # boxes would all be equal
    label = rendered("泗顶镇中心小学")
    with pytest.warns(UserWarning, match="missing from font"):
        boxes = rendered("\uac00" * 7)
    assert ink_width(label) != ink_width(boxes)


def test_the_font_covers_the_demo_county_and_names_outside_gb2312() -> None:
    names = [demo_county.BUREAU, *demo_county.ADMIN]
    for c in demo_county.COMMUNITIES:
        names += [c.name, c.group]
        for s in c.schools:
            names += [s.name, s.principal, *s.aliases,
                      *(part for person in s.teachers for part in person)]
    assert missing_glyphs("".join(names)) == ""
    assert missing_glyphs("玥喆昇祎彧堃赟") == ""  # GBK, not in GB2312
    assert missing_glyphs(sample().title + "（次）≥—：；月份合计0123456789") == ""
    assert missing_glyphs("融가安") == "가"


def test_the_font_ships_with_its_licence_as_package_data() -> None:
    licence = (FONT_PATH.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["handlers"]
    here = FONT_PATH.parent.parent
    shipped = {p for pattern in patterns for p in here.glob(pattern)}
    assert {FONT_PATH, FONT_PATH.parent / "OFL.txt"} <= shipped


# --- the figures: the chat's --------------------------------------------------------------


async def community_id(session: AsyncSession, name: str) -> int:
    from sqlalchemy import select
    from sqlmodel import col

    return int((await session.execute(
        select(col(Community.id)).where(col(Community.name) == name))).scalar_one())


async def test_chart_figures_are_the_chats_for_a_month_of_reports(chat: Chat) -> None:
    chat.clock.moment = at("2026-10-20T16:00:00")
    await chat.say("李娜", "今天上午在县实小开展了语文集体备课")
    chat.clock.moment = at("2026-11-26T10:00:00")
    await chat.say("张丽", "今天上午在泗顶镇中心小学开展了三年级数学集体备课，12人参加")
    await chat.say("李娜", "昨天在县实小开展了语文集体备课")
    await chat.say("张丽", "昨天在县实小开展了语文集体备课")  # 泗顶 took part in it too
    await chat.say("陈静", "11月3日在县实小开展了数学集体备课")
    await chat.say("陈静", "撤销")  # withdrawn: never counted
    await chat.say("刘洋", "昨天在二实小开展了集体备课", chat="融安县第二实验小学教共体群")
    await chat.say("李娜", "昨天组织了听评课活动")  # another activity
    await chat.say("韦国庆", "明天下午两点在泗顶中心校开展英语集体备课")  # planned, not held

    async with chat.runtime.factory() as session:
        cid = await community_id(session, SHIYAN)
        data = await chart_data(session, community_id=cid, start=dt.date(2026, 9, 1),
                                end=dt.date(2026, 11, 30))
    assert [s.name for s in data.schools] == ["融安县实验小学", "泗顶镇中心小学"]
    assert (data.activity_name, data.need) == ("集体备课", 2)
    assert [(m.label, m.counts, m.total) for m in data.months] == [
        ("2026-09", (0, 0), 0), ("2026-10", (1, 0), 1), ("2026-11", (1, 2), 2)]

    [answer] = await chat.say("韦国庆", "哪些学校本月还没集体备课？")
    lines = answer.splitlines()
    november = data.months[-1]
    assert lines[0] == f"{SHIYAN} 本月集体备课 {november.total}/{data.need} 次，已完成 ✓"
    said = {m.group(1): int(m.group(2))
            for m in (re.match(r"· (\S+) (\d+) 次", line) for line in lines) if m}
    assert said == {s.name: n for s, n in zip(data.schools, november.counts, strict=True)}

    png = chart_png(data)
    assert png_size(png) == (1200, 700)


async def test_chart_data_refuses_what_it_cannot_draw(chat: Chat) -> None:
    async with chat.runtime.factory() as session:
        with pytest.raises(ChartError, match="no community #999"):
            await chart_data(session, community_id=999, start=dt.date(2026, 9, 1),
                             end=dt.date(2026, 9, 30))
        with pytest.raises(ChartError, match="no monthly community-wide quota rule"):
            await chart_data(session, community_id=1, start=dt.date(2026, 9, 1),
                             end=dt.date(2026, 9, 30), activity="training")


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path: Path, sqlite_url: str) -> Path:
    """The demo county with two 集体备课 of November (at 县实小 and at 泗顶) and one of October
    that was withdrawn."""
    async def prepare() -> None:
        engine = create_engine(sqlite_url)
        await upgrade(engine)
        await demo(engine)
        async with transaction(session_factory(engine)) as session:
            for who, venue, day, withdrawn in (("李娜", "融安县实验小学", "2026-11-05", False),
                                               ("张丽", "泗顶镇中心小学", "2026-11-12", False),
                                               ("张丽", "泗顶镇中心小学", "2026-10-12", True)):
                person, where = await member(session, who), await school(session, venue)
                event = Activity(status="done", activity="lesson_prep",
                                 date=dt.date.fromisoformat(day), school_id=where.id,
                                 community_id=where.community_id, reporter_id=person.id or 0,
                                 withdrawn=withdrawn, source_text="开展了集体备课")
                await add_event(session=session, event=event, chat="console:群", slots={},
                                now=at(f"{day}T12:00"))
        await engine.dispose()

    asyncio.run(prepare())
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    return path


def chart(config: Path, *args: str) -> int:
    return main(["chart", "--config", str(config), *args])


def test_the_command_writes_the_chart(config_file: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.png"
    assert chart(config_file, "--community", SHIYAN, "--from", "2026-09-01", "--to", "2026-11-30",
                 "--out", str(out)) == 0
    assert png_size(out.read_bytes()) == (1200, 700)
    assert capsys.readouterr().out.strip() == (
        f"wrote {out} ({SHIYAN}, lesson_prep: 2026-09 0/2, 2026-10 0/2, 2026-11 2/2)")
    by_month = tmp_path / "m.png"
    assert chart(config_file, "--community", "2", "--from", "2026-09", "--to", "2026-11",
                 "--out", str(by_month)) == 0
    assert by_month.read_bytes() == out.read_bytes()  # months, or the community's id: the same


@pytest.mark.parametrize(("args", "error"), [
    (["--community", SHIYAN, "--from", "2026-9-1", "--to", "2026-11-30"],
     "jiaolian: --from: expected YYYY-MM-DD or YYYY-MM, got '2026-9-1'"),
    (["--community", SHIYAN, "--from", "2026-09", "--to", "2026-13"],
     "jiaolian: --to: expected YYYY-MM-DD or YYYY-MM, got '2026-13'"),
    (["--community", SHIYAN, "--from", "2026-11-01", "--to", "2026-09-30"],
     "jiaolian: the range ends (2026-09-30) before it starts (2026-11-01)"),
    (["--community", "融安县第九小学教共体", "--from", "2026-09-01", "--to", "2026-11-30"],
     "jiaolian: no community named '融安县第九小学教共体' (there are: 融安县初级中学教共体、"
     "融安县实验小学教共体、融安县第二实验小学教共体、融安县第三实验小学教共体、长安镇中心小学教共体)"),
    (["--community", SHIYAN, "--from", "2026-09-01", "--to", "2026-11-30",
      "--activity", "training"],
     "jiaolian: no monthly community-wide quota rule for 'training'"),
])
def test_mistakes_are_one_line_and_a_non_zero_exit(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], error: str) -> None:
    out = tmp_path / "c.png"
    assert chart(config_file, *args, "--out", str(out)) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [error]
    assert not out.exists()


def test_a_missing_or_unreachable_database_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--community", SHIYAN, "--from", "2026-09-01", "--to", "2026-11-30",
            "--out", str(tmp_path / "c.png")]
    missing = tmp_path / "missing.toml"
    missing.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/none.sqlite3"\n')
    assert chart(missing, *args) == 2
    assert capsys.readouterr().err.startswith(f"jiaolian: no database at {tmp_path}/none.sqlite3")
    assert not (tmp_path / "none.sqlite3").exists()
    closed = tmp_path / "closed.toml"
    closed.write_text('[database]\nurl = "postgresql://postgres@127.0.0.1:1/none"\n')
    assert chart(closed, *args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("jiaolian: cannot open the database:")


def test_an_unwritable_output_is_one_line(config_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "no-such-dir" / "c.png"
    assert chart(config_file, "--community", SHIYAN, "--from", "2026-11-01", "--to",
                 "2026-11-30", "--out", str(out)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"jiaolian: cannot write {out}")
