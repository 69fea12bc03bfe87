"""What every channel offers the worker and the delivery loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from bot.config import Settings
from handlers.messages import IncomingMessage
from storage.models import OutboxMessage

if TYPE_CHECKING:  # the runtime holds the channels; an adapter only starts against it
    from bot.runtime import Runtime

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Refused:
    """A request a platform's callback will not take: its HTTP status and a reason safe to
    log and to show (never the body, never a secret)."""

    status: int
    reason: str


@dataclass(frozen=True)
class SendResult:
    """`ok`; or `retry_after` seconds for a passing fault; or `permanent` with the reason.

    `done`: on a retry, how many steps of the row (text parts, then attachments) the platform
    already accepted; delivery stores it on the row so the next attempt resumes after them."""

    ok: bool
    retry_after: float | None = None
    error: str = ""
    permanent: bool = False
    done: int | None = None

    @classmethod
    def sent(cls) -> SendResult:
        return cls(ok=True)

    @classmethod
    def retry(cls, error: str, after: float | None = None) -> SendResult:
        return cls(ok=False, retry_after=after, error=error)

    @classmethod
    def fail(cls, error: str) -> SendResult:
        return cls(ok=False, error=error, permanent=True)


@dataclass(frozen=True)
class ApiResult:
    """One platform API answer, classified: sent, worth retrying (maybe after a wait), or
    refused for good; `token_invalid` asks the caller to drop its token and try once more."""

    ok: bool
    data: dict[str, Any] | None = None
    retry: bool = False
    retry_after: float | None = None
    error: str = ""
    token_invalid: bool = False

    def as_send_result(self) -> SendResult:
        if self.ok:
            return SendResult.sent()
        if self.retry:
            return SendResult.retry(self.error, after=self.retry_after)
        return SendResult.fail(self.error)


class Channel(Protocol):
    platform: str

    def normalise(self, payload: dict[str, Any]) -> IncomingMessage | None:
        """The stored inbox payload → a neutral message (None: nothing to answer)."""

    async def send(self, message: OutboxMessage) -> SendResult:
        """Deliver one outbox row; never raises for platform errors."""


@dataclass(frozen=True)
class Adapter:
    """A platform as the app sees it, exported by its package as `ADAPTER`: its name (the
    inbox's and the outbox's `platform`), the routes it adds when the app is built, and how
    it starts once the runtime is open (registering its Channel; the returned closer ends
    it). bot.channels.registry lists the packages."""

    name: str
    add_routes: Callable[[web.Application, Settings], None]
    start: Callable[[Runtime], Awaitable[Closer]]


Attempt = Callable[[str], Awaitable[ApiResult]]


async def with_token(get: Callable[[], Awaitable[str]], drop: Callable[[str], None],
                     attempt: Attempt, *, failed: type[Exception]) -> ApiResult:
    """One authorised call: the cached token, and once more with a fresh one when the
    platform calls it invalid. A token that cannot be had (`failed`) is a passing fault, so
    the caller's queue drains once the operator fixes the secret."""
    result = ApiResult(ok=False, retry=True, error="not tried")
    for _ in range(2):
        try:
            token = await get()
        except failed as exc:
            return ApiResult(ok=False, retry=True, error=str(exc))
        result = await attempt(token)
        if not result.token_invalid:
            return result
        drop(token)
    return result
