"""The pages over a console chat: one runtime, one database, the pages' routes on a test
server. The chat hands out the link exactly as a user would receive it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.pages.routes import COOKIE, add_page_routes
from handlers.standing import County, load_county
from storage.models import Community, School
from tests.chat_harness import Chat, open_chat

PUBLIC = "https://jiaolian.example.cn"
LINK = re.compile(re.escape(PUBLIC) + r"(/p/in/[A-Za-z0-9_\-.]+)")


@dataclass
class Site:
    chat: Chat
    client: TestClient

    async def link(self, who: str, *, p2p: bool = True) -> str:
        """`看板` from `who`: the path of the link sent to them privately."""
        await self.chat.say(who, "看板", p2p=p2p)
        found = [m for m in self.chat.channel.sent if LINK.search(m.text or "")]
        match = LINK.search(found[-1].text)
        assert match is not None
        return match.group(1)

    async def enter(self, who: str) -> dict[str, str]:
        """Open `who`'s link and press the button: the cookie header of their session."""
        path = await self.link(who)
        assert (await self.client.get(path)).status == 200
        response = await self.client.post(path, allow_redirects=False)
        assert response.status == 303, await response.text()
        return {"Cookie": f"{COOKIE}={response.cookies[COOKIE].value}"}

    async def get(self, path: str, headers: dict[str, str]) -> Any:
        return await self.client.get(path, headers=headers, allow_redirects=False)

    async def county(self) -> County:
        async with self.chat.runtime.factory() as session:
            return await load_county(session=session)

    async def community_id(self, name: str) -> int:
        async with self.chat.runtime.factory() as session:
            row = (await session.execute(select(Community).where(Community.name == name))
                   ).scalar_one()
            return int(row.id or 0)

    async def school_id(self, name: str) -> int:
        async with self.chat.runtime.factory() as session:
            row = (await session.execute(select(School).where(School.name == name))).scalar_one()
            return int(row.id or 0)


async def open_site(db_url: str, parser: Any, *, public_url: str = PUBLIC) -> Site:
    chat = await open_chat(db_url, parser=parser,
                           raw_settings={"pages": {"public_url": public_url}})
    app = web.Application()
    add_page_routes(app, chat.runtime.settings, lambda _: chat.runtime)
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    return Site(chat, client)


async def close_site(site: Site) -> None:
    await site.client.close()
    await site.chat.runtime.close()
