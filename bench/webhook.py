"""Feishu webhook speed: `jiaolian serve` (a subprocess, SQLite) against an in-process fake
Feishu API, fed signed and encrypted events; beside a bare aiohttp endpoint that answers 200.

Usage: python bench/webhook.py [--rate 200] [--seconds 10] [--burst 3000] [--app-limit N]
Prints: acknowledgements/s, p50/p99 ack latency at a steady rate and at full speed,
end-to-end latency (POST → reply at the fake API), exactly-once check by reply uuid, and
the full-speed ratio to the bare endpoint. Targets: p99 ack < 50 ms at 200 events/s;
full speed ≥ 40 % of the bare endpoint. Loopback only; every wait is bounded.

Replies leave at most 50/s and 1000/min per app and 5/s per chat (Feishu's limits, kept by
the channel and the shared windows), so events are spread over many chats and the reply
latency at 200 events/s includes queueing behind the per-app cap; a low-rate phase shows the
latency without that queue. `--app-limit N` raises the app's limit in the configuration, as
for an app Feishu granted more: `sends_per_s = N`, `sends_per_min = 60 × N`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import create_engine, session_factory, transaction, upgrade  # noqa: E402
from storage.roster import bind_group  # noqa: E402
from storage.seed_demo import seed_demo  # noqa: E402
from tests.fakes.feishu import FakeFeishu, Sent  # noqa: E402
from tests.fakes.feishu_signing import signed_body, text_event  # noqa: E402

APP_ID, SECRET, TOKEN, KEY = "cli_bench", "bench-secret", "bench-token", "bench-key"
CHATS = 400
CONCURRENCY = 64
READY_S = 60.0
DRAIN_S = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TimedFake(FakeFeishu):
    """Notes when the first reply to each incoming message arrived."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.first_reply_at: dict[str, float] = {}

    async def _record(self, sent: Sent) -> web.Response:
        self.first_reply_at.setdefault(sent.target, time.perf_counter())
        return await super()._record(sent)


