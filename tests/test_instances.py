"""Several `jiaolian serve` processes on one PostgreSQL (issue 12): 1,000 signed events spread
over two instances, redeliveries sent to the other one, one instance killed (SIGKILL) midway
and restarted; every event is processed once and every reply reaches Feishu once.

The instances are real subprocesses; the fake Feishu open platform runs in the test process.
They are other processes, so the test waits on what it can see: their announcement on stderr,
the answers to its POSTs, the fake's requests and, between those, the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from storage.db import create_engine, session_factory, transaction
from storage.models import InboxEvent, OutboxMessage
from storage.roster import bind_group
from tests.app_support import prepare_demo_database
from tests.fakes.feishu import FakeFeishu
from tests.fakes.feishu_signing import signed_body, text_event

ROOT = Path(__file__).resolve().parent.parent
APP_ID, TOKEN, KEY = "cli_test", "v-token", "e-key"
USER = "ou_zhangli"
BOT = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}
EVENTS = 1000
CHATS = 25
REDELIVER_EVERY = 4  # every 4th event is posted again, to the other instance
DEADLINE_S = 150.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    name: str
    config: Path
    port: int
    proc: asyncio.subprocess.Process | None = None
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feishu/events"

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--config", str(self.config),
            cwd=self.config.parent, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        ready = asyncio.Event()
        asyncio.get_running_loop().create_task(self._read(self.proc, ready))
        async with asyncio.timeout(60):
            await ready.wait()

    async def _read(self, proc: asyncio.subprocess.Process, ready: asyncio.Event) -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.log.append(f"{self.name}: {line}")
            if "serving on http" in line:
                ready.set()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self.proc.wait()
            except TimeoutError:
                await self.kill()


def write_config(where: Path, name: str, port: int, db_url: str, fake: FakeFeishu) -> Path:
    where.mkdir()
    path = where / f"{name}.toml"
    path.write_text(f"""
[server]
host = "127.0.0.1"
port = {port}
log_level = "INFO"

[database]
url = "{db_url}"

[files]
dir = "{where}/files"

