"""Save one verified Feishu event to the inbox, then wake the worker: the only write that
happens before Feishu gets its answer, shared by the webhook and the long connection.

One `INSERT … ON CONFLICT DO NOTHING` per event and no reads, so the acknowledgement stays
fast and a redelivered event is a no-op. Imports storage.inbox, never the handlers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import transaction
from storage.inbox import insert_event

from .normalise import PLATFORM


async def ingest_event(
    *, factory: async_sessionmaker[AsyncSession], wakeup: Any, app_id: str, event_id: str,
    event: dict[str, Any], via: str,
) -> bool:
    """True when the event is new; False for a redelivery (already saved, nothing to do)."""
    payload = {"app_id": app_id, "via": via, "event": event}
    async with transaction(factory) as session:
        row = await insert_event(session=session, platform=PLATFORM, event_id=event_id,
                                 payload=payload, received_at=datetime.now(UTC))
    if row is not None:
        wakeup.set()
    return row is not None