async def prepare_database(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            await seed_demo(session=session)
            for n in range(CHATS):
                await bind_group(session=session, platform="feishu", chat_id=f"oc_{n}",
                                 scope="泗顶镇中心小学", app_id=APP_ID)
    finally:
        await engine.dispose()


def write_config(path: Path, port: int, db_url: str, api_base: str,
                 app_limit: int | None = None) -> None:
    limits = (f"sends_per_s = {app_limit}\nsends_per_min = {60 * app_limit}\n"
              if app_limit else "")
    path.write_text(f"""
[server]
host = "127.0.0.1"
port = {port}

[database]
url = "{db_url}"

[feishu]
app_id = "{APP_ID}"
app_secret = "{SECRET}"
verification_token = "{TOKEN}"
encrypt_key = "{KEY}"
api_base = "{api_base}"
bot_open_id = "ou_bot"
{limits}""", encoding="utf-8")


def make_events(prefix: str, count: int) -> list[tuple[str, dict[str, str], bytes]]:
    """Signed, encrypted bodies made before the clock starts: (message_id, headers, body)."""
    out = []
    for n in range(count):
        message_id = f"om_{prefix}_{n}"
        event = text_event("@_user_1 帮助", app_id=APP_ID, token=TOKEN, chat_id=f"oc_{n % CHATS}",
                           open_id=f"ou_{n % 50}", event_id=f"ev_{prefix}_{n}",
                           message_id=message_id,
                           mentions=[{"id": {"open_id": "ou_bot"}, "key": "@_user_1",
                                      "name": "教联助手"}])
        headers, body = signed_body(event, encrypt_key=KEY)
        out.append((message_id, headers, body))
    return out


async def wait_until(check: Callable[[], Awaitable[bool]], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def post_one(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                   body: bytes) -> float:
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
    return time.perf_counter() - started


async def steady(session: aiohttp.ClientSession, url: str,
                 events: list[tuple[str, dict[str, str], bytes]], rate: float,
                 sent_at: dict[str, float]) -> list[float]:
    """One POST every 1/rate seconds on schedule, whatever the previous ones are doing."""
    start = time.perf_counter()
    tasks = []
    for n, (message_id, headers, body) in enumerate(events):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[message_id] = time.perf_counter()
        tasks.append(asyncio.create_task(post_one(session, url, headers, body)))
    return list(await asyncio.gather(*tasks))


async def full_speed(session: aiohttp.ClientSession, url: str,
                     events: list[tuple[str, dict[str, str], bytes]],
                     sent_at: dict[str, float] | None = None) -> tuple[list[float], float]:
    queue = list(reversed(events))
    latencies: list[float] = []

    async def poster() -> None:
        while queue:
            message_id, headers, body = queue.pop()
            if sent_at is not None:
                sent_at[message_id] = time.perf_counter()
            latencies.append(await post_one(session, url, headers, body))

    start = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - start


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, latencies: list[float], elapsed: float | None = None) -> str:
    rate = f"{len(latencies) / elapsed:8.0f}/s" if elapsed else " " * 10
    return (f"{name:<40} n={len(latencies):5d} {rate}  p50 {ms(latencies, 0.5):7.2f} ms"
            f"  p99 {ms(latencies, 0.99):7.2f} ms  max {1000 * max(latencies):7.1f} ms")


BARE = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({})
app = web.Application(client_max_size=1024 * 1024)
app.router.add_post("/feishu/events", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: None)
"""


async def start_process(args: list[str], port: int, path: str,
                        log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the server
        proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, stdout=out,
                                                    stderr=subprocess.STDOUT)

    async def up() -> bool:
        if proc.returncode is not None:
            text = await asyncio.to_thread(log.read_text)
            raise RuntimeError(f"{args[0]} exited: {text[-2000:]}")
        try:
            async with aiohttp.ClientSession() as s, s.get(
                    f"http://127.0.0.1:{port}{path}") as resp:
                return resp.status < 500
        except aiohttp.ClientError:
            return False

    await wait_until(up, READY_S, f"{args[0]} to listen")
    return proc


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), timeout=20)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def measure_bare(port: int, events: list[tuple[str, dict[str, str], bytes]],
                       tmp: Path) -> tuple[list[float], float]:
    bare = await start_process([sys.executable, "-c", BARE, str(port)], port,
                               "/feishu/events", tmp / "bare.log")
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=CONCURRENCY * 4)) as session:
            return await full_speed(session, f"http://127.0.0.1:{port}/feishu/events", events)
    finally:
        await stop_process(bare)


async def main(rate: float, seconds: float, burst: int, app_limit: int | None) -> int:
    steady_events = make_events("steady", int(rate * seconds))
    burst_events = make_events("burst", burst)
    calm_events = make_events("calm", 100)
    all_ids = [m for m, _, _ in steady_events + burst_events + calm_events]
    fake = TimedFake(app_id=APP_ID, app_secret=SECRET)
    await fake.start()
    tmp = Path(tempfile.mkdtemp(prefix="jl-bench-"))
    db_url = f"sqlite:///{tmp}/bench.sqlite3"
    await prepare_database(db_url)
    port, bare_port = free_port(), free_port()
    # The bare endpoint before and after, so that a machine busier in one half of the run
    # than in the other does not decide the ratio.
    acks_bare, bare_s = await measure_bare(bare_port, burst_events, tmp)
    write_config(tmp / "config.toml", port, db_url, fake.url, app_limit)
    env_bin = Path(sys.executable).with_name("jiaolian")
    serve = await start_process([str(env_bin), "serve", "--config", str(tmp / "config.toml")],
                                port, "/healthz", tmp / "serve.log")
    url = f"http://127.0.0.1:{port}/feishu/events"
    sent_at: dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 4)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            for _, headers, body in make_events("warm", 20):
                await post_one(session, url, headers, body)
            acks_steady = await steady(session, url, steady_events, rate, sent_at)
            acks_burst, burst_s = await full_speed(session, url, burst_events, sent_at)

            async def burst_and_steady_answered() -> bool:
                return all(m in fake.first_reply_at for m, _, _ in steady_events + burst_events)

            await wait_until(burst_and_steady_answered, DRAIN_S, "replies to all events")
            calm_acks = await steady(session, url, calm_events, 20.0, sent_at)

            async def all_answered() -> bool:
                return all(m in fake.first_reply_at for m in all_ids)

            await wait_until(all_answered, DRAIN_S, "replies to the calm phase")
    finally:
        await stop_process(serve)
    acks_bare_after, bare_after_s = await measure_bare(bare_port, burst_events, tmp)
    await fake.close()

    def e2e(events: list[tuple[str, dict[str, str], bytes]]) -> list[float]:
        return [fake.first_reply_at[m] - sent_at[m] for m, _, _ in events]

    replies: dict[str, int] = {}
    for sent in fake.sent:
        replies[sent.target] = replies.get(sent.target, 0) + 1
    once = all(replies.get(m) == 1 for m in all_ids)
    distinct_uuids = len({s.uuid for s in fake.sent})
    limit = (f"app limit {app_limit}/s, {60 * app_limit}/min" if app_limit
             else "app limit Feishu's default 50/s, 1000/min")
    print(f"jiaolian serve (SQLite, WAL) vs bare aiohttp endpoint; {CHATS} chats, "
          f"{CONCURRENCY} posters at full speed; {limit}; cpu count {os.cpu_count()}")
    print(line(f"ack, steady {rate:.0f}/s for {seconds:.0f} s", acks_steady, seconds))
    print(line("ack, full speed", acks_burst, burst_s))
    print(line("ack, bare endpoint, full speed, before", acks_bare, bare_s))
    print(line("ack, bare endpoint, full speed, after", acks_bare_after, bare_after_s))
    print(line("ack, steady 20/s", calm_acks))
    print(line("reply latency, steady phase", e2e(steady_events)))
    print(line("reply latency, full-speed phase", e2e(burst_events)))
    print(line("reply latency, steady 20/s", e2e(calm_events)))
    bare_rate = (len(acks_bare) / bare_s + len(acks_bare_after) / bare_after_s) / 2
    ratio = (len(acks_burst) / burst_s) / bare_rate
    print(f"full-speed throughput ratio jiaolian/bare: {100 * ratio:.0f} %  (target ≥ 40 %)")
    p99 = ms(acks_steady, 0.99)
    print(f"p99 ack at {rate:.0f}/s: {p99:.1f} ms  (target < 50 ms)")
    print(f"events {len(all_ids)} (+20 warm-up); replies {len(fake.sent)}; "
          f"distinct uuids {distinct_uuids}; "
          f"send/reply calls {fake.message_calls}; token requests {fake.token_requests}; "
          f"every event answered exactly once: {once}")
    return 0 if once and p99 < 50 and ratio >= 0.4 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--app-limit", type=int, default=None, metavar="N",
                        help="the app's sends a second in the configuration (default: "
                             "Feishu's 50); its minute's figure becomes 60 × N")
    ns = parser.parse_args()
    sys.exit(asyncio.run(main(ns.rate, ns.seconds, ns.burst, ns.app_limit)))
