"""The scheduler in its surroundings: two instances at once, APScheduler's beat, the console's
/time, and the `remind` / `digest` previews. No sleeping: beats are called, clocks are set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.config import DatabaseSettings, settings_from_dict
from bot.console_chat import run_console
from handlers.clock import FixedClock
from scheduler.due import run_due
from scheduler.setup import TICK_JOB_ID, SchedulerService
from scheduler.state import last_run
from storage.db import create_engine, session_factory, upgrade
from storage.models import Setting
from tests.scheduler_support import add_activity, at, config, demo, outbox, outbox_count


async def test_two_schedulers_at_once_queue_each_message_once(engine: AsyncEngine) -> None:
    factory = await demo(engine)
    url = engine.url.render_as_string(hide_password=False)
    engines = [create_engine(url) for _ in range(2)]
    try:
        results = await asyncio.gather(*(
            run_due(factory=session_factory(e), now=at("2026-11-30T08:00"),
                    last_run=at("2026-11-30T07:59"), config=config())
            for e in engines
        ))
    finally:
        for e in engines:
            await e.dispose()
    rows = await outbox(factory)
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == sum(len(r) for r in results) > 11  # digests, a warning
    assert {m.key for r in results for m in r} == set(keys)


async def test_beats_catch_up_after_a_restart_and_keep_the_last_run(engine: AsyncEngine) -> None:
    factory = await demo(engine)
    clock = FixedClock(at("2026-11-26T07:58"))
    woken: list[bool] = []
    service = SchedulerService(factory=factory, clock=clock, config=config(),
                               on_queued=lambda: woken.append(True))
    service.start()
    try:
        job = service.scheduler.get_job(TICK_JOB_ID)
        assert job is not None and job.coalesce and job.max_instances == 1
        assert job.misfire_grace_time == 300
        await service.beat()  # a fresh install: starts from now, queues nothing
        assert await outbox_count(factory) == 0 and not woken
    finally:
        await service.stop()
    # Down over 08:00; a new instance's first beat at 10:30 catches up the morning.
    clock.moment = at("2026-11-26T10:30")
    second = SchedulerService(factory=factory, clock=clock, config=config())
    await second.beat()
    assert await outbox_count(factory) > 0
    async with factory() as session:
        assert await last_run(session=session) == at("2026-11-26T10:30")
    count = await outbox_count(factory)
    await second.beat()  # double-fired
    assert await outbox_count(factory) == count


async def test_console_time_jump_shows_reminders_and_digests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/console.sqlite3"
    engine = create_engine(url)
    await upgrade(engine)
    factory = await demo(engine)
    await add_activity(factory, activity="lesson_prep", day="2026-11-10",
                       school_name="泗顶镇中心小学")
    await engine.dispose()
    settings = dataclasses.replace(settings_from_dict({}), database=DatabaseSettings(url=url))
    script = io.StringIO("/time 2026-11-26 07:00\n/time 2026-11-26 08:01\n"
                         "/as 韦国庆\n/time 2026-11-30 08:00\n/quit\n")
    out = io.StringIO()
    await run_console(settings, src=script, out=out)
    text = out.getvalue()
    # The current chat is 融安县实验小学教共体群: its reminder prints plainly, others with →.
    assert "< 教联助手: 温馨提醒 ⏰ 本月还剩 3 个工作日：" in text
    assert "本月集体备课已完成 1 次，还差 1 次，截止 11月30日" in text
    assert "< 教联助手 → 融安县初级中学教共体群（群）: 温馨提醒" in text
    assert ("< 教联助手 → 韦国庆（私聊）: "
            "📊 教共体周报 · 融安县实验小学教共体（11月23日—11月29日）") in text


async def test_console_long_jumps_replay_what_a_running_bot_would_have_sent(
        tmp_path: Path) -> None:
    """A /time jump over several days is time passing, not a bot that was down: Friday's
    principal notes and day-before reminder, the hour-before reminder and the summary all
    appear once, nothing at night, and a second jump over the same time repeats nothing."""
    url = f"sqlite:///{tmp_path}/console.sqlite3"
    engine = create_engine(url)
    await upgrade(engine)
    factory = await demo(engine)
    await add_activity(factory, activity="observation", day="2026-11-30",
                       school_name="泗顶镇中心小学", status="planned", start="15:00")
    await engine.dispose()
    settings = dataclasses.replace(settings_from_dict({}), database=DatabaseSettings(url=url))
    script = io.StringIO("/time 2026-11-26 10:00\n/time 2026-11-30 08:05\n"
                         "/time 2026-11-30 22:30\n/time 2026-11-26 10:00\n"
                         "/time 2026-11-30 22:30\n/quit\n")
    out = io.StringIO()
    await run_console(settings, src=script, out=out)
    text = out.getvalue()
    assert text.count("📅 活动预告：11月30日（周一） 15:00") == 1  # Friday 27th, 08:00
    assert text.count("韦校长您好，融安县实验小学教共体本月") == 1  # Friday, 2 days left
    assert text.count("⏰ 15:00 开始：") == 1
    assert text.count("📋 11月30日 听评课（泗顶镇中心小学）已结束") == 1  # the summary at 17:00
    assert text.count("签到名单（仅您可见）") == 3  # organiser and principals, privately
    assert text.count("📊 周报 · 泗顶镇中心小学（11月23日—11月29日）") == 1


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    async def prepare() -> None:
        engine = create_engine(db_url)
        await upgrade(engine)
        factory = await demo(engine)
        await add_activity(factory, activity="lesson_prep", day="2026-11-10",
                           school_name="泗顶镇中心小学")
        await add_activity(factory, activity="lesson_prep", day="2026-11-26",
                           school_name="泗顶镇中心小学", status="planned", start="14:00")
        await engine.dispose()

    asyncio.run(prepare())
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def _count(db_url: str, model: type) -> int:
    async def count() -> int:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return int((await session.execute(
                    select(func.count()).select_from(model))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_previews_print_json_and_write_nothing(config_file: Path, db_url: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from storage.models import OutboxMessage

    assert main(["remind", "--config", str(config_file), "--at", "2026-11-26 08:00",
                 "--dry-run", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"kind", "to", "text"} <= set(rows[0])
    ours = [r for r in rows if r["to"] == "融安县实验小学教共体群"]
    assert {r["kind"] for r in ours} == {"quota_short"}
    assert "本月集体备课已完成 1 次，还差 1 次，截止 11月30日" in ours[0]["text"]
    assert any(r["kind"] == "calendar_warning" and r["to"] == "蒙建华" for r in rows)
    assert main(["digest", "--config", str(config_file), "--week", "2026-W48",
                 "--dry-run", "--json"]) == 0
    digests = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(digests) == 10 + 1  # one a principal (the lead ones merged), one the admin
    assert _count(db_url, OutboxMessage) == 0
    assert _count(db_url, Setting) == 0
    # Without --dry-run they are queued, once.
    assert main(["remind", "--config", str(config_file), "--at", "2026-11-26 13:00"]) == 0
    queued = _count(db_url, OutboxMessage)
    assert queued == len(rows) + 1  # the morning's, and the hour-before reminder
    assert main(["remind", "--config", str(config_file), "--at", "2026-11-26 13:00"]) == 0
    assert _count(db_url, OutboxMessage) == queued
    assert "queued 0 message(s)" in capsys.readouterr().err


def test_digest_of_a_week_not_over_is_not_queued(config_file: Path, db_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Queued early, a half week's digest would take the keys of the real one for good."""
    from storage.models import OutboxMessage

    assert main(["digest", "--config", str(config_file), "--week", "2999-W01"]) == 2
    assert "--dry-run" in capsys.readouterr().err
    assert _count(db_url, OutboxMessage) == 0
    assert main(["digest", "--config", str(config_file), "--week", "2999-W01",
                 "--dry-run", "--json"]) == 0
    assert main(["digest", "--config", str(config_file), "--week", "2020-W10"]) == 0
    assert _count(db_url, OutboxMessage) == 10 + 1


