"""What the platform end-to-end tests share: counting the inbox, and driving the worker and
delivery of a running app until both are idle (instead of sleeping)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import RUNTIME
from storage.models import InboxEvent


async def inbox_count(client: TestClient) -> int:
    async with client.app[RUNTIME].factory() as session:
        stmt = select(func.count()).select_from(InboxEvent)
        return int((await session.execute(stmt)).scalar_one())


async def settle(client: TestClient) -> None:
    """Until the worker and delivery have nothing left (driven here, not slept on)."""
    runtime = client.app[RUNTIME]
    while await runtime.worker.drain() + await runtime.delivery.drain():
        pass
