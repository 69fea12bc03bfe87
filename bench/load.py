"""Load: a mixed stream (check-ins, reports, queries, help, redeliveries) against `serve`.

Usage: python bench/load.py [--rate 200] [--seconds 60] [--burst 3000] [--pg ADMIN_URL]
                            [--app-limit N]
One instance on SQLite; with --pg, also two instances (--pg-instances) sharing one PostgreSQL
database, each event posted to one and its redelivery (10 %) to the other. Every phase
against the fake Feishu API in this process, over 400 chats, by linked roster members.
Prints throughput, p50/p99 acknowledgement and end-to-end reply latency, resident memory of
each instance, and the events lost (never answered) and duplicated (answered twice).
Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_webhook", ROOT / "bench" / "webhook.py")
assert _spec is not None and _spec.loader is not None
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)


from bench.scratch import scratch_database  # noqa: E402
from tests.fakes.feishu_signing import signed_body, text_event  # noqa: E402

TEXTS = hook.TEXTS
REDELIVERED = 0.10
Event = tuple[str, str, dict[str, str], bytes]  # message_id, event_id, headers, body


prepare = hook.prepare_database


def make(prefix: str, count: int, senders: list[str]) -> list[Event]:
    out = []
    bot = [{"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}]
    for n in range(count):
        message_id, event_id = f"om_{prefix}_{n}", f"ev_{prefix}_{n}"
        event = text_event(f"@_user_1 {TEXTS[n % len(TEXTS)]}", app_id=hook.APP_ID,
                           token=hook.TOKEN, chat_id=f"oc_{n % hook.CHATS}",
                           open_id=senders[n % len(senders)], event_id=event_id,
                           message_id=message_id, mentions=bot)
        headers, body = signed_body(event, encrypt_key=hook.KEY)
        out.append((message_id, event_id, headers, body))
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def post(session: aiohttp.ClientSession, url: str, ev: Event) -> float:
    return float(await hook.post_one(session, url, ev[2], ev[3]))


async def phase(session: aiohttp.ClientSession, urls: list[str], events: list[Event],
                rate: float | None, sent_at: dict[str, float]) -> tuple[list[float], float]:
    """Each event to one instance (round robin); 10 % posted again to the next one."""
    rng = random.Random(7)
    jobs: list[tuple[str, Event]] = []
    for n, ev in enumerate(events):
        jobs.append((urls[n % len(urls)], ev))
        if rng.random() < REDELIVERED:
            jobs.append((urls[(n + 1) % len(urls)], ev))
    latencies: list[float] = []
    start = time.perf_counter()
    if rate is None:
        queue = list(reversed(jobs))

        async def poster() -> None:
            while queue:
                url, ev = queue.pop()
                sent_at.setdefault(ev[0], time.perf_counter())
                latencies.append(await post(session, url, ev))

        await asyncio.gather(*(poster() for _ in range(hook.CONCURRENCY)))
    else:
        tasks = []
        for n, (url, ev) in enumerate(jobs):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at.setdefault(ev[0], time.perf_counter())
            tasks.append(asyncio.create_task(post(session, url, ev)))
        latencies = list(await asyncio.gather(*tasks))
    return latencies, time.perf_counter() - start


def write_config(path: Path, port: int, db_url: str, api_base: str,
                 app_limit: int | None = None) -> None:
    hook.write_config(path, port, db_url, api_base, app_limit)
    with path.open("a", encoding="utf-8") as f:
        f.write(f'\n[files]\ndir = "{path.parent / "files"}"\n[scheduler]\nenabled = false\n')


async def run(name: str, db_url: str, instances: int, args: argparse.Namespace,
              tmp: Path) -> None:
    senders = await prepare(db_url)
    steady_events = make(f"{name}s", int(args.rate * args.seconds), senders)
    burst_events = make(f"{name}b", args.burst, senders)
    # The load generator's full collections would walk the prepared requests and stall its
    # loop, counted as the server's latency (bench/webhook.py does the same).
    gc.collect()
    gc.freeze()
    fake = hook.TimedFake(app_id=hook.APP_ID, app_secret=hook.SECRET)
    await fake.start()
    procs, urls = [], []
    for i in range(instances):
        port = hook.free_port()
        cfg = tmp / f"{name}{i}" / "config.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        write_config(cfg, port, db_url, fake.url, args.app_limit)
        env_bin = Path(sys.executable).with_name("jiaolian")
        procs.append(await hook.start_process([str(env_bin), "serve", "--config", str(cfg)],
                                              port, "/healthz", cfg.parent / "serve.log"))
        urls.append(f"http://127.0.0.1:{port}/feishu/events")
    idle = [rss_mib(p.pid) for p in procs]
    sent_at: dict[str, float] = {}
    all_events = steady_events + burst_events
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=hook.CONCURRENCY * 4)) as session:
            steady_acks, steady_s = await phase(session, urls, steady_events, args.rate, sent_at)
            burst_acks, burst_s = await phase(session, urls, burst_events, None, sent_at)

            async def answered() -> bool:
                return all(ev[0] in fake.first_reply_at for ev in all_events)

            lost_wait = False
            try:
                await hook.wait_until(answered, hook.DRAIN_S, "every reply")
            except TimeoutError:
                lost_wait = True
            busy = [rss_mib(p.pid) for p in procs]
    finally:
        for p in procs:
            await hook.stop_process(p)
        await fake.close()
    replies: dict[str, set[str]] = {}
    for sent in fake.sent:
        replies.setdefault(sent.target, set()).add(sent.uuid)
    lost = sum(1 for ev in all_events if ev[0] not in replies)
    doubled = sum(1 for ev in all_events if len(replies.get(ev[0], ())) > 1)

    def e2e(events: list[Event]) -> list[float]:
        return [fake.first_reply_at[ev[0]] - sent_at[ev[0]] for ev in events
                if ev[0] in fake.first_reply_at]

    print(f"== {name}: {instances} instance(s); {hook.CHATS} chats; cpu count {os.cpu_count()}")
    print(hook.line(f"ack, steady {args.rate:.0f}/s", steady_acks, steady_s))
    print(hook.line("ack, full speed", burst_acks, burst_s))
    if e2e(steady_events):
        print(hook.line("reply latency, steady", e2e(steady_events)))
    if e2e(burst_events):
        print(hook.line("reply latency, full speed", e2e(burst_events)))
    print(f"resident memory MiB: idle {', '.join(f'{m:.0f}' for m in idle)}; "
          f"after {', '.join(f'{m:.0f}' for m in busy)}")
    print(f"events {len(all_events)} (+{len(steady_acks) + len(burst_acks) - len(all_events)} "
          f"redeliveries); lost {lost}; answered twice {doubled}"
          + ("; gave up waiting" if lost_wait else ""))


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jl-load-"))
    await run("sqlite", f"sqlite:///{tmp}/load.sqlite3", 1, args, tmp)
    if args.pg:
        async with scratch_database(args.pg, "jl_load") as url:
            await run("postgresql", url, args.pg_instances, args, tmp)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--pg", default="", help="a PostgreSQL admin URL: two instances on it")
    parser.add_argument("--pg-instances", type=int, default=2, metavar="N",
                        help="how many `serve` instances share the PostgreSQL database")
    parser.add_argument("--app-limit", type=int, default=None, metavar="N",
                        help="the app's sends a second (default: Feishu's 50), as in webhook.py")
    asyncio.run(main(parser.parse_args()))
