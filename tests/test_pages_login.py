"""Signing in inside the app: WeCom OAuth2 and Feishu web login, against the fake platforms.
The code comes back with the `state` the browser was given; the platform's id is looked up in
the roster's identities; a code is good once; a stranger gets no session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, create_app
from bot.config import settings_from_dict
from bot.pages.login import STATE_COOKIE, WECOM_AUTHORIZE
from bot.pages.routes import COOKIE, CSP, add_page_routes
from handlers.clock import FixedClock
from handlers.nlu import Parser
from storage.db import transaction
from storage.roster import link_identity, members_named
from storage.seed_demo import seed_demo
from tests.chat_harness import Chat, at, open_chat
from tests.fakes.feishu import FakeFeishu
from tests.fakes.wecom import FakeWeCom

PUBLIC = "https://jiaolian.example.cn"


@pytest.fixture
async def wecom() -> AsyncIterator[FakeWeCom]:
    server = await FakeWeCom().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def feishu() -> AsyncIterator[FakeFeishu]:
    server = await FakeFeishu().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def site(sqlite_url: str, demo_parser: Parser, wecom: FakeWeCom,
               feishu: FakeFeishu) -> AsyncIterator[tuple[Chat, TestClient]]:
    raw = {"pages": {"public_url": PUBLIC, "wecom_login": True, "feishu_login": True},
           "wecom": {"corp_id": wecom.corp_id, "app_secret": wecom.secret,
                     "agent_id": wecom.agent_id, "api_base": wecom.url},
           "feishu": {"app_id": feishu.app_id, "app_secret": feishu.app_secret,
                      "api_base": feishu.url}}
    chat = await open_chat(sqlite_url, parser=demo_parser, raw_settings=raw)
    async with transaction(chat.runtime.factory) as session:
        [wei] = await members_named(session=session, name="韦国庆")
        await link_identity(session=session, member_id=int(wei.id or 0), platform="wecom",
                            external_id="weiguoqing")
        [oy] = await members_named(session=session, name="欧阳勇")
        await link_identity(session=session, member_id=int(oy.id or 0), platform="feishu",
                            external_id="ou_ouyang")
    app = web.Application()
    add_page_routes(app, chat.runtime.settings, lambda _: chat.runtime)
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        yield chat, client
    finally:
        await client.close()
        await chat.runtime.close()


async def _state(client: TestClient, platform: str) -> tuple[str, str]:
    """Open the login entry: where the browser is sent, and the state it carries."""
    response = await client.get(f"/p/login/{platform}", allow_redirects=False)
    assert response.status == 302
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [f"{PUBLIC}/p/auth/{platform}"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie
    return location, query["state"][0]


async def _back(client: TestClient, platform: str, code: str, state: str,
                cookie_state: str | None = None) -> web.Response:
    return await client.get(
        f"/p/auth/{platform}", params={"code": code, "state": state}, allow_redirects=False,
        headers={"Cookie": f"{STATE_COOKIE}={cookie_state or state}"})


async def test_wecom_oauth_signs_a_member_in(site: tuple[Chat, TestClient],
                                             wecom: FakeWeCom) -> None:
    _, client = site
    location, state = await _state(client, "wecom")
    assert location.startswith(WECOM_AUTHORIZE) and location.endswith("#wechat_redirect")
    assert parse_qs(urlsplit(location).query)["appid"] == [wecom.corp_id]
    code = wecom.issue_login_code("weiguoqing")
    response = await _back(client, "wecom", code, state)
    assert response.status == 303
    session = response.cookies[COOKIE].value
    home = await client.get("/p/", headers={"Cookie": f"{COOKIE}={session}"},
                            allow_redirects=False)
    assert home.status == 303 and home.headers["Location"].startswith("/p/c/")
    again = await _back(client, "wecom", code, state)  # a code is good once
    assert again.status == 403 and COOKIE not in again.cookies


async def test_wecom_oauth_refuses_a_foreign_state_and_a_stranger(
        site: tuple[Chat, TestClient], wecom: FakeWeCom) -> None:
    _, client = site
    _, state = await _state(client, "wecom")
    forged = await _back(client, "wecom", wecom.issue_login_code("weiguoqing"), state,
                         cookie_state="another-browser")
    assert forged.status == 403 and COOKIE not in forged.cookies
    stranger = await _back(client, "wecom", wecom.issue_login_code("nobody"), state)
    assert stranger.status == 403 and COOKIE not in stranger.cookies


async def test_feishu_web_login_signs_a_member_in(site: tuple[Chat, TestClient],
                                                  feishu: FakeFeishu) -> None:
    _, client = site
    location, state = await _state(client, "feishu")
    assert location.startswith(feishu.url + "/open-apis/authen/v1/authorize?")
    response = await _back(client, "feishu", feishu.issue_login_code("ou_ouyang"), state)
    assert response.status == 303
    session = response.cookies[COOKIE].value
    home = await client.get("/p/", headers={"Cookie": f"{COOKIE}={session}"},
                            allow_redirects=False)
    assert home.status == 303 and home.headers["Location"].startswith("/p/s/")
    bad = await _back(client, "feishu", "made-up-code", state)
    assert bad.status == 403


async def test_without_the_setting_there_is_no_login_route(sqlite_url: str,
                                                           demo_parser: Parser) -> None:
    chat = await open_chat(sqlite_url, parser=demo_parser,
                           raw_settings={"pages": {"public_url": PUBLIC}})
    app = web.Application()
    add_page_routes(app, chat.runtime.settings, lambda _: chat.runtime)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert (await client.get("/p/login/wecom", allow_redirects=False)).status == 404
    finally:
        await client.close()
        await chat.runtime.close()


async def test_serve_mounts_the_pages_and_mints_links_with_its_own_runtime(
        sqlite_url: str, aiohttp_client: Any) -> None:
    """`jiaolian serve`'s app: the link a runtime's `Services.page_link` mints opens there."""
    settings = settings_from_dict({"database": {"url": sqlite_url},
                                   "scheduler": {"enabled": False},
                                   "pages": {"public_url": PUBLIC}})
    client = await aiohttp_client(create_app(settings, clock=FixedClock(at("2026-11-26T10:00"))))
    runtime = client.app[RUNTIME]
    async with transaction(runtime.factory) as session:
        await seed_demo(session=session)
        [wei] = await members_named(session=session, name="韦国庆")
        assert runtime.services.page_link is not None
        url = await runtime.services.page_link(session, int(wei.id or 0), runtime.clock.now())
    path = url.removeprefix(PUBLIC)
    landing = await client.get(path)
    assert landing.status == 200
    assert landing.headers["Content-Security-Policy"] == CSP
    entered = await client.post(path, allow_redirects=False)
    assert entered.status == 303 and COOKIE in entered.cookies
    assert (await client.get("/healthz")).headers.get("Content-Security-Policy") is None
