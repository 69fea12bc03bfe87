"""The pages in a real browser: headless Chromium from the distribution's packages, driven by
Playwright at phone width. The link comes from a console chat; every figure read off a page is
compared with the database and with the chat's answer; screenshots go to a temporary folder.

Skipped with a notice when no Chromium is installed; JIAOLIAN_REQUIRE_BROWSER=1 (set by
.ci/run) makes the skip a failure.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.pages.routes import add_page_routes
from handlers.nlu import Parser
from handlers.sheet import sheet_for
from storage.models import Activity
from tests.chat_harness import Chat, open_chat

# The distribution's browser; $JIAOLIAN_CHROMIUM names another executable.
CHROMIUM = os.environ.get("JIAOLIAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("JIAOLIAN_REQUIRE_BROWSER") == "1"
SCREENS = Path(tempfile.gettempdir()) / "jiaolian-pages-screenshots"
PHONE = {"width": 390, "height": 844}
SHIYAN = "融安县实验小学教共体"


def _browser_or_skip() -> Any:
    """Playwright's async API, or a skip (a failure under JIAOLIAN_REQUIRE_BROWSER=1)."""
    problem = ""
    if not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright import async_api
    except ImportError:
        problem = problem or "the playwright package is not installed"
    if problem:
        if REQUIRED:
            pytest.fail(f"browser tests are mandatory here: {problem}")
        pytest.skip(f"browser test skipped: {problem}")
    return async_api


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browsed:
    def __init__(self, chat: Chat, base: str) -> None:
        self.chat = chat
        self.base = base

    async def link(self, who: str, text: str = "@教联助手 看板") -> str:
        await self.chat.say(who, text)
        [private] = [m for m in self.chat.channel.sent
                     if m.target_kind == "user" and m.target == who][-1:]
        url = private.text.rsplit("\n", 1)[-1]
        assert url.startswith(self.base + "/p/in/")
        return url

    async def counted(self, code: str, community: int, start: dt.date, end: dt.date) -> int:
        """Counted events straight from the table, independently of handlers.standing."""
        async with self.chat.runtime.factory() as session:
            stmt = select(func.count()).select_from(Activity).where(
                Activity.activity == code, Activity.community_id == community,
                Activity.withdrawn.is_(False), Activity.status.in_(("held", "done")),
                Activity.date >= start, Activity.date < end)
            return int((await session.execute(stmt)).scalar_one())


@pytest.fixture
async def browsed(sqlite_url: str, demo_parser: Parser) -> AsyncIterator[Browsed]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    chat = await open_chat(sqlite_url, parser=demo_parser,
                           raw_settings={"pages": {"public_url": base}})
    app = web.Application()
    add_page_routes(app, chat.runtime.settings, lambda _: chat.runtime)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield Browsed(chat, base)
    finally:
        await server.close()
        await chat.runtime.close()


async def _shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


async def test_a_principal_opens_the_link_and_clicks_through(browsed: Browsed) -> None:
    async_api = _browser_or_skip()
    shutil.rmtree(SCREENS, ignore_errors=True)
    SCREENS.mkdir(parents=True)
    chat = browsed.chat
    await chat.say("韦国庆", "明天下午3点在县实小开展语文集体备课，请各校语文老师参加")
    await chat.say("张丽", "昨天在泗顶小学开展了数学集体备课，8人参加")
    await chat.say("李娜", "前天在县实小开展了语文教研活动，6人参加")
    chat.clock.advance(dt.timedelta(days=1, hours=4, minutes=55))
    await chat.say("李娜", "签到")
    await chat.say("张晓梅", "签到")
    [answer] = await chat.say("韦国庆", "@教联助手 本月集体备课开展了几次")
    link = await browsed.link("韦国庆")
    cid = (await chat.rows(Activity, activity="research"))[0].community_id
    today = chat.clock.now().date()
    month = today.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)

    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM,
                                          args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                            device_scale_factor=2, accept_downloads=True,
                                            locale="zh-CN")
        page = await context.new_page()
        page.set_default_timeout(10_000)
        await page.goto(link)
        await _shot(page, "1-landing")
        await page.get_by_role("button", name="进入看板").click()
        await page.wait_for_url(re.compile(r"/p/c/\d+$"))
        await _shot(page, "2-community")

        card = page.locator('[data-quota="lesson_prep-month"] .fig').first
        figure = (await card.inner_text()).split()[0]
        done = await browsed.counted("lesson_prep", int(cid or 0), month, next_month)
        assert figure == f"{done}/2"
        assert f" {figure} 次" in answer
        research = (await page.locator('[data-quota="research-month"] .fig').first
                    .inner_text()).split()[0]
        assert research == (
            f"{await browsed.counted('research', int(cid or 0), month, next_month)}/1")

        await page.get_by_role("link", name="泗顶镇中心小学").first.click()
        await page.wait_for_url(re.compile(r"/p/s/\d+$"))
        await _shot(page, "3-school")
        assert "数学 集体备课" in await page.inner_text("main")

        await page.goto(f"{browsed.base}/p/c/{cid}")
        [plan] = [a for a in await chat.rows(Activity, activity="lesson_prep")
                  if a.source_text.startswith("明天")]
        await page.locator(f'[data-event="{plan.id}"] a').first.click()
        await page.wait_for_url(re.compile(rf"/p/e/{plan.id}$"))
        await _shot(page, "4-event")
        async with chat.runtime.factory() as session:
            sheet = await sheet_for(session, plan)
        signed = await page.locator('[data-sheet="signed"] .fig').inner_text()
        missing = await page.locator('[data-sheet="missing"] .fig').inner_text()
        assert (int(signed), int(missing)) == (len(sheet.signed), len(sheet.missing))

        await page.get_by_role("link", name="活动记录").click()
        await page.wait_for_url(re.compile(r"/p/record$"))
        async with chat.runtime.factory() as session:
            live = int((await session.execute(select(func.count()).select_from(Activity).where(
                Activity.community_id == cid, Activity.withdrawn.is_(False),
                Activity.date >= month, Activity.date < next_month))).scalar_one())
        assert int(await page.locator("#count").inner_text()) == live
        await _shot(page, "5-record")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="下载 Excel 台账").click()
        download = await info.value
        saved = SCREENS / "ledger.xlsx"
        await download.save_as(str(saved))
        book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
        assert "活动台账" in book.sheetnames

        other = await page.goto(f"{browsed.base}/p/c/{int(cid or 0) + 1}")
        assert other is not None and other.status == 404
        await page.goto(link)  # the spent link
        assert "链接已失效" in await page.inner_text("main")
        await browser.close()


async def test_the_admin_sees_the_county_at_phone_width(browsed: Browsed) -> None:
    async_api = _browser_or_skip()
    SCREENS.mkdir(parents=True, exist_ok=True)
    chat = browsed.chat
    await chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    link = await browsed.link("蒙建华", text="看板")
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM,
                                          args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2)
        await page.goto(link)
        await page.get_by_role("button", name="进入看板").click()
        await page.wait_for_url(re.compile(r"/p/county$"))
        await _shot(page, "6-county")
        [event] = await chat.rows(Activity)
        row = page.locator(f'[data-community="{event.community_id}"] .fig')
        assert (await row.nth(1).inner_text()).startswith("1/2")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page itself must not scroll sideways"
        await browser.close()
