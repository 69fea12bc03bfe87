"""The county page on a large county: how long `GET /p/county` takes to render.

Usage: python bench/pages.py [--sqlite PATH] [--pg URL] [--schools 1000] [--teachers 20000]
Seeds the county of bench/digest.py (1,000 schools in 200 communities and a year of activity),
signs the admin in through the stored session table, and times the whole request (session,
scope, handlers.standing over this month, quarter and term, the HTML) several times, on SQLite
and on PostgreSQL (--pg or $JIAOLIAN_TEST_PG_URL; a scratch database is made and dropped).
Target: < 300 ms. Also times one community page.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from aiohttp import DummyCookieJar, web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from digest import County, on_both  # noqa: E402

from bot.config import settings_from_dict  # noqa: E402
from bot.pages.routes import COOKIE, add_page_routes  # noqa: E402
from handlers.clock import SHANGHAI, FixedClock  # noqa: E402
from handlers.nlu.lexicon import activity_names  # noqa: E402
from scheduler.calendar import SchoolCalendar  # noqa: E402
from scheduler.config import config_for  # noqa: E402
from storage.db import create_engine, session_factory, transaction, upgrade  # noqa: E402
from storage.pages import open_session  # noqa: E402

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
RUNS = 7


async def measure(label: str, url: str, county: County, seed: Any) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        await seed(county)
        seeded = time.perf_counter() - started
        factory = session_factory(engine)
        settings = settings_from_dict({"pages": {"public_url": "https://bench.example.cn"}})
        calendar = SchoolCalendar(config_for(scheduler={}, nlu={}))
        runtime = SimpleNamespace(
            clock=FixedClock(NOW), factory=factory, blobs=None,
            services=SimpleNamespace(period_of=calendar.period,
                                     activity_names=activity_names(settings.nlu)))
        admin = county.members[-1][0]
        async with transaction(factory) as session:
            token = await open_session(session=session, member_id=admin, now=NOW,
                                       lifetime=dt.timedelta(hours=1))
        app = web.Application()
        add_page_routes(app, settings, lambda _: runtime)  # type: ignore[arg-type,return-value]
        client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
        await client.start_server()
        headers = {"Cookie": f"{COOKIE}={token}"}
        try:
            times: dict[str, list[float]] = {"/p/county": [], "/p/c/1": []}
            size = 0
            for path, spent in times.items():
                for _ in range(RUNS):
                    began = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    body = await response.read()
                    spent.append(time.perf_counter() - began)
                    assert response.status == 200, (path, response.status)
                    if path == "/p/county":
                        size = len(body)
        finally:
            await client.close()
    finally:
        await engine.dispose()
    county_ms = [t * 1000 for t in times["/p/county"]]
    community_ms = [t * 1000 for t in times["/p/c/1"]]
    print(f"{label}: seeded in {seeded:.1f} s\n"
          f"  county page ({len(county.communities)} communities, {size / 1024:.0f} KiB): "
          f"median {statistics.median(county_ms):.0f} ms, first {county_ms[0]:.0f} ms, "
          f"best {min(county_ms):.0f} ms (target < 300 ms)\n"
          f"  community page: median {statistics.median(community_ms):.0f} ms")


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    county = County(args.schools, args.teachers)
    print(f"county built in {time.perf_counter() - started:.1f} s: {len(county.schools):,} "
          f"schools, {len(county.members):,} members, {len(county.activities):,} activities")
    # After a bulk load PostgreSQL vacuums soon (autovacuum): the visibility map lets the
    # covering index answer the counts without visiting the table.
    await on_both(args, county, measure, after_pg_seed="VACUUM ANALYZE activity")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sqlite", help="SQLite file to (re)create (default: a temporary one)")
    ap.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made there)")
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--teachers", type=int, default=20_000)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
