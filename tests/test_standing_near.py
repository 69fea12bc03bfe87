"""Counting for some communities reads only the rows near them; the figures must be exactly
those of the county-wide count, even for events held at one community's school but filed
under another, or reported by a teacher of a third."""

from __future__ import annotations

import datetime as dt
import itertools

from handlers.periods import plain_period
from handlers.quotas import DEFAULT_QUOTAS, Quota
from handlers.standing import load_county, standing
from storage.db import transaction
from storage.models import Activity, ActivityReport, Member
from tests.chat_harness import Chat

TODAY = dt.date(2026, 11, 26)
CODES = ("lesson_prep", "outreach", "supervision", "research")
SUBJECTS = ("语文", "数学", None)


async def test_some_communities_count_exactly_as_the_whole_county(chat: Chat) -> None:
    factory = chat.runtime.factory
    async with transaction(factory) as session:
        county = await load_county(session=session)
        teachers = [m for m in (await session.execute(
            Member.__table__.select())).all() if m.role == "teacher"]  # type: ignore[attr-defined]
        schools = sorted(county.schools)
        cids = sorted(county.communities)
        now = chat.clock.now()
        combos = itertools.product(cids, schools[:6] + [None], CODES, SUBJECTS)  # type: ignore[list-item]
        for n, (cid, sid, code, subject) in enumerate(combos):
            if n % 3:
                continue
            event = Activity(status="done", activity=code, date=TODAY - dt.timedelta(days=n % 40),
                             subject=subject, school_id=sid, community_id=cid,
                             reporter_id=teachers[n % len(teachers)].id, created_at=now)
            session.add(event)
            await session.flush()
            reporter = teachers[(n * 7) % len(teachers)]
            session.add(ActivityReport(activity_id=int(event.id or 0), member_id=reporter.id,
                                       created_at=now))
    quotas: list[Quota] = [*DEFAULT_QUOTAS, Quota("research", 3, "quarter", "member_school")]
    periods = {kind: plain_period(kind, TODAY) for kind in ("month", "quarter", "semester",
                                                            "year")}
    async with factory() as session:
        everyone = await standing(session=session, county=county, quotas=quotas,
                                  periods=periods, per_school=True)
        assert any(s.done for s in everyone)
        for chosen in ([cids[1]], [cids[0], cids[2]]):
            some = await standing(session=session, county=county, quotas=quotas,
                                  periods=periods, per_school=True, communities=chosen)
            assert some == [s for s in everyone if s.community_id in chosen]
