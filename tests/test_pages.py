"""The pages opened from `看板`: the one-time link, the session cookie, scope on every request,
CSRF on changes, and figures that are the chat's figures (issue 15)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from bot.config import ConfigError, settings_from_dict
from bot.pages import routes
from bot.pages.routes import COOKIE, CSP
from handlers import texts
from handlers.nlu import Parser
from handlers.quotas import DEFAULT_QUOTAS
from handlers.standing import standing
from storage.db import transaction
from storage.models import Activity, AuditLog, PageLink
from storage.photos import add_photo
from tests.chat_harness import open_chat
from tests.pages_support import LINK, Site, close_site, open_site

SHIYAN = "融安县实验小学教共体"
SIDING = "泗顶镇中心小学"
ERSHI = "融安县第二实验小学教共体"


@pytest.fixture
async def site(db_url: str, demo_parser: Parser) -> AsyncIterator[Site]:
    s = await open_site(db_url, demo_parser)
    try:
        yield s
    finally:
        await close_site(s)


def _figure(page: str, quota: str) -> str:
    """The "done/need" of a rule's card on a community or school page."""
    match = re.search(rf'data-quota="{quota}">.*?<span class="fig">(\d+/\d+)', page, re.S)
    assert match is not None, quota
    return match.group(1)


# --- the command ------------------------------------------------------------------------------

async def test_without_a_public_url_the_command_says_why(db_url: str,
                                                          demo_parser: Parser) -> None:
    chat = await open_chat(db_url, parser=demo_parser)
    try:
        assert await chat.say("韦国庆", "看板", p2p=True) == [texts.PAGE_UNAVAILABLE]
    finally:
        await chat.runtime.close()


async def test_asked_in_a_group_the_link_goes_privately(site: Site) -> None:
    reply = await site.chat.say("韦国庆", "@教联助手 看板")
    private, group = site.chat.channel.sent[-2:]
    assert reply == [private.text, texts.PAGE_SENT_PRIVATELY]
    assert (private.target_kind, private.target) == ("user", "韦国庆")
    assert group.target_kind == "chat" and LINK.search(group.text) is None
    match = LINK.search(private.text)
    assert match is not None and "韦国庆" not in match.group(0)


# --- the link -----------------------------------------------------------------------------

