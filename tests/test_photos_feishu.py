"""Photo evidence on Feishu, end to end against the fake open platform: pictures are fetched
through the message-resource API, judged by their bytes, stored under their hash, attached
to the sender's record, and answered once per burst; the worker and delivery are driven here
(inbox → worker → outbox → delivery) with a fixed clock, and one test goes through the real
webhook of the running app."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import RUNTIME, create_app
from bot.channels.feishu import FeishuChannel
from bot.channels.feishu.normalise import inbox_payload
from bot.config import settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.events import withdraw_event
from storage.models import Activity, AuditLog, InboxEvent, Photo
from storage.records import iter_records
from tests.app_support import pending_events, prepare_demo_database
from tests.fakes.feishu import FakeFeishu, Fault
from tests.fakes.feishu_signing import image_event, post_event, signed_body, text_event

APP_ID, TOKEN, KEY = "cli_test", "v-token", "e-key"
USER, CHAT = "ou_zhangli", "oc_group"
BOT = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}
REPORT = "今天上午在泗顶中心校开展了数学集体备课，9人参加"
LIMIT = 4096
NOW = datetime(2026, 11, 26, 14, 5, tzinfo=SHANGHAI)  # a Thursday

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


def png(size: int = 600) -> bytes:
    """A picture by its first bytes (the rest need not be a valid image)."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def jpeg(size: int = 600) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_settings(db_url: str, fake: FakeFeishu, files: Path) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "files": {"dir": str(files), "max_image_bytes": LIMIT},
        "feishu": {"app_id": APP_ID, "app_secret": "secret", "verification_token": TOKEN,
                   "encrypt_key": KEY, "api_base": fake.url, "bot_open_id": "ou_bot"},
    }


@dataclasses.dataclass
class Rig:
    fake: FakeFeishu
    runtime: Runtime
    clock: FixedClock
    files: Path
    n: int = 0

    def _stamp(self, event: dict[str, Any], at: datetime | None) -> dict[str, Any]:
        moment = at or self.clock.now()
        event["event"]["message"]["create_time"] = str(int(moment.timestamp() * 1000))
        return event

    async def deliver(self, event: dict[str, Any]) -> list[str]:
        """Save one event as the webhook would, run the worker and delivery; what was sent."""
        before = len(self.fake.sent)
        await self.runtime.inbox.save(platform="feishu", event_id=event["header"]["event_id"],
                                      payload=inbox_payload(APP_ID, event, via="webhook"))
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()
        return self.fake.texts()[before:]

    async def say(self, text: str, *, user: str = USER, at: datetime | None = None) -> list[str]:
        event = text_event(f"@_user_1 {text}", app_id=APP_ID, token=TOKEN, chat_id=CHAT,
                           open_id=user, mentions=[BOT])
        return await self.deliver(self._stamp(event, at))

    async def picture(self, data: bytes, *, user: str = USER, at: datetime | None = None,
                      event_id: str | None = None, chat_type: str = "group") -> list[str]:
        """A picture on its own, not @mentioning the bot (im:message.group_msg)."""
        self.n += 1
        message_id, key = f"om_img_{self.n}", f"img_v2_{self.n}"
        self.fake.resources[(message_id, key)] = data
        event = image_event(key, app_id=APP_ID, token=TOKEN, chat_id=CHAT, open_id=user,
                            message_id=message_id, event_id=event_id, chat_type=chat_type)
        return await self.deliver(self._stamp(event, at))

    async def later(self, seconds: float) -> list[str]:
        """Let the clock move on, then run everything due; what was sent."""
        before = len(self.fake.sent)
        self.clock.advance(timedelta(seconds=seconds))
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()
        return self.fake.texts()[before:]

    async def rows(self, model: type[Any]) -> list[Any]:
        async with self.runtime.factory() as session:
            return list((await session.execute(select(model).order_by(model.id))).scalars())

    async def records(self, include_withdrawn: bool = False) -> list[dict[str, Any]]:
        """The record as `jiaolian records --json` lists it."""
        async with self.runtime.factory() as session:
            return [r async for r in iter_records(session=session,
                                                  include_withdrawn=include_withdrawn)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    server = await FakeFeishu(app_id=APP_ID).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def rig(db_url: str, fake: FakeFeishu, tmp_path: Path) -> AsyncIterator[Rig]:
    await prepare_demo_database(db_url, platform="feishu", user=USER, chat=CHAT, app_id=APP_ID)
    settings = settings_from_dict(raw_settings(db_url, fake, tmp_path / "files"))
    clock = FixedClock(NOW)
    runtime = await open_runtime(settings, clock=clock)
    channel = FeishuChannel(settings.feishu)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, clock, tmp_path / "files")
    finally:
        await channel.close()
        await runtime.close()


