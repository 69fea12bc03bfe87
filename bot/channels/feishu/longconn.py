"""The long connection, transport-free: a reconnect loop that takes events from a `Source`
and hands each to a `Sink` (which saves it), then acknowledges it on the connection.

The seam: `Source` is a factory; each call opens one connection and yields `WsEvent`s until
it drops (ends or raises). Tests drive the loop with a fake source; `wsclient` is the real
one. An event is acknowledged only after the sink returned, so an event that could not be
saved is pushed again by Feishu. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Answer = dict[str, Any]
# The WebSocket URL carries the connection's credentials in its query string.
_QUERY = re.compile(r"\?[^\s'\"]*")


def redacted(exc: BaseException) -> str:
    return _QUERY.sub("?…", f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class WsEvent:
    event: dict[str, Any]
    ack: Callable[[Answer], Awaitable[None]]


Source = Callable[[], AsyncGenerator[WsEvent, None]]
Sink = Callable[[dict[str, Any]], Awaitable[Answer]]


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0
    cap: float = 60.0
    # A connection that stayed up this long was healthy: the next failure starts afresh.
    healthy_s: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.base * 2.0 ** max(failures - 1, 0), self.cap) * random.uniform(0.5, 1.0)


class LongConnection:
    def __init__(self, *, name: str, source: Source, sink: Sink,
                 backoff: Backoff | None = None) -> None:
        self.name = name
        self.source = source
        self.sink = sink
        self.backoff = backoff or Backoff()
        self.connections = 0  # how many times a connection was opened (tests, status)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, consume, reconnect with backoff, until `stop` is set."""
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            delivered = await self._one_connection(stop)
            if stop.is_set():
                return
            healthy = delivered or time.monotonic() - started >= self.backoff.healthy_s
            failures = 1 if healthy else failures + 1
            delay = self.backoff.delay(failures)
            log.info("feishu long connection %s: reconnecting in %.1f s", self.name, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def _one_connection(self, stop: asyncio.Event) -> bool:
        """Run one connection until it drops or `stop`; True if it delivered any event."""
        state = {"delivered": False}
        consumer = asyncio.ensure_future(self._consume(state))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not consumer.done():
                consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
        return state["delivered"]

    async def _consume(self, state: dict[str, bool]) -> None:
        self.connections += 1
        try:
            async with contextlib.aclosing(self.source()) as events:
                async for item in events:
                    state["delivered"] = True
                    await self._deliver(item)
            log.info("feishu long connection %s: closed by the server", self.name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any transport failure means: reconnect
            log.warning("feishu long connection %s dropped: %s", self.name, redacted(exc))

    async def _deliver(self, item: WsEvent) -> None:
        try:
            answer = await self.sink(item.event)
        except Exception as exc:  # not saved, so not acknowledged: Feishu pushes it again
            log.error("feishu long connection %s: event not saved: %s", self.name,
                      redacted(exc))
            return
        await item.ack(answer)