async def test_a_preview_does_not_spend_the_link_and_the_button_spends_it_once(
        site: Site) -> None:
    path = await site.link("韦国庆")
    for _ in range(2):  # a chat app's preview, then the person
        page = await site.client.get(path)
        assert page.status == 200 and "进入看板" in await page.text()
        assert COOKIE not in page.cookies
    first = await site.client.post(path, allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/p/"
    again = await site.client.post(path, allow_redirects=False)
    assert again.status == 410 and COOKIE not in again.cookies
    assert (await site.client.get(path)).status == 410


async def test_an_expired_or_altered_link_is_refused(site: Site) -> None:
    path = await site.link("韦国庆")
    altered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert (await site.client.post(altered, allow_redirects=False)).status == 410
    site.chat.clock.advance(timedelta(minutes=11))
    assert (await site.client.get(path)).status == 410
    assert (await site.client.post(path, allow_redirects=False)).status == 410
    [link] = await site.chat.rows(PageLink)
    assert link.spent_at is None


async def test_a_post_from_another_site_spends_nothing(site: Site) -> None:
    """Login CSRF: a page elsewhere cannot make a browser spend a link (and so sign its
    person into the link's session); the landing page's own POST is same-origin."""
    path = await site.link("韦国庆")
    forged = await site.client.post(path, allow_redirects=False,
                                    headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status == 403 and COOKIE not in forged.cookies
    [link] = await site.chat.rows(PageLink)
    assert link.spent_at is None
    ours = await site.client.post(path, allow_redirects=False,
                                  headers={"Sec-Fetch-Site": "same-origin"})
    assert ours.status == 303 and COOKIE in ours.cookies


async def test_the_session_cookie_is_httponly_secure_and_samesite(site: Site) -> None:
    path = await site.link("韦国庆")
    response = await site.client.post(path, allow_redirects=False)
    cookie = response.headers["Set-Cookie"]
    assert f"{COOKIE}=" in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/p/"):
        assert flag in cookie


async def test_over_plain_http_the_cookie_is_not_secure(db_url: str,
                                                        demo_parser: Parser) -> None:
    s = await open_site(db_url, demo_parser, public_url="http://10.0.0.5:8080")
    try:
        await s.chat.say("韦国庆", "看板", p2p=True)
        url = s.chat.channel.sent[-1].text.rsplit("\n", 1)[-1]
        path = url.removeprefix("http://10.0.0.5:8080")
        response = await s.client.post(path, allow_redirects=False)
        assert response.status == 303
        assert "Secure" not in response.headers["Set-Cookie"]
    finally:
        await close_site(s)


async def test_pages_carry_the_security_headers_and_need_a_session(site: Site) -> None:
    refused = await site.get("/p/county", {})
    assert refused.status == 401
    headers = await site.enter("蒙建华")
    for path in ("/p/county", "/p/c/999999"):
        response = await site.get(path, headers)
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    page = await (await site.get("/p/county", headers)).text()
    assert "<script" not in page and "style=" not in page


# --- scope --------------------------------------------------------------------------------

async def test_each_role_lands_on_its_own_page(site: Site) -> None:
    expected = {"蒙建华": "/p/county",
                "韦国庆": f"/p/c/{await site.community_id(SHIYAN)}",
                "欧阳勇": f"/p/s/{await site.school_id(SIDING)}",
                "张丽": f"/p/s/{await site.school_id(SIDING)}"}
    for who, where in expected.items():
        home = await site.get("/p/", await site.enter(who))
        assert (home.status, home.headers["Location"]) == (303, where)


async def test_another_schools_page_record_and_photo_are_not_found(site: Site) -> None:
    await site.chat.say("李娜", "昨天在县实小开展了语文教研活动，6人参加")
    [event] = await site.chat.rows(Activity)
    blob = site.chat.runtime.blobs.put(b"\x89PNG\r\n\x1a\n-not-really")
    async with transaction(site.chat.runtime.factory) as session:
        await add_photo(session=session, activity_id=int(event.id or 0),
                        member_id=event.reporter_id, sha256=blob.sha256, mime="image/png",
                        size=blob.size, source="test:1", now=site.chat.clock.now())
    lead = await site.enter("韦国庆")
    assert (await site.get("/p/photo/1", lead)).status == 200
    assert (await site.get(f"/p/e/{event.id}", lead)).status == 200
    member_principal = await site.enter("欧阳勇")
    lead_school = await site.school_id("融安县实验小学")
    for path in (f"/p/s/{lead_school}", f"/p/c/{await site.community_id(SHIYAN)}",
                 "/p/county", f"/p/e/{event.id}", "/p/photo/1",
                 f"/p/record?school={lead_school}", "/p/e/999999", "/p/s/abc"):
        assert (await site.get(path, member_principal)).status == 404, path
    other_lead = await site.enter("郑玉兰")
    for path in (f"/p/c/{await site.community_id(SHIYAN)}", f"/p/s/{lead_school}",
                 f"/p/e/{event.id}", "/p/photo/1"):
        assert (await site.get(path, other_lead)).status == 404, path
    assert (await site.get(f"/p/c/{await site.community_id(ERSHI)}", other_lead)).status == 200


async def test_a_teacher_sees_their_own_entries_only(site: Site) -> None:
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学集体备课，8人参加")
    await site.chat.say("韦春兰", "前天在泗顶小学开展了语文教研活动，5人参加")
    mine, theirs = sorted(await site.chat.rows(Activity), key=lambda a: a.subject != "数学")
    zhang = await site.enter("张丽")
    record = await (await site.get("/p/record", zhang)).text()
    assert f'data-event="{mine.id}"' in record and f'data-event="{theirs.id}"' not in record
    assert "/p/record/withdraw" not in record and "record.xlsx" not in record
    assert (await site.get(f"/p/e/{theirs.id}", zhang)).status == 404
    assert (await site.get(f"/p/e/{mine.id}", zhang)).status == 200
    assert (await site.get("/p/record.xlsx", zhang)).status == 404


# --- figures --------------------------------------------------------------------------------

async def test_the_figures_are_the_chats_figures(site: Site) -> None:
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学集体备课，8人参加")
    await site.chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    await site.chat.say("刘洋", "昨天在二实小开展了英语集体备课，7人参加",
                        chat="融安县第二实验小学教共体群")
    [answer] = await site.chat.say("韦国庆", "@教联助手 本月集体备课开展了几次")
    chat_figure = re.search(r"(\d+/\d+) 次", answer)
    assert chat_figure is not None
    page = await (await site.get(f"/p/c/{await site.community_id(SHIYAN)}",
                                 await site.enter("韦国庆"))).text()
    assert _figure(page, "lesson_prep-month") == chat_figure.group(1) == "2/2"
    county = await (await site.get("/p/county", await site.enter("蒙建华"))).text()
    for name, expected in ((SHIYAN, "2/2"), (ERSHI, "1/2")):
        cid = await site.community_id(name)
        card = re.search(rf'<section data-community="{cid}">(.*?)</section>', county, re.S)
        assert card is not None
        assert _figure(card.group(1), "lesson_prep-month") == expected
    school = await (await site.get(f"/p/s/{await site.school_id(SIDING)}",
                                   await site.enter("欧阳勇"))).text()
    assert "数学 集体备课" in school


async def test_an_event_shows_its_sign_in_sheet(site: Site) -> None:
    await site.chat.say("韦国庆", "明天下午3点在县实小开展语文集体备课，请各校语文老师参加")
    [plan] = await site.chat.rows(Activity)
    site.chat.clock.advance(timedelta(days=1, hours=4, minutes=55))
    await site.chat.say("李娜", "签到")
    page = await (await site.get(f"/p/e/{plan.id}", await site.enter("韦国庆"))).text()
    signed = re.search(r'data-sheet="signed"><th>已签到</th><td class="fig">(\d+)', page)
    assert signed is not None and signed.group(1) == "1"
    assert "李娜" in page


# --- the record -------------------------------------------------------------------------------

async def _csrf(site: Site, headers: dict[str, str]) -> str:
    page = await (await site.get("/p/record", headers)).text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


async def test_a_withdrawal_needs_the_csrf_token_and_a_reason_and_is_audited(
        site: Site) -> None:
    await site.chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    [event] = await site.chat.rows(Activity)
    lead = await site.enter("韦国庆")
    csrf = await _csrf(site, lead)
    forged = await site.client.post("/p/record/withdraw", headers=lead, allow_redirects=False,
                                    data={"event": str(event.id), "reason": "重复"})
    assert forged.status == 403
    no_reason = await site.client.post("/p/record/withdraw", headers=lead,
                                       allow_redirects=False,
                                       data={"event": str(event.id), "reason": " ",
                                             "csrf": csrf})
    assert no_reason.status == 400
    [still] = await site.chat.rows(Activity)
    assert not still.withdrawn
    done = await site.client.post("/p/record/withdraw", headers=lead, allow_redirects=False,
                                  data={"event": str(event.id), "reason": "登记错了",
                                        "csrf": csrf})
    assert done.status == 303
    [gone] = await site.chat.rows(Activity)
    assert gone.withdrawn
    [audit] = await site.chat.rows(AuditLog, action="withdraw")
    assert audit.reason == "登记错了" and audit.entity_id == event.id
    [answer] = await site.chat.say("韦国庆", "@教联助手 本月集体备课开展了几次")
    assert "0/2" in answer


async def test_a_member_principal_cannot_withdraw_another_schools_entry(site: Site) -> None:
    await site.chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    [event] = await site.chat.rows(Activity)
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学教研活动，8人参加")
    headers = await site.enter("欧阳勇")
    csrf = await _csrf(site, headers)
    refused = await site.client.post("/p/record/withdraw", headers=headers,
                                     allow_redirects=False,
                                     data={"event": str(event.id), "reason": "x", "csrf": csrf})
    assert refused.status == 404
    assert not [a for a in await site.chat.rows(Activity) if a.withdrawn]


async def test_two_entries_merge_into_one(site: Site) -> None:
    await site.chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    await site.chat.say("张晓梅", "前天在县实小开展了语文集体备课，9人参加")
    keep, drop = sorted(await site.chat.rows(Activity), key=lambda a: int(a.id or 0))
    lead = await site.enter("韦国庆")
    csrf = await _csrf(site, lead)
    done = await site.client.post("/p/record/merge", headers=lead, allow_redirects=False,
                                  data={"keep": str(keep.id), "drop": str(drop.id),
                                        "reason": "同一次活动", "csrf": csrf})
    assert done.status == 303
    live = [a for a in await site.chat.rows(Activity) if not a.withdrawn]
    assert [a.id for a in live] == [keep.id]
    merges = await site.chat.rows(AuditLog, action="merge")
    assert [m.reason for m in merges] == ["同一次活动"]


async def test_the_record_filters_and_downloads_the_ledger(site: Site) -> None:
    await site.chat.say("李娜", "昨天在县实小开展了语文集体备课，10人参加")
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学教研活动，8人参加")
    lead = await site.enter("韦国庆")
    siding = await site.school_id(SIDING)
    page = await (await site.get(f"/p/record?school={siding}", lead)).text()
    assert '<span class="fig" id="count">1</span>' in page
    page = await (await site.get("/p/record?activity=lesson_prep", lead)).text()
    assert '<span class="fig" id="count">1</span>' in page
    download = await site.get("/p/record.xlsx?period=this_month", lead)
    assert download.status == 200
    assert "attachment" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await download.read()))
    rows = [r for r in book["活动台账"].iter_rows(values_only=True)]
    assert SHIYAN in str(rows[0][0])
    assert sum(1 for r in rows[2:] if "集体备课" in r or "教研活动" in r) == 2