async def test_a_burst_of_pictures_after_a_report_is_attached_and_answered_once(
        rig: Rig) -> None:
    [confirmed] = await rig.say(REPORT)
    assert confirmed.startswith("已记录")
    pictures = [png(), jpeg(), png()]
    for data in pictures:
        assert await rig.picture(data) == []  # the answer waits for the rest of the burst
    assert len(rig.fake.downloads) == 3
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=3)]
    assert await rig.later(60) == []
    [event] = await rig.rows(Activity)
    photos = await rig.rows(Photo)
    assert [(p.activity_id, p.sha256, p.mime, p.size) for p in photos] == [
        (event.id, sha(d), m, len(d))
        for d, m in zip(pictures, ["image/png", "image/jpeg", "image/png"], strict=True)]
    for data in pictures:
        stored = rig.files / sha(data)[:2] / sha(data)[2:4] / sha(data)
        assert stored.read_bytes() == data
    # The answer replies to the burst's last picture.
    assert rig.fake.sent[-1].target == "om_img_3"


async def test_a_post_with_report_and_pictures_gets_one_answer_with_the_count(
        rig: Rig) -> None:
    a, b = png(), jpeg()
    rig.fake.resources[("om_post", "img_a")] = a
    rig.fake.resources[("om_post", "img_b")] = b
    event = post_event([[{"tag": "at", "user_id": "@_user_1"}, {"tag": "text", "text": REPORT}],
                        [{"tag": "img", "image_key": "img_a"}],
                        [{"tag": "img", "image_key": "img_b"}]],
                       app_id=APP_ID, token=TOKEN, chat_id=CHAT, open_id=USER,
                       message_id="om_post", mentions=[BOT])
    [answer] = await rig.deliver(rig._stamp(event, None))
    assert answer.startswith("已记录") and answer.endswith(
        texts.PHOTOS_ATTACHED_TAIL.format(n=2))
    assert await rig.later(60) == []
    [activity] = await rig.rows(Activity)
    assert {(p.activity_id, p.sha256, p.source) for p in await rig.rows(Photo)} == {
        (activity.id, sha(a), "feishu:om_post"), (activity.id, sha(b), "feishu:om_post")}


async def test_redelivery_and_the_same_picture_again_add_nothing(rig: Rig) -> None:
    await rig.say(REPORT)
    data = png()
    await rig.picture(data, event_id="ev-pic")
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
    assert await rig.picture(data, event_id="ev-pic") == []  # the platform pushed it again
    assert await rig.picture(data) == []  # posted again as a new message
    assert await rig.later(60) == []
    assert len(await rig.rows(Photo)) == 1
    assert len(await rig.rows(InboxEvent)) == 3


async def test_oversize_and_non_pictures_are_refused_and_the_teacher_told(rig: Rig) -> None:
    await rig.say(REPORT)
    assert await rig.picture(png(LIMIT + 1)) == [texts.PHOTOS_REFUSED.format(mb=1)]
    assert await rig.picture(b"%PDF-1.7 not a picture") == [texts.PHOTOS_REFUSED.format(mb=1)]
    assert await rig.rows(Photo) == []
    assert not rig.files.exists() or not any(p.is_file() for p in rig.files.rglob("*"))


async def test_an_unknown_senders_pictures_are_not_fetched(rig: Rig) -> None:
    assert await rig.picture(png(), user="ou_stranger") == []
    assert await rig.later(60) == []
    assert rig.fake.downloads == []
    assert await rig.rows(Photo) == []


async def test_a_picture_with_nothing_to_attach_to(rig: Rig) -> None:
    # In a group: silence, not fetched, nothing kept.
    assert await rig.picture(png()) == []
    assert await rig.later(60) == []
    assert rig.fake.downloads == []
    # A report of more than 30 minutes ago is too old to take it.
    await rig.say(REPORT, at=rig.clock.now() - timedelta(minutes=31))
    assert await rig.picture(png()) == []
    assert rig.fake.downloads == [] and await rig.rows(Photo) == []
    # In a private chat: a short hint.
    assert await rig.picture(png(), chat_type="p2p") == [texts.PHOTOS_NOTHING_TO_ATTACH]