def _delete(db_url: str, model: type) -> None:
    async def delete_all() -> None:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await session.execute(sa_delete(model))
        finally:
            await engine.dispose()

    asyncio.run(delete_all())


def test_digest_preview_says_when_it_goes_and_what_closes_that_morning(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--config", str(config_file), "--week", "2026-W48", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("→ ") == 10 + 1
    assert out.rstrip().endswith("这些周报将在 11月30日 08:00 发送。")
    # Week 44 is reported on 2 November, the month's first school day: October's results too.
    assert main(["digest", "--config", str(config_file), "--week", "2026-W44", "--dry-run",
                 "--json"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    [result] = [r for r in rows if r["to"] == "融安县实验小学教共体群"]
    assert result["kind"] == "period_result"
    assert result["text"].split("\n")[0] == "📋 10月任务结果 · 融安县实验小学教共体"
    assert captured.err.strip() == "这些周报将在 11月2日 08:00 发送。"


def test_digest_preview_of_a_vacation_week_says_nothing_goes_and_why(
        config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--config", str(config_file), "--week", "2026-W34", "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "不会发送任何周报：2026-W34 整周都在假期里（8月17日—8月23日），假期不发周报。\n")


def test_digest_preview_names_who_and_what_is_not_linked(
        config_file: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from storage.models import ChatGroup, Identity

    _delete(db_url, ChatGroup)
    assert main(["digest", "--config", str(config_file), "--week", "2026-W48", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("→ ") == 10 + 1  # privately, on the platform people have
    assert out.rstrip().endswith(
        "提示：融安县初级中学教共体、融安县实验小学教共体、融安县第二实验小学教共体、"
        "融安县第三实验小学教共体、长安镇中心小学教共体 还没有绑定群，月度结果不会发到群里。")
    _delete(db_url, Identity)
    assert main(["digest", "--config", str(config_file), "--week", "2026-W48", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "→ " not in out
    assert out.split("\n")[0] == (
        "不会发送任何周报：没有任何校长或管理员绑定了账号，周报没有人可以收。")
