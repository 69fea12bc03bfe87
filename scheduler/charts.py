"""The chart that goes with the month's first community digest, privately.

A lead school's principal reads "各校每月集体备课" at a glance: each school's months of the
term so far against the monthly quota (handlers.chart, the chat's own counting). One chart
per community per digest run, rendered off the event loop and kept in the blob store; the
digest carries it as an image attachment. Imports handlers and storage; never bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chart import ChartData, ChartError, chart_png, charts_data
from handlers.messages import Attachment
from handlers.periods import Period, add_months
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig
from storage.blobs import BlobStorage

log = logging.getLogger(__name__)

CHARTED = "lesson_prep"  # the monthly community quota every county has (spec/domain.md)
MAX_MONTHS = 6  # a term's months; more bars no longer read on a phone


class CommunityCharts:
    """Charts by community for one digest run, each rendered at most once."""

    def __init__(self, *, session: AsyncSession, calendar: SchoolCalendar,
                 config: SchedulerConfig, files: BlobStorage, month: Period) -> None:
        self.session = session
        self.calendar = calendar
        self.config = config
        self.files = files
        self.month = month
        self._made: dict[int, Attachment | None] = {}
        # Every community's figures, read together on the first chart asked for.
        self._data: dict[int, ChartData] | ChartError | None = None

    def _first_month(self) -> dt.date:
        """The month of the term's first school day (a term counts the vacation before it,
        whose empty months would say nothing), at most MAX_MONTHS back."""
        term = self.calendar.period("semester", self.month.start)
        days = self.calendar.school_days(term.start, min(term.end, self.month.end))
        first = days[0] if days else self.month.start
        return max(first.replace(day=1), add_months(self.month.start, 1 - MAX_MONTHS))

    async def of(self, community_id: int) -> Attachment | None:
        """The community's chart up to the digest's month; None when the county has no
        monthly community rule to chart or nothing could be drawn."""
        if community_id not in self._made:
            self._made[community_id] = await self._make(community_id)
        return self._made[community_id]

    async def _all_data(self) -> dict[int, ChartData] | ChartError:
        """Every community's chart figures from one county-wide count a month (a run charts
        them all; counting per community cost the county's counts once for each)."""
        if self._data is None:
            try:
                self._data = await charts_data(
                    self.session, community_ids=None, start=self._first_month(),
                    end=self.month.start, quotas=self.config.quotas, activity=CHARTED,
                    activity_name=self.config.name_of(CHARTED),
                    period_of=self.calendar.period)
            except ChartError as exc:
                self._data = exc
        return self._data

    async def _make(self, community_id: int) -> Attachment | None:
        found = await self._all_data()
        data = None if isinstance(found, ChartError) else found.get(community_id)
        if data is None:
            exc = found if isinstance(found, ChartError) else ChartError(
                f"no community #{community_id}")
            log.info("scheduler: no chart for community %s: %s", community_id, exc)
            return None
        png = await asyncio.to_thread(chart_png, data)
        blob = self.files.put(png)
        name = f"{data.title}.png".replace(" ", "_").replace("/", "_")
        return Attachment(kind="image", sha256=blob.sha256, name=name, size=blob.size)
