"""The pages' routes under /p/: the one-time link, the session, and the scoped pages.

Every handler opens one transaction, finds the viewer from the session cookie and checks
that what is asked for lies inside the viewer's scope; anything outside is a 404, exactly
like an id that does not exist. Nothing personal goes into a URL or a log line.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.pages import html
from bot.pages.access import (
    Viewer,
    school_ids,
    sees_community,
    sees_event,
    sees_school,
    viewer_of,
)
from bot.pages.figures import (
    COUNTY_KINDS,
    RECENT,
    RECENT_DAYS,
    county_view,
    own_event_ids,
    scope_view,
)
from bot.pages.login import add_login_routes
from bot.pages.tokens import LANDING, signing_key, verified_nonce
from bot.runtime import Runtime
from handlers.clock import SHANGHAI
from handlers.ledger import LedgerScope, file_name, ledger_data, workbook_bytes
from handlers.ledger.events import event_rows
from handlers.ledger.model import EventRow
from handlers.ledger.scope import county_name
from handlers.periods import Period, query_period
from handlers.quotas import Quota, exchange_targets, quotas_from_settings
from handlers.sheet import sheet_for
from handlers.standing import County, load_county
from storage.db import transaction
from storage.events import merge_events, withdraw_event
from storage.ledger import events_between
from storage.models import Activity, EventStatus, Photo
from storage.pages import link_member, open_session, session_of, spend_link
from storage.photos import photos_of

log = logging.getLogger(__name__)

COOKIE = "jl_page"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
GONE = "链接已失效（过期或已经用过）。请在聊天里给教联助手发“看板”，获取新的链接。"
SIGNED_OUT = "请在聊天里给教联助手发“看板”，用收到的链接打开看板。"
NOTHING = "你的账号还没有对应的学校，暂时没有可看的内容；请联系管理员。"
REASON_NEEDED = "请填写原因。"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RuntimeOf = Callable[[web.Application], Runtime]
# The record's period, rows (the latest RECORD_ROWS), how many there are in all, the chosen
# filters, the schools to pick from, the school chosen.
RecordRows = tuple[Period, list[EventRow], int, dict[str, str], list[int], int | None]
# A phone shows this many entries at most; the workbook holds them all.
RECORD_ROWS = 200


class Pages:
    """The routes, bound to the app's runtime (looked up per request: it opens at startup)."""

    def __init__(self, settings: Settings, runtime_of: RuntimeOf) -> None:
        self.settings = settings
        self.runtime_of = runtime_of
        self.secure = settings.pages.public_url.startswith("https://")
        self.session_lifetime = dt.timedelta(minutes=settings.pages.session_minutes)

    # --- plumbing -------------------------------------------------------------------------

    def runtime(self, request: web.Request) -> Runtime:
        return self.runtime_of(request.app)

    def now(self, request: web.Request) -> dt.datetime:
        return self.runtime(request).clock.now()

    def today(self, request: web.Request) -> dt.date:
        return self.now(request).astimezone(SHANGHAI).date()

    async def viewer(self, request: web.Request, session: AsyncSession) -> Viewer:
        token = request.cookies.get(COOKIE, "")
        found = await session_of(session=session, token=token, now=self.now(request)) \
            if token else None
        if found is None:
            raise web.HTTPUnauthorized(text=html.notice("教共体看板", SIGNED_OUT),
                                       content_type="text/html")
        return await viewer_of(session, *found)

    @staticmethod
    def nav(viewer: Viewer) -> list[tuple[str, str]]:
        if viewer.scope is None:
            return []
        return [("/p/", "首页"), ("/p/record", "活动记录")]

    def names(self, request: web.Request) -> dict[str, str]:
        return dict(self.runtime(request).services.activity_names)

    @staticmethod
    def page(body: str, status: int = 200) -> web.Response:
        return web.Response(text=body, content_type="text/html", status=status)

    # --- the link and the session ---------------------------------------------------------

    async def _nonce(self, request: web.Request, session: AsyncSession) -> str | None:
        key = await signing_key(session, self.settings.pages.secret, self.now(request))
        return verified_nonce(key, request.match_info["token"])

    async def landing(self, request: web.Request) -> web.Response:
        """GET shows a button only: link previews by chat apps must not spend the link."""
        async with transaction(self.runtime(request).factory) as session:
            nonce = await self._nonce(request, session)
            alive = nonce is not None and await link_member(
                session=session, nonce=nonce, now=self.now(request)) is not None
        if not alive:
            return self.page(html.notice("教共体看板", GONE), status=410)
        return self.page(html.landing(request.path, self.settings.bot.name))

    @staticmethod
    def _cross_site(request: web.Request) -> bool:
        """A POST a browser sends from another site says so in Sec-Fetch-Site: it must not
        spend a link (nor sign someone into the link's session). Origin cannot tell: with
        our no-referrer policy the landing page's own POST carries `Origin: null`."""
        return request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"

    async def enter(self, request: web.Request) -> web.Response:
        """POST from the landing page: spend the link, start the session."""
        if self._cross_site(request):
            return self.page(html.notice("教共体看板", GONE), status=403)
        now = self.now(request)
        async with transaction(self.runtime(request).factory) as session:
            nonce = await self._nonce(request, session)
            member_id = None if nonce is None else await spend_link(session=session,
                                                                    nonce=nonce, now=now)
            if member_id is None:
                return self.page(html.notice("教共体看板", GONE), status=410)
            token = await open_session(session=session, member_id=member_id, now=now,
                                       lifetime=self.session_lifetime)
        raise self.signed_in(token)

    def signed_in(self, token: str) -> web.HTTPSeeOther:
        response = web.HTTPSeeOther("/p/")
        response.set_cookie(COOKIE, token, path="/p/", httponly=True, secure=self.secure,
                            samesite="Lax", max_age=self.settings.pages.session_minutes * 60)
        return response

    async def home(self, request: web.Request) -> web.Response:
        async with transaction(self.runtime(request).factory) as session:
            viewer = await self.viewer(request, session)
        scope = viewer.scope
        if scope is None:
            return self.page(html.notice("教共体看板", NOTHING))
        target = {"county": "/p/county", "community": f"/p/c/{scope.id}",
                  "school": f"/p/s/{scope.id}"}[scope.kind]
        raise web.HTTPSeeOther(target)

    # --- pages ----------------------------------------------------------------------------

    async def county(self, request: web.Request) -> web.Response:
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            if viewer.scope is None or viewer.scope.kind != "county":
                raise web.HTTPNotFound()
            covers = any(q.cover and q.period in COUNTY_KINDS for q in self.quotas())
            county = await load_county(session=session, subjects=covers)
            title = await county_name(session)
        view = await county_view(runtime.factory, county=county, quotas=self.quotas(),
                                 today=self.today(request), period_of=runtime.services.period_of)
        return self.page(html.county_page(view, title=title or "全县", names=self.names(request),
                                          today=self.today(request), nav=self.nav(viewer)))

    def quotas(self) -> tuple[Quota, ...]:
        return quotas_from_settings(self.settings.scheduler)

    async def _recent(self, session: AsyncSession, request: web.Request, county: County,
                      viewer: Viewer, community_id: int,
                      school_id: int | None) -> list[EventRow]:
        today = self.today(request)
        events = await events_between(session=session, start=today - dt.timedelta(RECENT_DAYS),
                                      end=today, community_ids=[community_id],
                                      school_id=school_id)
        events = [e for e in events if e.status != EventStatus.PLANNED]
        if viewer.own_only:
            mine = await own_event_ids(session, viewer.member_id)
            events = [e for e in events if e.id in mine]
        rows = await event_rows(session, county=county, events=events[-RECENT:][::-1],
                                activity_names=self.names(request), tz=SHANGHAI)
        return rows

    async def community(self, request: web.Request) -> web.Response:
        cid = _int(request.match_info["cid"])
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            if cid is None or not sees_community(viewer, cid):
                raise web.HTTPNotFound()
            county = await load_county(session=session, subjects_of=cid)
            if cid not in county.communities:
                raise web.HTTPNotFound()
            recent = await self._recent(session, request, county, viewer, cid, None)
            view = await scope_view(
                session, county=county, community_id=cid, school_id=None, quotas=self.quotas(),
                period_of=runtime.services.period_of, today=self.today(request),
                activity_names=self.names(request), recent=recent)
        members = [(s.id, s.name) for s in county.schools_of(cid)]
        return self.page(html.scope_page(
            view, title=view.name, subtitle="教共体", names=self.names(request),
            schools={s.id: s.name for s in county.schools.values()},
            nav=self.nav(viewer), member_links=members))

    async def school(self, request: web.Request) -> web.Response:
        sid = _int(request.match_info["sid"])
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            county = await load_county(session=session, subjects=False)
            if sid is None or not sees_school(viewer, county, sid):
                raise web.HTTPNotFound()
            cid = county.schools[sid].community_id
            await load_county(session=session, county=county, subjects_of=cid)
            recent = await self._recent(session, request, county, viewer, cid, sid)
            view = await scope_view(
                session, county=county, community_id=cid, school_id=sid, quotas=self.quotas(),
                period_of=runtime.services.period_of, today=self.today(request),
                activity_names=self.names(request), recent=recent)
        subtitle = county.communities.get(cid, "")
        if viewer.own_only:
            subtitle += " · 近期记录只列你自己登记的"
        return self.page(html.scope_page(
            view, title=view.name, subtitle=subtitle, names=self.names(request),
            schools={s.id: s.name for s in county.schools.values()}, nav=self.nav(viewer)))

    async def _event(self, session: AsyncSession, viewer: Viewer, county: County,
                     event_id: int | None) -> Activity:
        event = await session.get(Activity, event_id) if event_id is not None else None
        if event is None or event.withdrawn or event.date is None \
                or not await sees_event(session, viewer, county, event):
            raise web.HTTPNotFound()
        return event

    async def event(self, request: web.Request) -> web.Response:
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            county = await load_county(session=session, subjects=False)
            event = await self._event(session, viewer, county, _int(request.match_info["eid"]))
            [row] = await event_rows(session, county=county, events=[event],
                                     activity_names=self.names(request), tz=SHANGHAI)
            photos = (await _photo_ids(session, [row.id], viewer)).get(row.id, [])
            planned = event.status in (EventStatus.PLANNED, EventStatus.HELD)
            sheet = await sheet_for(session, event) if planned else None
        return self.page(html.event_page(row, photos, sheet, nav=self.nav(viewer)))

    async def photo(self, request: web.Request) -> web.Response:
        runtime = self.runtime(request)
        pid = _int(request.match_info["pid"])
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            photo = await session.get(Photo, pid) if pid is not None else None
            if photo is None:
                raise web.HTTPNotFound()
            county = await load_county(session=session, subjects=False)
            await self._event(session, viewer, county, photo.activity_id)
            if viewer.own_only and photo.member_id != viewer.member_id:
                raise web.HTTPNotFound()
        try:
            data = runtime.blobs.get(photo.sha256)
        except (FileNotFoundError, KeyError) as exc:
            raise web.HTTPNotFound() from exc
        return web.Response(body=data, content_type=photo.mime)

    # --- the record -----------------------------------------------------------------------

    async def _record_rows(self, session: AsyncSession, request: web.Request,
                           viewer: Viewer, county: County, rows: int = 0) -> RecordRows:
        query = request.query
        word = query.get("period", "this_month")
        if word not in html.PERIOD_CHOICES:
            word = "this_month"
        period = query_period(word, self.today(request),
                              self.runtime(request).services.period_of)
        allowed = school_ids(viewer, county)
        school = _int(query.get("school", "")) if query.get("school") else None
        if school is not None and school not in allowed:
            raise web.HTTPNotFound()
        activity = query.get("activity", "")
        if activity and activity not in self.names(request):
            activity = ""
        scope = viewer.scope
        assert scope is not None
        if scope.kind == "county":
            communities = None
        elif scope.kind == "community":
            communities = [int(scope.id or 0)]
        else:
            communities = [county.schools[int(scope.id or 0)].community_id]
            school = school or scope.id
        events = await events_between(session=session, start=period.start,
                                      end=period.end - dt.timedelta(days=1),
                                      community_ids=communities, school_id=school)
        if activity:
            events = [e for e in events if e.activity == activity]
        if viewer.own_only:
            mine = await own_event_ids(session, viewer.member_id)
            events = [e for e in events if e.id in mine]
        shown = await event_rows(session, county=county, events=events[-rows:] if rows else [],
                                 activity_names=self.names(request), tz=SHANGHAI)
        chosen = {"period": word, "school": str(school or "") if query.get("school") else "",
                  "activity": activity}
        return period, shown, len(events), chosen, allowed, school

    async def record(self, request: web.Request) -> web.Response:
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            if viewer.scope is None:
                raise web.HTTPNotFound()
            county = await load_county(session=session, subjects=False)
            period, rows, total, chosen, allowed, _ = await self._record_rows(
                session, request, viewer, county, rows=RECORD_ROWS)
            photos = await _photo_ids(session, [r.id for r in rows], viewer)
            with_photos = [(r, photos.get(r.id, [])) for r in rows]
        query = urlencode({k: v for k, v in chosen.items() if v})
        done = {"withdrawn": "已撤回。", "merged": "已合并。"}.get(request.query.get("done", ""),
                                                                 "")
        return self.page(html.record_page(
            with_photos, period=period, chosen=chosen,
            schools=[(sid, county.schools[sid].name) for sid in allowed],
            activities=self.names(request), manages=viewer.manages, csrf=viewer.csrf,
            query=query, nav=self.nav(viewer), done=done, total=total))

    async def export(self, request: web.Request) -> web.Response:
        """The ledger workbook of the chosen period for the viewer's scope (or one school)."""
        runtime = self.runtime(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            if not viewer.manages or viewer.scope is None:
                raise web.HTTPNotFound()
            county = await load_county(session=session, subjects=False)
            period, _, _, _, _, school = await self._record_rows(session, request, viewer,
                                                                 county)
            scope = LedgerScope.school(school) if school is not None else viewer.scope
            end = period.end - dt.timedelta(days=1)
            ledger = await ledger_data(
                session, scope=scope, start=period.start, end=end, quotas=self.quotas(),
                period_of=runtime.services.period_of, activity_names=self.names(request),
                tz=SHANGHAI, today=self.today(request),
                targets=exchange_targets(self.settings.scheduler))
        name = file_name(ledger.scope_name, period.start, end)
        return web.Response(
            body=workbook_bytes(ledger),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition":
                     f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{quote(name)}"})

    async def _change(self, request: web.Request, act: str) -> web.Response:
        runtime = self.runtime(request)
        form = await request.post()
        now = self.now(request)
        async with transaction(runtime.factory) as session:
            viewer = await self.viewer(request, session)
            if str(form.get("csrf", "")) != viewer.csrf or not viewer.csrf:
                raise web.HTTPForbidden(
                    text=html.notice("教共体看板", "页面已过期，请刷新后再试。"),
                    content_type="text/html")
            if not viewer.manages:
                raise web.HTTPNotFound()
            reason = str(form.get("reason", "")).strip()[:200]
            if not reason:
                return self.page(html.notice("教共体看板", REASON_NEEDED), status=400)
            county = await load_county(session=session, subjects=False)
            if act == "withdraw":
                event = await self._event(session, viewer, county, _int(str(form.get("event"))))
                await withdraw_event(session=session, event=event, by=viewer.member_id,
                                     now=now, reason=reason)
                log.info("pages: event #%s withdrawn by member #%s", event.id, viewer.member_id)
            else:
                keep = await self._event(session, viewer, county, _int(str(form.get("keep"))))
                drop = await self._event(session, viewer, county, _int(str(form.get("drop"))))
                if keep.id == drop.id:
                    return self.page(html.notice("教共体看板", "请选两条不同的记录。"), status=400)
                await merge_events(session=session, keep=keep, drop=drop, by=viewer.member_id,
                                   now=now, reason=reason)
                log.info("pages: event #%s merged into #%s by member #%s", drop.id, keep.id,
                         viewer.member_id)
        back = str(form.get("back", ""))
        done = "withdrawn" if act == "withdraw" else "merged"
        raise web.HTTPSeeOther(f"/p/record?{back}&done={done}" if back
                               else f"/p/record?done={done}")

    async def withdraw(self, request: web.Request) -> web.Response:
        return await self._change(request, "withdraw")

    async def merge(self, request: web.Request) -> web.Response:
        return await self._change(request, "merge")

    async def style(self, request: web.Request) -> web.Response:
        return web.Response(text=html.CSS, content_type="text/css",
                            headers={"Cache-Control": "public, max-age=3600"})


def _int(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


async def _photo_ids(session: AsyncSession, event_ids: list[int],
                     viewer: Viewer) -> dict[int, list[int]]:
    """Events' photos the viewer may see (a teacher: their own), by event."""
    out: dict[int, list[int]] = {}
    for p in await photos_of(session=session, activity_ids=event_ids):
        if p.id is not None and (not viewer.own_only or p.member_id == viewer.member_id):
            out.setdefault(p.activity_id, []).append(p.id)
    return out


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page and refusal under /p/ carries the policy; pages are never cached."""
    if not request.path.startswith("/p/"):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for name, value in SECURITY_HEADERS.items():
            exc.headers.setdefault(name, value)
        raise
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def add_page_routes(app: web.Application, settings: Settings, runtime_of: RuntimeOf) -> None:
    """Mount /p/ when `[pages] public_url` is set (without it `看板` gives no link)."""
    if not settings.pages.public_url:
        return
    pages = Pages(settings, runtime_of)
    app.middlewares.append(security_headers)
    r = app.router
    r.add_get("/p/style.css", pages.style)
    r.add_get(LANDING + "{token}", pages.landing)
    r.add_post(LANDING + "{token}", pages.enter)
    r.add_get("/p/", pages.home)
    r.add_get("/p/county", pages.county)
    r.add_get("/p/c/{cid}", pages.community)
    r.add_get("/p/s/{sid}", pages.school)
    r.add_get("/p/e/{eid}", pages.event)
    r.add_get("/p/photo/{pid}", pages.photo)
    r.add_get("/p/record", pages.record)
    r.add_get("/p/record.xlsx", pages.export)
    r.add_post("/p/record/withdraw", pages.withdraw)
    r.add_post("/p/record/merge", pages.merge)
    add_login_routes(app, pages)