[feishu]
app_id = "{APP_ID}"
app_secret = "secret"
verification_token = "{TOKEN}"
encrypt_key = "{KEY}"
api_base = "{fake.url}"
bot_open_id = "ou_bot"
""", encoding="utf-8")
    return path


async def prepare(url: str) -> list[str]:
    chats = [f"oc_g{n}" for n in range(CHATS)]
    await prepare_demo_database(url, platform="feishu", user=USER, chat=chats[0],
                                app_id=APP_ID)
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            for chat in chats[1:]:
                await bind_group(session=session, platform="feishu", chat_id=chat,
                                 scope="泗顶镇中心小学", app_id=APP_ID)
    finally:
        await engine.dispose()
    return chats


@dataclass
class Poster:
    """Posts events as Feishu would: to an instance, and again elsewhere until acknowledged."""

    session: aiohttp.ClientSession
    instances: list[Instance]
    acked: set[str] = field(default_factory=set)
    posts: int = 0
    refused: int = 0
    # Set when this many events are acknowledged.
    milestones: dict[int, asyncio.Event] = field(default_factory=dict)

    async def post(self, event: dict[str, Any], first: int) -> None:
        headers, body = signed_body(event, encrypt_key=KEY)
        for n in range(first, first + 2 * len(self.instances) * 5):
            target = self.instances[n % len(self.instances)]
            if not target.alive:
                continue
            self.posts += 1
            try:
                async with self.session.post(target.url, data=body, headers=headers) as resp:
                    if resp.status == 200:
                        self.acked.add(event["header"]["event_id"])
                        if (reached := self.milestones.get(len(self.acked))) is not None:
                            reached.set()
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.refused += 1
        raise AssertionError(f"event {event['header']['event_id']} was never acknowledged")


async def counts(url: str) -> tuple[int, int, int, int]:
    """Inbox rows, inbox rows not done, outbox rows, outbox rows not sent."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            def n(model: Any, *where: Any) -> Any:
                return select(func.count()).select_from(model).where(*where)
            return (
                (await conn.execute(n(InboxEvent))).scalar_one(),
                (await conn.execute(n(InboxEvent, col(InboxEvent.status) != "done"))).scalar_one(),
                (await conn.execute(n(OutboxMessage))).scalar_one(),
                (await conn.execute(n(OutboxMessage,
                                      col(OutboxMessage.status) != "sent"))).scalar_one(),
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    server = await FakeFeishu(app_id=APP_ID).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.mark.postgres
async def test_two_instances_one_killed_midway_answer_every_event_once(
    pg_url: str, fake: FakeFeishu, tmp_path: Path,
) -> None:
    chats = await prepare(pg_url)
    a, b = (Instance(name, write_config(tmp_path / name, name, port, pg_url, fake), port)
            for name, port in (("a", free_port()), ("b", free_port())))
    started = time.monotonic()
    await asyncio.gather(a.start(), b.start())
    events = [text_event("@_user_1 签到", app_id=APP_ID, token=TOKEN, chat_id=chats[n % CHATS],
                         open_id=USER, mentions=[BOT], event_id=f"ev-{n}",
                         message_id=f"om_in_{n}") for n in range(EVENTS)]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            poster = Poster(session, [a, b])
            gate = asyncio.Semaphore(24)

            async def send(n: int) -> None:
                async with gate:
                    await poster.post(events[n], first=n)
                    if n % REDELIVER_EVERY == 0:  # the redelivery goes to the other instance
                        await poster.post(events[n], first=n + 1)

            half, restart_at = EVENTS // 2, EVENTS * 7 // 10
            poster.milestones = {half: asyncio.Event(), restart_at: asyncio.Event()}
            killed_at = 0.0

            async def chaos() -> None:
                nonlocal killed_at
                await poster.milestones[half].wait()
                await b.kill()  # midway, with posts, events and sends in flight
                killed_at = time.monotonic() - started
                await poster.milestones[restart_at].wait()
                await b.start()

            await asyncio.gather(chaos(), *(send(n) for n in range(EVENTS)))
        posted_at = time.monotonic() - started
        assert len(poster.acked) == EVENTS

        inbox_done_at = 0.0
        async with asyncio.timeout(DEADLINE_S):
            while True:
                inbox, undone, outbox, unsent = await counts(pg_url)
                if inbox == EVENTS and undone == 0 and not inbox_done_at:
                    inbox_done_at = time.monotonic() - started
                if inbox == EVENTS and undone == 0 and outbox and unsent == 0:
                    break
                # Woken by the next request at the fake, or after a second (leases running out).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0), fake._changed:
                        await fake._changed.wait()
        done_at = time.monotonic() - started
    finally:
        await asyncio.gather(a.stop(), b.stop())

    engine = create_engine(pg_url)
    try:
        async with engine.connect() as conn:
            replies = (await conn.execute(select(OutboxMessage.key, OutboxMessage.reply_to))).all()  # type: ignore[call-overload]
    finally:
        await engine.dispose()
    answered = {reply_to for _, reply_to in replies}
    assert answered == {f"om_in_{n}" for n in range(EVENTS)}  # every event answered
    # Every reply reached Feishu: once by uuid; repeats (a send cut short by the kill, sent
    # again after its lease) are what Feishu drops, and are counted here.
    assert len(fake.by_uuid) == len(replies)
    repeats = sum(fake.sends_per_uuid.values()) - len(fake.by_uuid)
    measured = {"events": EVENTS, "posts": poster.posts, "refused_posts": poster.refused,
                "replies": len(replies), "sends": sum(fake.sends_per_uuid.values()),
                "repeated_sends": repeats, "killed_at_s": round(killed_at, 1),
                "posted_at_s": round(posted_at, 1),
                "inbox_done_at_s": round(inbox_done_at, 1), "all_sent_at_s": round(done_at, 1)}
    print("\nmeasured:", json.dumps(measured))
    assert repeats <= 16  # at most the sends in flight in the killed instance
    errors = [line for line in a.log + b.log if " ERROR " in line or "Traceback" in line]
    assert errors == [], "\n".join(errors[:20])
