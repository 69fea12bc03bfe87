"""The worker: inbox → normalise → parse → handler → outbox, one transaction per event.

The domain writes, the queued replies and "inbox item done" commit together, so a crash
either loses nothing (the event is still pending) or has done everything exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Channel
from bot.identify import identify_sender
from bot.loops import Loop, backoff
from bot.metrics import Metrics
from bot.photos import PictureFetcher
from handlers.cleantext import clean_text
from handlers.clock import Clock
from handlers.dispatch import handle_message
from handlers.messages import IncomingMessage, Look, Reply, ReplyRoute
from handlers.routing import Dispatcher, Services
from storage.db import is_database_fault, transaction
from storage.inbox import claim_events, mark_done, mark_error
from storage.models import InboxEvent
from storage.outbox import NewMessage, enqueue_all, enqueue_burst

log = logging.getLogger(__name__)


def _id(event: InboxEvent) -> int:
    assert event.id is not None
    return event.id


class LeaseLost(Exception):
    """Another worker finished this event after our lease ran out: undo our copy."""


def private_attachments(msg: IncomingMessage, reply: Reply) -> list[dict[str, Any]] | None:
    """The reply's attachments when it goes to one person (a Target user, or an answer in a
    private chat); None otherwise. Workbooks and charts never reach a group: a handler that
    addresses one there has a bug, which is logged and the files are dropped, not sent."""
    if not reply.attachments:
        return None
    private = reply.target.kind == "user" if reply.target else not msg.is_group
    if not private:
        log.error("reply to %s %s carried %d attachment(s) for a chat; dropped (files go only "
                  "privately: address the reply to Target('user', …))", msg.platform,
                  msg.message_id, len(reply.attachments))
        return None
    return [a.as_dict() for a in reply.attachments]


def outbox_message(event: InboxEvent, msg: IncomingMessage, reply: Reply, n: int) -> NewMessage:
    """A reply as an outbox row whose key is fixed by the event, so it is queued only once.
    An answer to the message carries its ways back (`msg.reply_route`), a reply URL's
    deadline counted from when the event was saved: delivery never reads the inbox."""
    attachments = private_attachments(msg, reply)
    look = Look(undo_ref=reply.undo_ref or "", withdrawn=reply.withdrawn,
                # Channels with cards update the pressed card once its entry is withdrawn.
                update_card=msg.kind == "action",
                to_name=reply.target.name if reply.target is not None else "")
    extra = look.as_extra()
    if reply.target is None:
        route = msg.reply_route or ReplyRoute()
        return NewMessage(
            key=f"reply:{event.platform}:{event.event_id}:{n}", platform=msg.platform,
            app_id=msg.app_id, target_kind="chat", target=msg.chat_id,
            reply_to=msg.message_id or None, reply_url=route.url or None,
            reply_url_until=event.received_at + route.lifetime if route.url else None,
            reply_person=route.person, text=reply.text, extra=extra or None,
            attachments=attachments,
        )
    return NewMessage(
        key=f"reply:{event.platform}:{event.event_id}:{n}", platform=msg.platform,
        app_id=msg.app_id, target_kind=reply.target.kind, target=reply.target.id,
        text=reply.text, extra=extra or None, attachments=attachments,
    )


class Worker:
    def __init__(
        self, *, factory: async_sessionmaker[AsyncSession], channels: Mapping[str, Channel],
        services: Services, dispatcher: Dispatcher, clock: Clock,
        delivered: asyncio.Event | None = None,
        yield_to: Callable[[datetime], Awaitable[None]] | None = None, batch: int = 16,
        pictures: PictureFetcher | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.factory = factory
        self.channels = channels
        self.services = services
        self.dispatcher = dispatcher
        self.clock = clock
        self.loop = Loop("worker", self.process_batch)
        self.wakeup = self.loop.wakeup
        self.batch = batch
        self.delivered = delivered
        self.metrics = metrics
        # Awaited before each event with when it came: urgent work (acknowledgements) first.
        self.yield_to = yield_to
        # Accounts seen linked to the roster: they need no platform lookup (bot.identify).
        self._linked: set[tuple[str, str]] = set()
        # Fetches a message's pictures before its transaction opens (None: never fetched).
        self.pictures = pictures
        # True while an acknowledgement is in hand: a transaction of several events ends.
        self.pressed: Callable[[], bool] | None = None

    async def process_batch(self) -> int:
        """Lease the oldest pending events in one go, prepare each (who sent it, its
        pictures: outside any transaction), then handle them in as few transactions as the
        acknowledgements allow; returns how many there were (0: the inbox is empty)."""
        async with transaction(self.factory) as session:
            events = await claim_events(session=session, now=self.clock.now(),
                                        limit=self.batch)
        ready: list[tuple[InboxEvent, IncomingMessage | None]] = []
        for event in events:
            if self.yield_to is not None:
                await self.yield_to(event.received_at)
            try:
                ready.append((event, await self._prepare(event)))
            except Exception as exc:
                await self._failed(event, exc)
        while ready:
            if self.yield_to is not None:
                await self.yield_to(ready[0][0].received_at)
            ready = ready[await self._together(ready):]
        return len(events)

    async def _together(self, ready: list[tuple[InboxEvent, IncomingMessage | None]]) -> int:
        """Handle events in order in one transaction (one commit, lookups shared) until the
        list ends or an acknowledgement is in hand: on SQLite it waits for our write lock.
        Returns how many were settled. Should one fail, the transaction is rolled back and
        those events are handled again one by one, so the failure is charged to its own event
        alone."""
        done: list[InboxEvent] = []
        try:
            async with transaction(self.factory) as session:
                queue: list[NewMessage] = []
                for event, msg in ready:
                    if done and await self._pressed():
                        break
                    await self._handle(session, event, msg, queue)
                    done.append(event)
                await self._finish(session, queue, done)
        except Exception as exc:
            if is_database_fault(exc):
                raise
            for event, msg in ready[:len(done) + 1]:
                await self._alone(event, msg)
            return len(done) + 1
        for event in done:
            self._count_done(event)
        if self.delivered is not None:
            self.delivered.set()
        return len(done)

    async def _finish(self, session: AsyncSession, queue: list[NewMessage],
                      events: list[InboxEvent]) -> None:
        """Queue the replies and mark the events done, before the commit; raises LeaseLost
        when another worker finished any of them first (the caller rolls back)."""
        await self._queue(session, queue)
        if not await mark_done(session=session, event_ids=[_id(e) for e in events]):
            raise LeaseLost([e.id for e in events])

    async def _pressed(self) -> bool:
        """Whether an acknowledgement waits; a request that arrived while we held the loop
        is given the two turns it takes to say so (aiohttp reads it, then starts it)."""
        if self.pressed is None:
            return False
        for _ in range(2):
            await asyncio.sleep(0)
        return self.pressed()

    async def _alone(self, event: InboxEvent, msg: IncomingMessage | None) -> None:
        """One event in its own transaction: its failure is recorded against it alone."""
        try:
            async with transaction(self.factory) as session:
                queue: list[NewMessage] = []
                await self._handle(session, event, msg, queue)
                await self._finish(session, queue, [event])
            self._count_done(event)
        except Exception as exc:
            await self._failed(event, exc)
        if self.delivered is not None:
            self.delivered.set()

    async def _failed(self, event: InboxEvent, exc: Exception) -> None:
        """Record a failed event for a later try, unless the failure was not its own."""
        if isinstance(exc, LeaseLost):
            log.info("inbox event %s was finished by another worker; rolled back", event.id)
            return
        if is_database_fault(exc):
            # Not the event's fault: its lease runs out and it is tried again, uncharged,
            # once the loop (which logs and backs off) finds the database back.
            raise exc
        log.error("inbox event %s (%s) failed", event.id, event.platform, exc_info=exc)
        if self.metrics is not None:
            self.metrics.events_failed.labels(event.platform).inc()
        retry_at = self.clock.now() + timedelta(seconds=backoff(event.attempts))
        async with transaction(self.factory) as session:
            await mark_error(session=session, event_id=_id(event), retry_at=retry_at,
                             error=f"{type(exc).__name__}: {exc}", attempts=event.attempts)

    async def _prepare(self, event: InboxEvent) -> IncomingMessage | None:
        """Normalise, and fetch the message's pictures outside any transaction (downloads
        take seconds); a fetch failure that may pass raises, and the event is retried."""
        channel = self.channels.get(event.platform)
        if channel is None:
            raise LookupError(f"no channel for platform {event.platform!r}")
        msg = channel.normalise(event.payload or {})
        if msg is not None:
            # Who the sender is, proven by the platform, before anything is decided for them.
            await identify_sender(factory=self.factory, channel=channel, msg=msg,
                                  now=self.clock.now(), known=self._linked)
        if msg is not None and msg.images and self.pictures is not None:
            msg = await self.pictures.prepare(msg, channel)
        return msg

    async def _handle(self, session: AsyncSession, event: InboxEvent,
                      msg: IncomingMessage | None, queue: list[NewMessage]) -> None:
        """Handle one message; its replies join `queue`, which the caller puts in the outbox
        in one statement before it commits (a burst's answer goes at once, after them)."""
        if msg is None:
            return
        # Text inside a payload's own JSON string (Feishu's content) escaped the inbox's cleaning.
        msg = dataclasses.replace(msg, text=clean_text(msg.text))
        replies = await handle_message(session=session, msg=msg, services=self.services,
                                       dispatcher=self.dispatcher, inbox_id=event.id)
        now = self.clock.now()
        for n, reply in enumerate(replies):
            message = outbox_message(event, msg, reply, n)
            if reply.burst:
                await self._queue(session, queue)
                message = dataclasses.replace(message, key=reply.burst + event.event_id)
                await enqueue_burst(session=session, prefix=reply.burst, message=message,
                                    now=now, due=now + reply.delay)
            else:
                queue.append(message)
        if self.metrics is not None and replies:
            self.metrics.replies_queued.labels("reply").inc(len(replies))

    async def _queue(self, session: AsyncSession, queue: list[NewMessage]) -> None:
        await enqueue_all(session=session, messages=queue, now=self.clock.now())
        queue.clear()

    def _count_done(self, event: InboxEvent) -> None:
        if self.metrics is None:
            return
        self.metrics.events_processed.labels(event.platform).inc()
        age = (self.clock.now() - event.received_at).total_seconds()
        self.metrics.process_seconds.labels(event.platform).observe(max(0.0, age))

    async def drain(self) -> int:
        """Process until the inbox is empty; returns how many events were handled."""
        count = 0
        while n := await self.process_batch():
            count += n
        return count

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Owned by the app's cleanup context; woken when there is work, polls as a safety net;
        a failing batch (the database away) is logged and retried after a capped backoff."""
        self.loop.poll = poll
        await self.loop.run(stop)
