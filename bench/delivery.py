"""Delivery under platform faults (issue 12), in figures: the fake Feishu open platform in
process, the real FeishuChannel and Delivery.

Usage: python bench/delivery.py [--pg-url postgresql://postgres@127.0.0.1:5432/test]
Prints, per scenario:
- 429s: the platform answers 429 (reset 2 s) for 60 s to 151 replies over 30 chats (the
  clock is a test clock moved a second at a time); how many were given up, tries counted;
- 500s: a minute of 500s to 300 replies over 10 chats, then recovery; inverted pairs (a later
  reply of a chat arriving before an earlier one) and duplicates;
- hanging chat: one chat's sends never answered, 200 replies to 20 other chats; how many of
  those went out in 3 s (real time);
- two instances (with --pg-url: a fresh database there): 3 chats × 40 replies delivered by
  two instances for 6 s (real time); sends that Feishu's 5/s per-chat limit would refuse.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.channels.feishu import FeishuChannel  # noqa: E402
from bot.config import settings_from_dict  # noqa: E402
from bot.delivery import Delivery  # noqa: E402
from handlers.clock import SHANGHAI, FixedClock, SystemClock  # noqa: E402
from storage.db import create_engine, session_factory, transaction, upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.outbox import NewMessage, enqueue  # noqa: E402
from tests.fakes.feishu import FakeFeishu, Fault, Sent  # noqa: E402

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


class TimedFeishu(FakeFeishu):
    """Remembers when (monotonic) each accepted send arrived, repeats included."""

    def __init__(self) -> None:
        super().__init__(app_id="cli_test")
        self.arrived: list[tuple[float, str]] = []

    async def _record(self, sent: Sent) -> Any:
        self.arrived.append((time.monotonic(), sent.target))
        return await super()._record(sent)


def ticking() -> Any:
    """A channel clock that moves a second per reading: its own windows never wait (the
    scenarios measure delivery, not the channel's pacing)."""
    counter = itertools.count(1000)
    return lambda: float(next(counter))


async def setup(url: str, fake: FakeFeishu, clock: Any, channel_clock: Any = None) -> tuple[
        Any, Delivery, FeishuChannel]:
    engine = create_engine(url)
    await upgrade(engine)
    apps = settings_from_dict({"feishu": {"app_id": "cli_test", "app_secret": "secret",
                                          "api_base": fake.url}}).feishu
    channel = FeishuChannel(apps, clock=channel_clock or time.monotonic)
    delivery = Delivery(factory=session_factory(engine), channels={"feishu": channel},
                        clock=clock)
    return engine, delivery, channel


async def queue(engine: Any, clock: Any, chats: int, total: int, prefix: str = "c") -> None:
    async with transaction(session_factory(engine)) as session:
        for n in range(total):
            c = n % chats
            await enqueue(session=session, now=clock.now(), message=NewMessage(
                key=f"{prefix}:{c}:{n // chats}", platform="feishu", app_id="cli_test",
                target_kind="chat", target=f"oc_{prefix}{c}", text=f"{c}:{n // chats}"))


async def rows(engine: Any) -> list[OutboxMessage]:
    async with session_factory(engine)() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        return list((await session.execute(stmt)).scalars())


async def scenario_429(where: Path) -> str:
    fake = await TimedFeishu().start()
    clock = FixedClock(T0)
    engine, delivery, channel = await setup(f"sqlite:///{where}/429.sqlite3", fake, clock,
                                            ticking())
    try:
        await queue(engine, clock, chats=30, total=151)
        fake.standing = Fault(429, 99991400, {"x-ogw-ratelimit-reset": "2"})
        for _ in range(60):
            await delivery.drain()
            clock.advance(timedelta(seconds=1))
        fake.standing = None
        for _ in range(30):
            await delivery.drain()
            clock.advance(timedelta(seconds=30))
        out = await rows(engine)
        failed = sum(r.status == "failed" for r in out)
        return (f"429s for 60 s: {failed} of {len(out)} given up, "
                f"{sum(r.status == 'sent' for r in out)} sent, "
                f"tries counted {sum(r.attempts for r in out) - len(out) + failed}")
    finally:
        await channel.close()
        await engine.dispose()
        await fake.close()


async def scenario_500(where: Path) -> str:
    fake = await TimedFeishu().start()
    clock = FixedClock(T0)
    engine, delivery, channel = await setup(f"sqlite:///{where}/500.sqlite3", fake, clock,
                                            ticking())
    try:
        await queue(engine, clock, chats=10, total=300)
        fake.standing = Fault(500, 0)
        for _ in range(60):
            await delivery.drain()
            clock.advance(timedelta(seconds=1))
        fake.standing = None
        for _ in range(30):
            await delivery.drain()
            clock.advance(timedelta(seconds=60))
        seqs: dict[str, list[int]] = {}
        for s in fake.sent:
            chat, n = s.content["text"].split(":")
            seqs.setdefault(chat, []).append(int(n))
        inverted = sum(1 for seq in seqs.values() for i, a in enumerate(seq)
                       for b in seq[i + 1:] if a > b)
        return (f"500s for 60 s: {len(fake.sent)} of 300 sent, inverted pairs {inverted}, "
                f"repeats {len(fake.arrived) - len(fake.by_uuid)}")
    finally:
        await channel.close()
        await engine.dispose()
        await fake.close()


async def scenario_hanging(where: Path) -> str:
    fake = await TimedFeishu().start()
    clock = SystemClock()
    engine, delivery, channel = await setup(f"sqlite:///{where}/hang.sqlite3", fake, clock)
    fake.hold["oc_h0"] = asyncio.Event()
    try:
        await queue(engine, clock, chats=21, total=210, prefix="h")
        stop = asyncio.Event()
        task = asyncio.create_task(delivery.run(stop, poll=0.05))
        await asyncio.sleep(3.0)  # a measurement window, not a synchronisation
        others = sum(1 for s in fake.sent if s.target != "oc_h0")
        stop.set()
        fake.hold["oc_h0"].set()
        await task
        return f"one chat hanging: {others} of 200 replies to other chats sent in 3 s"
    finally:
        await channel.close()
        await engine.dispose()
        await fake.close()


async def scenario_two(pg_url: str) -> str:
    import asyncpg

    base = make_url(pg_url)
    name = f"jl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(host=base.host, port=base.port or 5432,
                                  user=base.username or "postgres",
                                  database=base.database or "postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    fake = await TimedFeishu().start()
    clock = SystemClock()
    made = [await setup(url, fake, clock) for _ in range(2)]
    try:
        await queue(made[0][0], clock, chats=3, total=120, prefix="t")
        stop = asyncio.Event()
        tasks = [asyncio.create_task(d.run(stop, poll=0.05)) for _, d, _ in made]
        await asyncio.sleep(6.0)  # a measurement window, not a synchronisation
        stop.set()
        await asyncio.gather(*tasks)
        refused = 0
        by_chat: dict[str, list[float]] = {}
        for at, target in fake.arrived:
            by_chat.setdefault(target, []).append(at)
        for times in by_chat.values():
            accepted: list[float] = []
            for at in sorted(times):
                if sum(1 for a in accepted if at - a < 1.0) >= 5:
                    refused += 1
                else:
                    accepted.append(at)
        return (f"two instances, 3 chats: {len(fake.arrived)} sends in 6 s, {refused} over "
                f"Feishu's 5/s per chat")
    finally:
        for engine, _, channel in made:
            await channel.close()
            await engine.dispose()
        await fake.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        print(await scenario_429(where))
        print(await scenario_500(where))
        print(await scenario_hanging(where))
    if args.pg_url:
        print(await scenario_two(args.pg_url))


if __name__ == "__main__":
    asyncio.run(main())