async def test_a_picture_goes_to_the_event_of_a_sign_in(rig: Rig) -> None:
    await rig.say("今天下午两点在泗顶中心校开展数学集体备课",
                  at=rig.clock.now() - timedelta(hours=1))
    [plan] = await rig.rows(Activity)
    signed = await rig.say("签到")
    assert signed and "签到" in signed[0]
    await rig.picture(png())
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
    [photo] = await rig.rows(Photo)
    assert photo.activity_id == plan.id


async def test_a_failed_download_that_may_pass_is_retried_later(rig: Rig) -> None:
    await rig.say(REPORT)
    rig.fake.download_faults = [Fault(503, 0)]
    data = png()
    assert await rig.picture(data) == []
    [_, event] = await rig.rows(InboxEvent)
    assert (event.status, event.error != "") == ("pending", True)
    assert await rig.rows(Photo) == []
    assert await rig.later(30) == []  # the retry attaches it; the answer waits for the burst
    [photo] = await rig.rows(Photo)
    assert photo.sha256 == sha(data)
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
    assert len(rig.fake.downloads) == 2


async def test_withdrawing_the_record_keeps_its_photos_in_the_audit_trail(rig: Rig) -> None:
    await rig.say(REPORT)
    data = png()
    await rig.picture(data)
    [event] = await rig.rows(Activity)
    shown = {"sha256": sha(data), "mime": "image/png", "size": len(data)}
    assert [r["photos"] for r in await rig.records() if r["kind"] == "activity"] == [[shown]]
    async with transaction(rig.runtime.factory) as session:
        row = await session.get(Activity, event.id)
        assert row is not None
        await withdraw_event(session=session, event=row, by=None, now=rig.clock.now(),
                             reason="test")
    [photo] = await rig.rows(Photo)
    assert photo.sha256 == sha(data)
    assert await rig.records() == []
    assert [r["photos"] for r in await rig.records(include_withdrawn=True)] == [[shown]]
    attached = [a for a in await rig.rows(AuditLog) if a.entity == "photo"]
    assert [(a.action, a.entity_id, (a.after or {}).get("sha256")) for a in attached] == [
        ("attach", event.id, sha(data))]


async def _pending(client: TestClient) -> int:
    return await pending_events(client.app[RUNTIME].factory)


async def test_through_the_webhook_of_the_running_app(
        sqlite_url: str, fake: FakeFeishu, tmp_path: Path,
        aiohttp_client: ClientFactory) -> None:
    await prepare_demo_database(sqlite_url, platform="feishu", user=USER, chat=CHAT,
                                app_id=APP_ID)
    clock = FixedClock(datetime.now(SHANGHAI))
    settings = settings_from_dict(raw_settings(sqlite_url, fake, tmp_path / "files"))
    client = await aiohttp_client(create_app(settings, clock=clock))

    async def post(event: dict[str, Any]) -> None:
        headers, body = signed_body(event, encrypt_key=KEY)
        resp = await client.post("/feishu/events", data=body, headers=headers)
        assert (resp.status, await resp.json()) == (200, {})

    await post(text_event(f"@_user_1 {REPORT}", app_id=APP_ID, token=TOKEN, chat_id=CHAT,
                          open_id=USER, mentions=[BOT]))
    await fake.wait_for(lambda: len(fake.sent) == 1)
    for n in (1, 2):
        fake.resources[(f"om_p{n}", f"img_{n}")] = png()
        await post(image_event(f"img_{n}", app_id=APP_ID, token=TOKEN, chat_id=CHAT,
                               open_id=USER, message_id=f"om_p{n}"))
    await fake.wait_for(lambda: len(fake.downloads) == 2)
    runtime = client.app[RUNTIME]
    # Until the background worker has committed both pictures (driven, not slept on).
    async with asyncio.timeout(15):
        while await runtime.worker.drain() or await _pending(client):
            pass
    assert fake.texts() == [fake.texts()[0]]  # the burst's answer waits for its time
    clock.advance(timedelta(seconds=10))
    runtime.delivery.wakeup.set()
    runtime.worker.wakeup.set()
    await fake.wait_for(lambda: len(fake.sent) == 2)
    assert fake.texts()[1] == texts.PHOTOS_ATTACHED.format(n=2)


async def test_a_revoked_token_is_replaced_and_a_missing_resource_refused(rig: Rig) -> None:
    await rig.say(REPORT)
    rig.fake.revoke_tokens()
    await rig.picture(png())
    assert rig.fake.token_requests == 2
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
    event = image_event("img_unknown", app_id=APP_ID, token=TOKEN, chat_id=CHAT, open_id=USER)
    assert await rig.deliver(rig._stamp(event, None)) == [texts.PHOTOS_REFUSED.format(mb=1)]
    assert len(await rig.rows(Photo)) == 1
