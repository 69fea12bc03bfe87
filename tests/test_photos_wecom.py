"""Photo evidence on WeCom, end to end against the fake server: a group report with pictures
(`mixed`), pictures on their own in a single chat (`image`), files encrypted with the robot's
EncodingAESKey, refusals and retries; the worker and delivery are driven here with a fixed
clock, and one test goes through the real callback of the running app."""

from __future__ import annotations

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

from bot.app import create_app
from bot.channels.wecom import WeComChannel
from bot.channels.wecom.normalise import inbox_payload
from bot.config import settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers import texts
from handlers.clock import SHANGHAI, FixedClock
from storage.models import Activity, InboxEvent, Photo
from tests.app_support import prepare_demo_database
from tests.fakes.wecom import FakeWeCom
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    encrypt_file,
    image_message,
    mixed_message,
    signed_callback,
    text_message,
)

TOKEN = "robot-token"
USER, CHAT = "zhangli", "wrkSFfCgAAgroup"
REPORT = "今天上午在泗顶中心校开展了数学集体备课，9人参加"
LIMIT = 4096
NOW = datetime(2026, 11, 26, 14, 5, tzinfo=SHANGHAI)
OTHER_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg"

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


def png(size: int = 600) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_settings(db_url: str, fake: FakeWeCom, files: Path) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "files": {"dir": str(files), "max_image_bytes": LIMIT},
        "wecom": {"corp_id": "ww_corp", "token": TOKEN, "encoding_aes_key": ENCODING_AES_KEY,
                  "agent_id": 1000002, "app_secret": "app-secret", "api_base": fake.url,
                  "group_webhooks": [{"chat_id": CHAT, "key": "hook-key"}]},
    }


@dataclasses.dataclass
class Rig:
    fake: FakeWeCom
    runtime: Runtime
    clock: FixedClock
    files: Path

    async def deliver(self, message: dict[str, Any]) -> list[str]:
        before = len(self.fake.sent)
        await self.runtime.inbox.save(
            platform="wecom", event_id=message["msgid"],
            payload=inbox_payload(message, timestamp=int(self.clock.now().timestamp())))
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()
        return self.fake.texts()[before:]

    def url_of(self, data: bytes, key: str = ENCODING_AES_KEY) -> str:
        return self.fake.serve_file(encrypt_file(data, key))

    async def mixed(self, items: list[tuple[str, str]], *, user: str = USER) -> list[str]:
        return await self.deliver(mixed_message(items, userid=user, chatid=CHAT,
                                                response_url=self.fake.response_url()))

    async def say(self, text: str) -> list[str]:
        return await self.deliver(text_message(f"@教联助手 {text}", userid=USER, chatid=CHAT,
                                               response_url=self.fake.response_url()))

    async def picture(self, url: str, *, msgid: str | None = None) -> list[str]:
        return await self.deliver(image_message(url, userid=USER, msgid=msgid,
                                                response_url=self.fake.response_url()))

    async def later(self, seconds: float) -> list[str]:
        before = len(self.fake.sent)
        self.clock.advance(timedelta(seconds=seconds))
        await self.runtime.worker.drain()
        await self.runtime.delivery.drain()
        return self.fake.texts()[before:]

    async def rows(self, model: type[Any]) -> list[Any]:
        async with self.runtime.factory() as session:
            return list((await session.execute(select(model).order_by(model.id))).scalars())


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    server = await FakeWeCom().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def rig(db_url: str, fake: FakeWeCom, tmp_path: Path) -> AsyncIterator[Rig]:
    await prepare_demo_database(db_url, platform="wecom", user=USER, chat=CHAT)
    settings = settings_from_dict(raw_settings(db_url, fake, tmp_path / "files"))
    assert settings.wecom is not None
    clock = FixedClock(NOW)
    runtime = await open_runtime(settings, clock=clock)
    channel = WeComChannel(settings.wecom, factory=runtime.factory, now=clock.now)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, clock, tmp_path / "files")
    finally:
        await channel.close()
        await runtime.close()