async def test_a_link_lasts_the_configured_minutes(site: Site) -> None:
    await site.link("韦国庆")
    async with site.chat.runtime.factory() as session:
        [link] = list((await session.execute(select(PageLink))).scalars())
    assert link.expires_at - site.chat.clock.now() == timedelta(minutes=10)


def test_the_pages_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGES_KEY", "k" * 32)
    pages = settings_from_dict({"pages": {"public_url": "https://x.example.cn/",
                                          "secret_env": "PAGES_KEY", "link_minutes": 5}}).pages
    assert (pages.public_url, pages.secret, pages.link_minutes) == (
        "https://x.example.cn", "k" * 32, 5)
    for bad, where in (({"public_url": "x.example.cn"}, "[pages] public_url"),
                       ({"link_minute": 5}, "did you mean link_minutes"),
                       ({"session_minutes": 0}, "[pages] session_minutes"),
                       ({"secret_env": "NOT_SET_ANYWHERE"}, "[pages] secret_env"),
                       ({"wecom_login": True}, "[pages] wecom_login"),
                       ({"feishu_login": True}, "[pages] feishu_login")):
        with pytest.raises(ConfigError, match=re.escape(where)):
            settings_from_dict({"pages": bad})


async def test_coverage_on_the_pages_is_the_countys_coverage(site: Site) -> None:
    """The pages read only one community's subjects; the figures are those of the whole
    county's reading."""
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学集体备课，8人参加")
    county = await site.county()
    async with site.chat.runtime.factory() as session:
        statuses = await standing(
            session=session, county=county, quotas=DEFAULT_QUOTAS,
            periods={"year": site.chat.runtime.services.period_of(
                "year", site.chat.clock.now().date())})
    cid = await site.community_id(SHIYAN)
    siding = await site.school_id(SIDING)
    [community] = [s for s in statuses if s.community_id == cid and s.quota.cover
                   and s.school_id is None]
    [school] = [s for s in statuses if s.school_id == siding and s.quota.cover]
    page = await (await site.get(f"/p/c/{cid}", await site.enter("韦国庆"))).text()
    assert _figure(page, "lesson_prep-year") == f"{community.done}/{community.need}"
    assert "、".join(community.missing) in page
    school_page = await (await site.get(f"/p/s/{siding}", await site.enter("欧阳勇"))).text()
    assert _figure(school_page, "outreach-year") == f"{school.done}/{school.need}"
    assert community.need > 0 and school.need > 0


async def test_the_record_lists_the_latest_entries_and_counts_them_all(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "RECORD_ROWS", 1)
    await site.chat.say("李娜", "前天在县实小开展了语文集体备课，10人参加")
    await site.chat.say("张丽", "昨天在泗顶小学开展了数学教研活动，8人参加")
    older, newer = sorted(await site.chat.rows(Activity), key=lambda a: a.date)
    page = await (await site.get("/p/record", await site.enter("韦国庆"))).text()
    assert '<span class="fig" id="count">2</span>' in page
    assert f'data-event="{newer.id}"' in page and f'data-event="{older.id}"' not in page
    assert "全部记录请下载 Excel 台账" in page
