"""The composition root: the one place that wires settings, storage, parser, handlers,
channels, the worker and delivery together. The web app and the console both start here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import Channel
from bot.config import Settings
from bot.delivery import Delivery
from bot.ingest import Acks, InboxWriter
from bot.makers import default_makers
from bot.metrics import Metrics
from bot.pages.tokens import LinkMaker
from bot.photos import PictureFetcher
from bot.shared_limits import SendLimits
from bot.worker import Worker
from handlers.clock import Clock
from handlers.nlu import Parser
from handlers.nlu.lexicon import activity_names
from handlers.registry import build_dispatcher
from handlers.routing import Services
from scheduler.calendar import SchoolCalendar
from scheduler.config import config_for
from scheduler.due import digest_so_far
from storage.blobs import BlobStorage, BlobStore
from storage.db import create_engine, is_sqlite, session_factory, upgrade
from storage.roster import all_schools

log = logging.getLogger(__name__)


TimeHook = Callable[[datetime, datetime], Awaitable[None]]


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    clock: Clock
    channels: dict[str, Channel]
    worker: Worker
    delivery: Delivery
    services: Services
    inbox: InboxWriter
    # Photos in, workbooks and charts out: the one store of files, handed to every channel.
    blobs: BlobStorage
    # Counted by the worker, delivery, ingest and the web app; rendered at GET /metrics.
    metrics: Metrics = field(default_factory=Metrics)
    # Called when the console's simulated clock jumps (the scheduler catches up there).
    time_hooks: list[TimeHook] = field(default_factory=list)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.platform] = channel

    async def close(self) -> None:
        await self.inbox.close()
        await self.engine.dispose()


def blob_storage(settings: Settings) -> BlobStorage:
    """The bucket when `[files] s3_bucket` is set, else the directory `[files] dir`."""
    files = settings.files
    if not files.s3_bucket:
        return BlobStore(files.dir)
    from storage.s3 import S3BlobStore, S3Location

    return S3BlobStore(S3Location(
        endpoint=files.s3_endpoint, bucket=files.s3_bucket, access_key=files.s3_access_key,
        secret_key=files.s3_secret_key, region=files.s3_region, prefix=files.s3_prefix))


async def build_parser(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> Parser:
    async with factory() as session:
        schools = [(s.name, tuple(s.aliases or ())) for s in await all_schools(session=session)]
    # jieba's dictionary load is CPU-bound; keep it off the event loop.
    return await asyncio.to_thread(Parser, schools=schools, settings=settings.nlu)


async def open_runtime(
    settings: Settings, *, clock: Clock, channels: Mapping[str, Channel] | None = None,
    parser: Parser | None = None, blobs: BlobStorage | None = None,
) -> Runtime:
    """Open everything; `parser` lets a caller that already built one (tests) share it, and
    `blobs` a caller whose channels exist before the runtime (the console) share its store."""
    if settings.database.echo:
        log.warning("[database] echo is on: every SQL statement and its parameters (message "
                    "text, platform tokens) go to the log; turn it off after debugging")
    # Background database work gives way to the acknowledgements in hand (bot.ingest).
    acks = Acks(clock)
    # No pre-ping (a round trip before every transaction): the loops retry a statement that
    # meets a dropped connection, and the pool renews its connections.
    engine = create_engine(settings.database.url, echo=settings.database.echo,
                           give_way=acks, pre_ping=False)
    await upgrade(engine)
    factory = session_factory(engine)
    config = config_for(scheduler=settings.scheduler, nlu=settings.nlu,
                        timezone=settings.bot.timezone)
    calendar = SchoolCalendar(config)
    blobs = blobs or blob_storage(settings)
    services = Services(
        parser=parser or await build_parser(settings, factory),
        activity_names=activity_names(settings.nlu),
        followup=timedelta(minutes=settings.bot.followup_minutes),
        quotas=config.quotas,
        rotation=config.rotation,
        tz=config.timezone,
        period_of=calendar.period,
        lengths=calendar.config.lengths,
        digest_now=functools.partial(digest_so_far, config=config),
        blobs=blobs,
        max_image_bytes=settings.files.max_image_bytes,
        page_link=LinkMaker(public_url=settings.pages.public_url, secret=settings.pages.secret,
                            lifetime=timedelta(minutes=settings.pages.link_minutes))
        if settings.pages.public_url else None,
        page_link_minutes=settings.pages.link_minutes,
    )
    metrics = Metrics()
    # A parser shared between runtimes (tests) reports to the newest one.
    services.parser.on_parsed = metrics.parse_seconds.observe
    chans: dict[str, Channel] = dict(channels or {})
    makers = default_makers(factory=factory, blobs=blobs, quotas=config.quotas,
                            period_of=calendar.period, activity_names=services.activity_names)
    delivery = Delivery(factory=factory, channels=chans, clock=clock, metrics=metrics,
                        makers=makers, limits=SendLimits.from_settings(settings),
                        # SQLite is one instance: the channels' own windows are enough.
                        shared_limits=not is_sqlite(settings.database.url))
    worker = Worker(factory=factory, channels=chans, services=services,
                    dispatcher=build_dispatcher(), clock=clock, delivered=delivery.wakeup,
                    pictures=PictureFetcher(factory=factory,
                                            limit=settings.files.max_image_bytes),
                    metrics=metrics)
    for loop in (worker.loop, delivery.loop):
        loop.on_failure = metrics.loop_failures.labels(loop.name).inc
    # No ping either: an insert that finds its pooled connection closed is tried again.
    ingest_engine = create_engine(settings.database.url, pre_ping=False)
    inbox = InboxWriter(engine=ingest_engine, clock=clock, wakeup=worker.wakeup, metrics=metrics,
                        acks=acks)
    worker.yield_to = delivery.yield_to = acks.let_through
    # SQLite: a transaction of several events ends when an acknowledgement waits for its lock;
    # PostgreSQL has no lock to free, and ends one only in a burst, to let the burst go first.
    worker.pressed = acks.busy if is_sqlite(settings.database.url) else acks.in_burst
    return Runtime(settings=settings, engine=engine, factory=factory, clock=clock,
                   channels=chans, worker=worker, delivery=delivery, services=services,
                   inbox=inbox, blobs=blobs, metrics=metrics)
