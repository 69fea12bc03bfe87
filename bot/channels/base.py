"""What every channel offers the worker and the delivery loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from handlers.messages import IncomingMessage
from storage.models import OutboxMessage


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
