"""SIGTERM during a backlog: `serve` stops accepting, finishes the batch in hand and exits
within 10 s; what it did not reach stays pending in the inbox, and the next start answers
it, each event once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from bot.channels.feishu.normalise import inbox_payload
from storage.db import create_engine, session_factory, transaction
from storage.inbox import insert_events
from storage.models import InboxEvent, OutboxMessage
from tests.app_support import prepare_demo_database
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import text_event

ROOT = Path(__file__).resolve().parent.parent
APP_ID, TOKEN, USER, CHAT = "cli_stop", "v-token", "ou_zhangli", "oc_group"
BACKLOG = 2000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _statuses(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(col(InboxEvent.status), func.count()).group_by(col(InboxEvent.status)))
            return {str(status): int(n) for status, n in rows.all()}
    finally:
        await engine.dispose()


async def _backlog(url: str) -> None:
    await prepare_demo_database(url, platform="feishu", user=USER, chat=CHAT, app_id=APP_ID)
    events = []
    for n in range(BACKLOG):
        event = text_event("签到" if n % 2 else "本月集体备课开展几次了？", app_id=APP_ID,
                           token=TOKEN, chat_id=CHAT, open_id=USER, event_id=f"ev-{n:04d}")
        events.append((f"ev-{n:04d}", inbox_payload(APP_ID, event, via="webhook")))
    engine = create_engine(url)
    try:
        await insert_events(engine=engine, platform="feishu", events=events,
                            received_at=datetime.now(UTC))
    finally:
        await engine.dispose()


def _serve(config: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--config", str(config)], cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)


async def test_sigterm_finishes_the_batch_in_hand_and_leaves_the_rest_pending(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stop.sqlite3'}"
    await _backlog(url)
    fake = await FakeFeishu(app_id=APP_ID).start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nport = {_free_port()}\n[database]\nurl = "{url}"\n'
        f'[files]\ndir = "{tmp_path / "files"}"\n[scheduler]\nenabled = false\n'
        f'[feishu]\napp_id = "{APP_ID}"\napp_secret = "secret"\n'
        f'verification_token = "{TOKEN}"\napi_base = "{fake.url}"\n', encoding="utf-8")
    proc = _serve(config, tmp_path)
    try:
        await fake.wait_for(lambda: len(fake.sent) >= 10)  # busy with the backlog
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 10)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await fake.close()
    assert code == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert took < 10
    statuses = await _statuses(url)
    assert statuses.get("failed", 0) == 0
    assert statuses["done"] + statuses["pending"] == BACKLOG
    assert statuses["pending"] > 0, "the backlog was finished: nothing shows a stop mid-way"

    # The next start (here: the worker in this process) answers what was left, once.
    from bot.config import settings_from_dict
    from bot.runtime import open_runtime
    from handlers.clock import SystemClock

    settings = settings_from_dict({"database": {"url": url},
                                   "files": {"dir": str(tmp_path / "files")}})
    runtime = await open_runtime(settings, clock=SystemClock())
    try:
        from bot.channels.feishu import FeishuChannel

        runtime.add_channel(FeishuChannel(settings_from_dict({"feishu": {
            "app_id": APP_ID, "app_secret": "secret", "api_base": "http://127.0.0.1:9"}}).feishu))
        await runtime.worker.drain()
        async with transaction(runtime.factory) as session:
            keys = list((await session.execute(select(col(OutboxMessage.key)))).scalars())
    finally:
        for channel in list(runtime.channels.values()):
            close = getattr(channel, "close", None)
            if close is not None:
                await close()
        await runtime.close()
    assert (await _statuses(url)) == {"done": BACKLOG}
    assert len(keys) == len(set(keys)) >= BACKLOG
