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

from handlers.chart import ChartError, chart_data, chart_png
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

    async def _make(self, community_id: int) -> Attachment | None:
        try:
            data = await chart_data(
                self.session, community_id=community_id, start=self._first_month(),
                end=self.month.start, quotas=self.config.quotas, activity=CHARTED,
                activity_name=self.config.name_of(CHARTED), period_of=self.calendar.period)
        except ChartError as exc:
            log.info("scheduler: no chart for community %s: %s", community_id, exc)
            return None
        png = await asyncio.to_thread(chart_png, data)
        blob = self.files.put(png)
        name = f"{data.title}.png".replace(" ", "_").replace("/", "_")
        return Attachment(kind="image", sha256=blob.sha256, name=name, size=blob.size)
