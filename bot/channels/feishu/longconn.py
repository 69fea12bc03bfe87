"""The long connection, transport-free: a reconnect loop that takes events from a `Source`
and hands each to a `Sink` (which saves it), then acknowledges it on the connection.

The seam: `Source` is a factory; each call opens one connection and yields `WsEvent`s until
it drops (ends or raises). Tests drive the loop with a fake source; `wsclient` is the real
one. An event is acknowledged only after the sink returned; one that could not be saved is
acknowledged with code 500, so Feishu pushes it again. How long to wait before the next
connection follows Feishu's `ClientConfig` (which the source keeps up to date) and what the
last attempt ended with (`Refused`). Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

Answer = dict[str, Any]
OK = 200
FAILED = 500
# The WebSocket URL carries the connection's credentials in its query string.
_QUERY = re.compile(r"\?[^\s'\"]*")


def redacted(exc: BaseException) -> str:
    return _QUERY.sub("?…", f"{type(exc).__name__}: {exc}")


class Ack(Protocol):
    """Answers one event on its connection: `code` 200 (saved) or 500 (push it again)."""

    def __call__(self, answer: Answer, *, code: int = OK) -> Awaitable[None]: ...


@dataclass(frozen=True)
class WsEvent:
    event: dict[str, Any]
    ack: Ack


Source = Callable[[], AsyncGenerator[WsEvent, None]]
Sink = Callable[[dict[str, Any]], Awaitable[Answer]]


class Refused(Exception):
    """Feishu refused a connection and said why (endpoint `code`/`msg` or handshake headers).

    `fatal` refusals (bad credentials, too many connections, unknown codes) are not cured by
    retrying soon: the loop waits minutes before it asks again.
    """

    def __init__(self, where: str, code: int | str | None, msg: str, *, fatal: bool,
                 detail: str = "") -> None:
        self.where, self.code, self.msg, self.fatal, self.detail = where, code, msg, fatal, detail
        extra = f", {detail}" if detail else ""
        super().__init__(f"{where} refused: code {code}, msg {msg!r}{extra}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass
class ClientConfig:
    """Feishu's connection settings, sent at the endpoint and in every pong (seconds).

    `reconnect_count` < 0 means: retry without limit. Defaults are the official SDK's.
    """

    ping_interval: float = 120.0
    reconnect_count: int = -1
    reconnect_interval: float = 120.0
    reconnect_nonce: float = 30.0

    def apply(self, raw: Mapping[str, Any]) -> bool:
        """Take the fields Feishu sent (ignoring missing or nonsensical ones); True if any
        value changed."""
        before = (self.ping_interval, self.reconnect_count, self.reconnect_interval,
                  self.reconnect_nonce)
        ping = _number(raw.get("PingInterval"))
        if ping is not None and ping > 0:
            self.ping_interval = ping
        count = _number(raw.get("ReconnectCount"))
        if count is not None:
            self.reconnect_count = int(count)
        interval = _number(raw.get("ReconnectInterval"))
        if interval is not None and interval >= 0:
            self.reconnect_interval = interval
        nonce = _number(raw.get("ReconnectNonce"))
        if nonce is not None and nonce >= 0:
            self.reconnect_nonce = nonce
        return before != (self.ping_interval, self.reconnect_count, self.reconnect_interval,
                          self.reconnect_nonce)


@dataclass(frozen=True)
class Backoff:
    """Waits between connections. After a connection that was up: Feishu's jitter
    (`random() * ReconnectNonce`, so that clients do not return all at once). After a failed
    attempt: `base`, doubling, at most `ReconnectInterval`. After a fatal refusal, or more
    failed attempts in a row than `ReconnectCount`: `fatal_base`, doubling up to
    `fatal_cap` — minutes, never every second."""

    base: float = 1.0
    fatal_base: float = 300.0
    fatal_cap: float = 1800.0
    # A connection that stayed up this long was healthy: the next failure starts afresh.
    healthy_s: float = 60.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def after_drop(self, config: ClientConfig) -> float:
        return self.random() * config.reconnect_nonce

    def after_failure(self, failures: int, config: ClientConfig) -> float:
        step = min(self.base * 2.0 ** max(failures - 1, 0), config.reconnect_interval)
        return step * (0.5 + 0.5 * self.random())

    def after_fatal(self, fatal: int) -> float:
        step = min(self.fatal_base * 2.0 ** max(fatal - 1, 0), self.fatal_cap)
        return step * (0.8 + 0.4 * self.random())


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


@dataclass
class _Outcome:
    delivered: bool = False
    refused: Refused | None = None


class LongConnection:
    def __init__(self, *, name: str, source: Source, sink: Sink,
                 backoff: Backoff | None = None, config: ClientConfig | None = None,
                 wait: Callable[[asyncio.Event, float], Awaitable[None]] = wait_or_stop,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.source = source
        self.sink = sink
        self.backoff = backoff or Backoff()
        # Shared with the source, which updates it from the endpoint and from pongs.
        self.config = config or ClientConfig()
        self.wait = wait
        self.monotonic = monotonic
        self.connections = 0  # how many times a connection was opened (tests, status)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, consume, reconnect with backoff, until `stop` is set."""
        failures = fatal = 0
        while not stop.is_set():
            started = self.monotonic()
            outcome = await self._one_connection(stop)
            if stop.is_set():
                return
            refused = outcome.refused
            if refused is not None and refused.fatal:
                failures, fatal = 0, fatal + 1
                delay = self.backoff.after_fatal(fatal)
                log.error("feishu long connection %s: %s; not retried for %.0f min",
                          self.name, refused, delay / 60)
            elif outcome.delivered or self.monotonic() - started >= self.backoff.healthy_s:
                failures = fatal = 0
                delay = self.backoff.after_drop(self.config)
                log.info("feishu long connection %s: reconnecting in %.1f s", self.name, delay)
            else:
                failures, fatal = failures + 1, 0
                limit = self.config.reconnect_count
                if 0 <= limit <= failures:
                    delay = self.backoff.after_fatal(failures - limit + 1)
                    log.error("feishu long connection %s: %d attempts failed (Feishu allows "
                              "%d); next in %.0f min", self.name, failures, limit, delay / 60)
                else:
                    delay = self.backoff.after_failure(failures, self.config)
                    log.info("feishu long connection %s: attempt %d failed; next in %.1f s",
                             self.name, failures, delay)
            await self.wait(stop, delay)

    async def _one_connection(self, stop: asyncio.Event) -> _Outcome:
        """Run one connection until it drops or `stop`."""
        outcome = _Outcome()
        consumer = asyncio.ensure_future(self._consume(outcome))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not consumer.done():
                consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
        return outcome

    async def _consume(self, outcome: _Outcome) -> None:
        self.connections += 1
        try:
            async with contextlib.aclosing(self.source()) as events:
                async for item in events:
                    outcome.delivered = True
                    await self._deliver(item)
            log.info("feishu long connection %s: closed by the server", self.name)
        except asyncio.CancelledError:
            raise
        except Refused as exc:
            outcome.refused = exc
            if not exc.fatal:
                log.warning("feishu long connection %s: %s", self.name, exc)
        except Exception as exc:  # any transport failure means: reconnect
            log.warning("feishu long connection %s dropped: %s", self.name, redacted(exc))

    async def _deliver(self, item: WsEvent) -> None:
        try:
            answer = await self.sink(item.event)
        except Exception as exc:  # not saved: a 500 makes Feishu push it again
            log.error("feishu long connection %s: event not saved: %s", self.name,
                      redacted(exc))
            await item.ack({}, code=FAILED)
            return
        await item.ack(answer)