async def test_a_group_report_with_pictures_is_recorded_with_them_in_one_answer(
        rig: Rig) -> None:
    a, b = png(), png(900)
    [answer] = await rig.mixed([("text", f"@教联助手 {REPORT}"), ("image", rig.url_of(a)),
                                ("image", rig.url_of(b))])
    assert answer.startswith("已记录") and answer.endswith(
        texts.PHOTOS_ATTACHED_TAIL.format(n=2))
    assert rig.fake.sent[0].kind == "response"
    assert await rig.later(60) == []
    [event] = await rig.rows(Activity)
    assert event.participants == 9
    assert [(p.activity_id, p.sha256, p.size) for p in await rig.rows(Photo)] == [
        (event.id, sha(a), len(a)), (event.id, sha(b), len(b))]
    assert (rig.files / sha(a)[:2] / sha(a)[2:4] / sha(a)).read_bytes() == a


async def test_pictures_in_a_single_chat_after_a_report_get_one_answer(rig: Rig) -> None:
    await rig.say(REPORT)
    for _ in range(2):
        assert await rig.picture(rig.url_of(png())) == []
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=2)]
    assert rig.fake.sent[-1].kind == "response"
    assert len(await rig.rows(Photo)) == 2


async def test_a_file_that_does_not_decrypt_or_is_gone_is_refused(rig: Rig) -> None:
    await rig.say(REPORT)
    refused = texts.PHOTOS_REFUSED.format(mb=1)
    assert await rig.picture(rig.url_of(png(), key=OTHER_KEY)) == [refused]
    gone = rig.url_of(png()).replace("sign=secret", "sign=expired")
    assert await rig.picture(gone) == [refused]
    assert await rig.picture(rig.url_of(png(LIMIT + 1))) == [refused]
    assert await rig.rows(Photo) == []


async def test_a_server_error_retries_the_event_later(rig: Rig) -> None:
    await rig.say(REPORT)
    rig.fake.download_faults = [502]
    assert await rig.picture(rig.url_of(png()), msgid="m-retry") == []
    [_, event] = await rig.rows(InboxEvent)
    assert (event.status, "HTTP 502" in event.error) == ("pending", True)
    assert "sign=" not in event.error
    assert await rig.later(30) == []
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]
    assert len(await rig.rows(Photo)) == 1


async def test_an_unknown_senders_pictures_are_not_fetched(rig: Rig) -> None:
    answers = await rig.mixed([("text", f"@教联助手 {REPORT}"), ("image", rig.url_of(png()))],
                              user="stranger")
    assert answers == [texts.WHO_ARE_YOU]
    assert rig.fake.downloads == []
    assert await rig.rows(Photo) == []


async def test_words_that_say_nothing_new_with_pictures_go_to_the_last_report(
        rig: Rig) -> None:
    await rig.say(REPORT)
    assert await rig.mixed([("text", "@教联助手 活动照片"), ("image", rig.url_of(png()))]) == []
    assert await rig.later(10) == [texts.PHOTOS_ATTACHED.format(n=1)]  # no hint
    [event] = await rig.rows(Activity)
    [photo] = await rig.rows(Photo)
    assert photo.activity_id == event.id


async def test_through_the_callback_of_the_running_app(
        sqlite_url: str, fake: FakeWeCom, tmp_path: Path,
        aiohttp_client: ClientFactory) -> None:
    await prepare_demo_database(sqlite_url, platform="wecom", user=USER, chat=CHAT)
    settings = settings_from_dict(raw_settings(sqlite_url, fake, tmp_path / "files"))
    client = await aiohttp_client(create_app(settings, clock=FixedClock(NOW)))
    data = png()
    message = mixed_message([("text", f"@教联助手 {REPORT}"),
                             ("image", fake.serve_file(encrypt_file(data)))],
                            userid=USER, chatid=CHAT, response_url=fake.response_url())
    query, body = signed_callback(message, token=TOKEN)
    resp = await client.post("/wecom/callback", data=body, params=query)
    assert resp.status == 200
    await fake.wait_for(lambda: len(fake.sent) == 1)
    assert fake.texts()[0].endswith(texts.PHOTOS_ATTACHED_TAIL.format(n=1))
    assert (tmp_path / "files" / sha(data)[:2] / sha(data)[2:4] / sha(data)).read_bytes() == data
