"""The chart that goes with the month's first community digest, privately.

A lead school's principal reads "各校每月集体备课" at a glance: each school's months of the
term so far against the monthly quota (handlers.chart, the chat's own counting). The beat
only names the chart (an attachment to make, `community_chart`); delivery draws it just
before the digest is sent (bot.makers), so a Monday with hundreds of digests stays a quick
beat. Imports handlers and scheduler.calendar; never bot.
"""

from __future__ import annotations

import datetime as dt

from handlers.messages import Attachment
from handlers.periods import Period, add_months
from handlers.quotas import rule_for
from scheduler.calendar import SchoolCalendar
from scheduler.config import SchedulerConfig

CHARTED = "lesson_prep"  # the monthly community quota every county has (spec/domain.md)
MAX_MONTHS = 6  # a term's months; more bars no longer read on a phone
COMMUNITY_CHART = "community_chart"


class CommunityCharts:
    """The chart to attach to one digest run's community digests."""

    def __init__(self, *, calendar: SchoolCalendar, config: SchedulerConfig,
                 month: Period, communities: dict[int, str]) -> None:
        self.calendar = calendar
        self.config = config
        self.month = month
        self.communities = communities
        rule = rule_for(config.quotas, CHARTED, "month")
        self.charted = rule is not None and rule.scope == "community"

    def _first_month(self) -> dt.date:
        """The month of the term's first school day (a term counts the vacation before it,
        whose empty months would say nothing), at most MAX_MONTHS back."""
        term = self.calendar.period("semester", self.month.start)
        days = self.calendar.school_days(term.start, min(term.end, self.month.end))
        first = days[0] if days else self.month.start
        return max(first.replace(day=1), add_months(self.month.start, 1 - MAX_MONTHS))

    def of(self, community_id: int) -> Attachment | None:
        """The community's chart up to the digest's month, to be drawn at delivery; None
        when the county has no monthly community rule to chart."""
        if not self.charted or community_id not in self.communities:
            return None
        first, last = self._first_month(), self.month.start
        span = (f"{first.year}年{first.month}月" if first == last else
                f"{first.year}年{first.month}月-{last.month}月" if first.year == last.year else
                f"{first.year}年{first.month}月-{last.year}年{last.month}月")
        name = (f"{self.communities[community_id]}_各校每月"
                f"{self.config.name_of(CHARTED)}_{span}.png")
        return Attachment.to_make("image", name.replace(" ", "_").replace("/", "_"),
                                  COMMUNITY_CHART, community_id=community_id,
                                  start=first.isoformat(), end=last.isoformat(),
                                  activity=CHARTED)
