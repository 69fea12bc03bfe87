"""Routing: one handler per intent, registered on a feature's Router, included in one place.

The order of `include` calls in `handlers.registry` is the routing order. Imports nothing
of bot; handlers know nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.clock import SHANGHAI
from handlers.event_times import EventLengths
from handlers.messages import Attachment, IncomingMessage, Reply, Target
from handlers.nlu import Parser, ParseResult
from handlers.periods import PeriodOf, plain_period
from handlers.quotas import DEFAULT_QUOTAS, ExchangeTargets, Quota
from storage.blobs import BlobStorage
from storage.models import ChatGroup, Member

# (session, member id, today) → the texts of that member's digest of this week so far.
DigestNow = Callable[[AsyncSession, int, date], Awaitable[list[str]]]
# (session, member id, now) → a one-time link to that member's pages (handlers know no HTTP).
PageLinkMaker = Callable[[AsyncSession, int, datetime], Awaitable[str]]


@dataclass
class Services:
    """Long-lived things a handler may use; built once by the composition root."""

    parser: Parser
    activity_names: dict[str, str]
    followup: timedelta = timedelta(minutes=30)
    # The county's quotas and rotation targets, typed once from `[scheduler]`.
    quotas: tuple[Quota, ...] = DEFAULT_QUOTAS
    rotation: ExchangeTargets = field(default_factory=ExchangeTargets)
    # `[bot] timezone`: what "today" and "14:00" mean for the county.
    tz: ZoneInfo = SHANGHAI
    # A quota period around a day; the composition root passes the school calendar's.
    period_of: PeriodOf = plain_period
    lengths: EventLengths = field(default_factory=EventLengths)
    digest_now: DigestNow | None = None
    # Where photos and workbooks made in chat are kept (None: nowhere; neither is kept),
    # and how large a picture may be.
    blobs: BlobStorage | None = None
    max_image_bytes: int = 10 * 1024 * 1024
    # The pages' link maker, and how long a link lasts; None: no public address, no pages.
    page_link: PageLinkMaker | None = None
    page_link_minutes: int = 10


@dataclass
class Context:
    """One message being handled inside one database transaction."""

    session: AsyncSession
    msg: IncomingMessage
    parsed: ParseResult
    member: Member | None
    group: ChatGroup | None
    services: Services
    inbox_id: int | None = None  # the stored event this message came from
    replies: list[Reply] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.msg.received_at.astimezone(self.services.tz)

    def reply(self, text: str, *, undo_ref: str | None = None, to: Target | None = None,
              withdrawn: bool = False, attachments: tuple[Attachment, ...] = ()) -> None:
        """Answer; files go only to a person (a private chat, or `to` a user)."""
        self.replies.append(Reply(text=text, target=to, undo_ref=undo_ref, withdrawn=withdrawn,
                                  attachments=attachments))

    def activity_name(self, code: str | None) -> str:
        if code is None:
            return "活动"
        return self.services.activity_names.get(code, code)


Handler = Callable[[Context], Awaitable[None]]


@dataclass
class Route:
    intent: str
    handler: Handler
    needs_member: bool


class Router:
    """A feature's handlers, keyed by intent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def on(self, intent: str, *, needs_member: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(intent, handler, needs_member))
            return handler

        return register


class Dispatcher:
    """All routers, in the order they were included; the first route for an intent wins."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}

    def include(self, router: Router) -> None:
        for route in router.routes:
            self.routes.setdefault(route.intent, route)

    def route_for(self, intent: str) -> Route | None:
        return self.routes.get(intent)
