"""Worker speed: events processed per second from a full inbox, SQLite and PostgreSQL.

Usage: python bench/worker.py [--events 2000] [--rounds 3]
                              [--pg postgresql://postgres@127.0.0.1:5432/test]
The demo county with every member linked on Feishu; a mixed stream over 400 chats (check-ins,
reports, queries, small talk) saved to the inbox, then `Worker.drain()` runs it — parse,
handlers, replies queued — with delivery not running. Prints events/s and per-event cost,
the median of `--rounds` runs on fresh databases.
Targets (issue 13): ≥ 400 events/s on SQLite, ≥ 300 on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from bot.channels.feishu import FeishuChannel  # noqa: E402
from bot.channels.feishu.normalise import inbox_payload  # noqa: E402
from bot.config import settings_from_dict  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from handlers.clock import SystemClock  # noqa: E402
from storage.db import create_engine, session_factory, transaction, upgrade  # noqa: E402
from storage.inbox import insert_events  # noqa: E402
from storage.models import Member  # noqa: E402
from storage.roster import bind_group, link_identity  # noqa: E402
from storage.seed_demo import seed_demo  # noqa: E402

APP_ID = "cli_bench"
TEXTS = ("签到", "签退", "今天上午在泗顶中心校开展了数学集体备课，9人参加",
         "本月集体备课开展几次了？",
         "收到", "明天下午两点在县实小开展教师培训", "好的谢谢")
CHATS = 400


def _event(text: str, open_id: str, chat: str, n: int) -> dict[str, Any]:
    return {"schema": "2.0",
            "header": {"event_id": f"ev{n}-{uuid.uuid4().hex[:8]}", "event_type":
                       "im.message.receive_v1", "create_time": "0", "token": "t",
                       "app_id": APP_ID, "tenant_key": "t"},
            "event": {"sender": {"sender_id": {"open_id": open_id}, "sender_type": "user"},
                      "message": {"message_id": f"om{n}", "chat_id": chat, "chat_type": "group",
                                  "message_type": "text", "create_time": "0",
                                  "content": '{"text": "' + text + '"}', "mentions": []}}}


async def _prepare(url: str, events: int) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    factory = session_factory(engine)
    async with transaction(factory) as session:
        await seed_demo(session=session)
        members = list((await session.execute(select(Member))).scalars())
        for m in members:
            await link_identity(session=session, member_id=m.id or 0, platform="feishu",
                                external_id=f"ou_{m.id}")
        for c in range(CHATS):
            await bind_group(session=session, platform="feishu", chat_id=f"oc_{c}",
                             scope="融安县实验小学教共体")
    batch = [
        (f"e{n}", inbox_payload(APP_ID, _event(TEXTS[n % len(TEXTS)],
                                               f"ou_{members[n % len(members)].id}",
                                               f"oc_{n % CHATS}", n), via="webhook"))
        for n in range(events)]
    for start in range(0, events, 500):
        await insert_events(engine=engine, platform="feishu", events=batch[start:start + 500],
                            received_at=datetime.now(UTC))
    await engine.dispose()


async def _run(url: str, events: int, files: str) -> float:
    await _prepare(url, events)
    settings = settings_from_dict({"database": {"url": url}, "files": {"dir": files},
                                   "feishu": {"app_id": APP_ID, "app_secret": "s"}})
    runtime = await open_runtime(settings, clock=SystemClock())
    channel = FeishuChannel(settings.feishu)
    runtime.add_channel(channel)
    try:
        started = time.perf_counter()
        done = await runtime.worker.drain()
        took = time.perf_counter() - started
    finally:
        await channel.close()
        await runtime.close()
    assert done == events, (done, events)
    return took


async def _on_scratch(admin_url: str, events: int, files: str) -> float:
    async with scratch_database(admin_url) as url:
        return await _run(url, events, files)


def _report(name: str, events: int, took: list[float], target: int) -> None:
    rates = ", ".join(f"{events / t:.0f}" for t in took)
    best = statistics.median(took)
    print(f"{name:<11}: {events / best:7.0f} events/s, median of {len(took)} "
          f"({best / events * 1000:.2f} ms per event; rounds {rates}; target ≥ {target}/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--pg", default="", help="a PostgreSQL admin URL to measure it too")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs on a fresh database each, alternating SQLite and PostgreSQL")
    args = ap.parse_args()
    sqlite: list[float] = []
    pg: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            sqlite.append(asyncio.run(_run(f"sqlite:///{tmp}/bench{n}.sqlite3", args.events,
                                           f"{tmp}/files")))
            if args.pg:
                pg.append(asyncio.run(_on_scratch(args.pg, args.events, f"{tmp}/files-pg")))
    _report("SQLite", args.events, sqlite, 400)
    if pg:
        _report("PostgreSQL", args.events, pg, 300)


if __name__ == "__main__":
    main()
