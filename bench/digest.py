"""Scheduler speed on a large county: weekly digests, a day of beats, a Monday-morning beat.

Usage: python bench/digest.py [--sqlite PATH] [--pg URL] [--schools 1000] [--teachers 50000]
Seeds 1,000 schools (200 communities), 50,000 teachers and a year of activity (about a million
activity and attendance rows) with bulk inserts (sqlite3 executemany, PostgreSQL COPY), then
times, on each database:
- `collect_digests` for week 2026-W47 (every weekly digest);
- `collect_due` beat by beat (one a minute) over all of Thursday 26 November 2026: the
  day's total, the slowest beat, and the median and slowest beat that queues nothing;
- the Monday-morning beat of 2 November 2026 (08:00, the month's first digests: month
  results, quota reminders, principals' notes, every weekly digest), once with `files=None`
  (no attachments) and once with a blob store in a temporary directory, so that each
  community's digest names its chart (scheduler/charts.py) as in production; the chart is
  drawn later, by delivery (bot/makers.py), and is not part of the beat.
No term ends in these windows, so the term summary's assessment workbook is not produced.
PostgreSQL is used when --pg or $JIAOLIAN_TEST_PG_URL is set (a scratch database is created
and dropped). Targets (issue 13): a day of beats ≤ 3 s, a beat with nothing due ≤ 20 ms,
the Monday-morning beat ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bench.scratch import pg_admin, scratch_database  # noqa: E402
from handlers.clock import SHANGHAI  # noqa: E402
from scheduler.calendar import SchoolCalendar  # noqa: E402
from scheduler.config import config_for  # noqa: E402
from scheduler.due import collect_digests, collect_due  # noqa: E402
from storage.blobs import BlobStore  # noqa: E402
from storage.db import create_engine, session_factory, upgrade  # noqa: E402

FIRST_DAY = dt.date(2025, 12, 1)
LAST_DAY = dt.date(2026, 11, 30)
DONE = ("lesson_prep", "research", "observation", "open_class", "outreach", "supervision",
        "training", "parent_school", "contest", "assessment")
SUBJECTS = ("语文", "数学", "英语", "科学", "物理", "化学", "音乐", "体育", "美术", "历史")
WEEK = dt.date(2026, 11, 16)
DAY = dt.date(2026, 11, 26)
MONDAY = dt.date(2026, 11, 2)  # the month's first digests, with charts


def utc_naive(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


class County:
    """Every row of the benchmark county, as tuples in table column order."""

    def __init__(self, schools: int, teachers: int, seed: int = 7) -> None:
        rnd = random.Random(seed)
        per = 5
        self.communities = [(c, f"教共体{c}", "共建型", "基准县教育局")
                            for c in range(1, schools // per + 1)]
        self.schools = [(s, f"学校{s}", (s - 1) // per + 1, (s - 1) % per == 0, json.dumps([]))
                        for s in range(1, schools + 1)]
        self.groups = [(c, "bench", f"chat-{c}", f"教共体{c}群", c, None, "")
                       for c, *_ in self.communities]
        members = []
        mid = 0
        for s, *_ in self.schools:
            mid += 1
            members.append((mid, f"校长{s}", "principal", s, "[]", "", True))
        self.principals = mid
        for t in range(teachers):
            mid += 1
            school = t % schools + 1
            subject = SUBJECTS[t % len(SUBJECTS)]
            members.append((mid, f"教师{t}", "teacher", school,
                            json.dumps([subject], ensure_ascii=False), "", True))
        mid += 1
        members.append((mid, "管理员", "admin", None, "[]", "", True))
        self.members = members
        self.identities = [(i, m[0], "bench", f"u{m[0]}")
                           for i, m in enumerate((m for m in members if m[2] != "teacher"), 1)]
        self.activities: list[tuple[Any, ...]] = []
        self.attendance: list[tuple[Any, ...]] = []
        teachers_of: dict[int, list[int]] = {s: [] for s, *_ in self.schools}
        for m in members:
            if m[2] == "teacher":
                teachers_of[m[3]].append(m[0])
        aid = 0
        day = FIRST_DAY
        while day <= LAST_DAY:
            if day.weekday() < 5:
                for s, _, c, *_ in self.schools:
                    staff = teachers_of[s]
                    # A third of the communities fell silent in November, so some quotas
                    # are short when the month's reminders are computed.
                    quiet = c % 3 == 0 and day.month == 11
                    # About 1.2 reports a school day per school: ~300,000 a year.
                    for _ in range(0 if quiet else 1 + (rnd.random() < 0.2)):
                        aid += 1
                        self.activities.append((
                            aid, "done", rnd.choice(DONE), day, "15:00", utc_naive(day, 15), None,
                            rnd.choice(SUBJECTS), None, 10, None, s, c, None, rnd.choice(staff),
                            "", None, 1.0, False, False, utc_naive(day, 18)))
                    if rnd.random() < 0.1:  # a planned activity with a sign-in sheet
                        aid += 1
                        # Signed-in plans before the measured day took place (held).
                        self.activities.append((
                            aid, "held" if day < DAY else "planned", "training", day, "14:00",
                            utc_naive(day, 14), utc_naive(day, 16), None, None, None, None, s,
                            c, c, staff[0], "", None, 1.0, False, False, utc_naive(day, 8)))
                        for member in rnd.sample(staff, min(len(staff), 25)):
                            kind = "leave" if rnd.random() < 0.05 else "checkin"
                            self.attendance.append((
                                len(self.attendance) + 1, member, kind, day,
                                utc_naive(day, 13, 45), aid, c, rnd.random() < 0.1, False, False,
                                "", None, False, utc_naive(day, 13, 45)))
            day += dt.timedelta(days=1)

    def tables(self) -> Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]:
        yield "community", ["id", "name", "kind", "bureau"], self.communities
        yield "school", ["id", "name", "community_id", "is_lead", "aliases"], self.schools
        yield "chatgroup", ["id", "platform", "chat_id", "name", "community_id", "school_id",
                            "app_id"], self.groups
        yield "member", ["id", "name", "role", "school_id", "subjects", "phone", "active"], \
            self.members
        yield "identity", ["id", "member_id", "platform", "external_id"], self.identities
        yield "activity", ["id", "status", "activity", "date", "time", "starts_at", "ends_at",
                           "subject", "grade", "participants", "topic", "school_id",
                           "community_id", "group_id", "reporter_id", "source_text",
                           "inbox_id", "confidence", "withdrawn", "confirmed", "created_at"], \
            self.activities
        yield "attendance", ["id", "member_id", "type", "date", "at", "activity_id", "group_id",
                             "late", "early", "makeup", "note", "inbox_id", "withdrawn",
                             "created_at"], \
            self.attendance


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def seed_sqlite(path: str, county: County) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for table, columns, rows in county.tables():
            marks = ",".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
                             ([_sqlite_value(v) for v in row] for row in rows))
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def seed_pg(url: str, county: County) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username,
                                 password=u.password, database=u.database)
    try:
        for table, columns, rows in county.tables():
            await conn.copy_records_to_table(table, records=rows, columns=columns)
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def measure(label: str, url: str, county: County, seed: Any) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        await seed(county)
        seeded = time.perf_counter() - started
        rows = sum(len(rows) for *_, rows in county.tables())
        factory = session_factory(engine)
        config = config_for(scheduler={}, nlu={})
        started = time.perf_counter()
        async with factory() as session:
            digests = await collect_digests(session=session, config=config, week_start=WEEK)
        digest_s = time.perf_counter() - started
        # The day as production runs it: one beat a minute, each over the minute just past.
        moment = dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=SHANGHAI)
        reminders: list[Any] = []
        slowest = 0.0
        idle: list[float] = []
        busy: list[float] = []  # idle beats outside the quiet hours
        quiet = 0
        cal = SchoolCalendar(config)
        started = time.perf_counter()
        for _ in range(24 * 60):
            beat = time.perf_counter()
            async with factory() as session:
                found = await collect_due(session=session, last_run=moment, config=config,
                                          now=moment + dt.timedelta(minutes=1))
            took = time.perf_counter() - beat
            slowest = max(slowest, took)
            if not found:
                idle.append(took)
                if cal.is_quiet(moment + dt.timedelta(minutes=1)):
                    quiet += 1
                else:
                    busy.append(took)
            reminders += found
            moment += dt.timedelta(minutes=1)
        remind_s = time.perf_counter() - started
        mondays = []
        with tempfile.TemporaryDirectory() as tmp:
            for files in (None, BlobStore(tmp)):
                at = dt.datetime.combine(MONDAY, config.digest_time, tzinfo=SHANGHAI)
                started = time.perf_counter()
                async with factory() as session:
                    found = await collect_due(session=session, config=config, files=files,
                                              last_run=at - dt.timedelta(minutes=1), now=at)
                charts = sum(len(m.attachments or []) for m in found)
                mondays.append((time.perf_counter() - started, found, charts))
    finally:
        await engine.dispose()
    busy.sort()
    print(f"{label}: {rows:,} rows seeded in {seeded:.1f} s\n"
          f"  all weekly digests of {WEEK:%G-W%V}: {len(digests):,} messages in {digest_s:.2f} s"
          f"  {_kinds(digests)}\n"
          f"  all reminders of {DAY} (1,440 one-minute beats): {len(reminders):,} messages in "
          f"{remind_s:.2f} s, slowest beat {slowest:.2f} s  {_kinds(reminders)}\n"
          f"  beats with nothing due: {len(idle):,} ({quiet} in the quiet hours), outside them "
          f"median {busy[len(busy) // 2] * 1000:.1f} ms, 99th percentile "
          f"{busy[int(0.99 * len(busy))] * 1000:.1f} ms, slowest {busy[-1] * 1000:.1f} ms")
    for (took, found, charts), how in zip(mondays, ("files=None", "charts named"),
                                          strict=True):
        print(f"  Monday {MONDAY} {config.digest_time:%H:%M} beat ({how}): {len(found):,} "
              f"messages, {charts} attachments, in {took:.2f} s  {_kinds(found)}")


def _kinds(messages: list[Any]) -> str:
    counts = Counter((m.extra or {}).get("kind", "") for m in messages)
    return "(" + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + ")"


Measure = Callable[[str, str, County, Callable[[County], Awaitable[None]]], Awaitable[None]]


async def on_both(args: argparse.Namespace, county: County, measure: Measure, *,
                  after_pg_seed: str = "") -> None:
    """`measure` on a fresh SQLite file, then (with --pg) on a scratch PostgreSQL database;
    `after_pg_seed` is a statement run there after seeding (pages.py vacuums)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.sqlite or Path(tmp) / "bench.sqlite3")
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - once, before anything runs

        async def sqlite_seed(c: County) -> None:
            await asyncio.to_thread(seed_sqlite, str(path), c)

        await measure("SQLite", f"sqlite:///{path}", county, sqlite_seed)
    pg = args.pg or os.environ.get("JIAOLIAN_TEST_PG_URL", "")
    if not pg:
        print("PostgreSQL: skipped (set --pg or $JIAOLIAN_TEST_PG_URL)")
        return
    async with scratch_database(pg) as url:
        async def pg_seed(c: County) -> None:
            await seed_pg(url, c)
            if after_pg_seed:
                await pg_admin(url, after_pg_seed)

        await measure("PostgreSQL", url, county, pg_seed)


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    county = County(args.schools, args.teachers)
    print(f"county built in {time.perf_counter() - started:.1f} s: {len(county.schools):,} "
          f"schools, {len(county.members):,} members, {len(county.activities):,} activities, "
          f"{len(county.attendance):,} attendance rows")
    await on_both(args, county, measure)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sqlite", help="SQLite file to (re)create (default: a temporary one)")
    ap.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made there)")
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--teachers", type=int, default=50_000)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
