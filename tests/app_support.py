"""What the platform end-to-end tests share: a prepared demo database, counting the inbox, and
driving the worker and delivery of a running app until both are idle (instead of sleeping)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bot.app import RUNTIME
from storage.db import create_engine, session_factory, transaction, upgrade
from storage.models import InboxEvent
from storage.roster import bind_group, link_identity, members_named
from storage.seed_demo import seed_demo


async def inbox_count(client: TestClient) -> int:
    async with client.app[RUNTIME].factory() as session:
        stmt = select(func.count()).select_from(InboxEvent)
        return int((await session.execute(stmt)).scalar_one())


async def pending_events(factory: async_sessionmaker[AsyncSession]) -> int:
    """Inbox events not handled yet."""
    async with factory() as session:
        stmt = select(func.count()).select_from(InboxEvent).where(
            col(InboxEvent.status) == "pending")
        return int((await session.execute(stmt)).scalar_one())


async def settle(client: TestClient) -> None:
    """Until the worker and delivery have nothing left (driven here, not slept on)."""
    runtime = client.app[RUNTIME]
    while await runtime.worker.drain() + await runtime.delivery.drain():
        pass


async def prepare_demo_database(url: str, *, platform: str, user: str, chat: str,
                                app_id: str = "") -> None:
    """The demo county, 张丽 linked to `user` on `platform`, and `chat` bound to her school."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            await seed_demo(session=session)
            [zhang] = await members_named(session=session, name="张丽")
            await link_identity(session=session, member_id=zhang.id or 0, platform=platform,
                                external_id=user)
            await bind_group(session=session, platform=platform, chat_id=chat,
                             scope="泗顶镇中心小学", app_id=app_id)
    finally:
        await engine.dispose()


class Mono:
    """A monotonic clock the test moves (token expiry, rate windows)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t
