"""Attachments made at delivery: a recipe on an outbox row (`Attachment.make`) becomes a
blob just before the row is sent.

The scheduler names a chart in the beat and leaves the drawing (a database read and a
tenth of a second of matplotlib each) to delivery, one row at a time, off the event loop.
A made attachment is written back to the row, so a retry sends the same bytes. A recipe
that cannot be made (no such community any more, no quota rule to chart) is dropped with a
log line and the message goes without it; a database fault raises and the row is tried
again later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chart import ChartError, chart_data, chart_png
from handlers.messages import Attachment
from handlers.periods import PeriodOf
from handlers.quotas import Quota
from scheduler.charts import COMMUNITY_CHART
from storage.blobs import BlobStorage
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import set_attachments

log = logging.getLogger(__name__)

Maker = Callable[[AsyncSession, Mapping[str, Any]], Awaitable[bytes]]


class CannotMake(Exception):
    """The recipe names something that is not there (any more)."""


def community_chart_maker(*, quotas: tuple[Quota, ...], period_of: PeriodOf,
                          activity_names: Mapping[str, str]) -> Maker:
    async def make(session: AsyncSession, args: Mapping[str, Any]) -> bytes:
        activity = str(args.get("activity", "lesson_prep"))
        try:
            data = await chart_data(
                session, community_id=int(args["community_id"]),
                start=dt.date.fromisoformat(str(args["start"])),
                end=dt.date.fromisoformat(str(args["end"])), quotas=quotas, activity=activity,
                activity_name=activity_names.get(activity, activity), period_of=period_of)
        except (ChartError, KeyError, ValueError) as exc:
            raise CannotMake(str(exc)) from exc
        return await asyncio.to_thread(chart_png, data)

    return make


class Makers:
    """The recipes delivery knows, by name, and where made files are kept."""

    def __init__(self, *, factory: async_sessionmaker[AsyncSession], blobs: BlobStorage,
                 makers: Mapping[str, Maker]) -> None:
        self.factory = factory
        self.blobs = blobs
        self.makers = dict(makers)

    async def complete(self, row: OutboxMessage) -> None:
        """Make the row's recipes (in place and in the database); nothing to do, nothing done."""
        raw = list(row.attachments or [])
        if not any(a.get("make") and not a.get("sha256") for a in raw):
            return
        done: list[dict[str, Any]] = []
        async with self.factory() as session:
            for item in raw:
                attachment = Attachment.from_dict(item)
                if attachment.sha256 or not attachment.make:
                    done.append(item)
                    continue
                maker = self.makers.get(attachment.make)
                try:
                    if maker is None:
                        raise CannotMake(f"no maker named {attachment.make!r}")
                    data = await maker(session, dict(attachment.args))
                except CannotMake as exc:
                    log.warning("outbox %s: %s not made, sent without it: %s", row.id,
                                attachment.make, exc)
                    continue
                blob = self.blobs.put(data)
                done.append({**item, "sha256": blob.sha256, "size": blob.size})
        assert row.id is not None
        async with transaction(self.factory) as session:
            await set_attachments(session=session, message_id=row.id, attachments=done)
        row.attachments = done


def default_makers(*, factory: async_sessionmaker[AsyncSession], blobs: BlobStorage,
                   quotas: tuple[Quota, ...], period_of: PeriodOf,
                   activity_names: Mapping[str, str]) -> Makers:
    return Makers(factory=factory, blobs=blobs, makers={
        COMMUNITY_CHART: community_chart_maker(quotas=quotas, period_of=period_of,
                                               activity_names=activity_names)})
