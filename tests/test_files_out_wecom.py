"""Files and pictures to a person on WeCom, through the real delivery loop against the fake
server: media/upload by the self-built app, then a file/image message after the text parts;
a reply carrying files skips the response_url; limits fail for good; a failed upload is
retried without re-sending the text; an invalid token during an upload is refreshed once;
a group never receives the files."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.wecom import WeComChannel
from bot.channels.wecom import channel as wecom_channel
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SHANGHAI, FixedClock
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.app_support import Mono
from tests.fakes.wecom import FakeWeCom
from tests.files_support import MB, PNG_BYTES, WORKBOOK, XLSX_BYTES, as_rows, attach
from tests.wecom_support import answer, robot_text, save

GROUP = "wrk_group"
TEXT = "本月台账已生成，请查收"


@dataclasses.dataclass
class Rig:
    fake: FakeWeCom
    runtime: Runtime
    channel: WeComChannel
    clock: FixedClock
    mono: Mono

    async def queue(self, key: str, text: str = TEXT, **kw: Any) -> None:
        fields: dict[str, Any] = {"target_kind": "user", "target": "principal", **kw}
        msg = NewMessage(key=key, platform="wecom", text=text, **fields)
        async with transaction(self.runtime.factory) as session:
            await enqueue(session=session, message=msg, now=self.clock.now())

    async def rows(self) -> list[OutboxMessage]:
        async with self.runtime.factory() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            return list((await session.execute(stmt)).scalars())

    async def later(self, seconds: float = 600) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.mono.t += seconds
        await self.runtime.delivery.drain()

    def sent(self) -> list[tuple[str, str, str]]:
        return [(s.kind, s.target, s.msgtype) for s in self.fake.sent]


@pytest.fixture
async def rig(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    fake = await FakeWeCom().start()
    settings = settings_from_dict({
        "wecom": {"corp_id": "ww_corp", "agent_id": 1000002, "app_secret": "app-secret",
                  "api_base": fake.url,
                  "group_webhooks": [{"chat_id": GROUP, "key": "hook-key"}]},
        "files": {"dir": str(tmp_path / "files")}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=sqlite_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    mono = Mono()
    assert settings.wecom is not None
    channel = WeComChannel(settings.wecom, factory=runtime.factory, now=clock.now, clock=mono,
                           blobs=runtime.blobs)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, channel, clock, mono)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


async def test_a_workbook_goes_after_the_text_as_app_media(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("ledger:1", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    assert rig.sent() == [("app", "principal", "text"), ("app", "principal", "file")]
    [media] = rig.fake.media
    # The name people see is the UTF-8 name, not a percent-encoded one.
    assert (media.kind, media.name, media.data) == ("file", WORKBOOK, XLSX_BYTES)
    assert rig.fake.sent[1].content == media.media_id
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_a_chart_goes_as_an_image_message(rig: Rig) -> None:
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="周报.png", kind="image")
    await rig.queue("digest:1", attachments=as_rows(chart))
    await rig.runtime.delivery.drain()
    [media] = rig.fake.media
    assert media.kind == "image"
    assert [(s.msgtype, s.content) for s in rig.fake.sent] == [
        ("text", TEXT), ("image", media.media_id)]


async def test_a_reply_with_files_in_a_single_chat_goes_by_the_app(rig: Rig) -> None:
    await save(rig.runtime, robot_text("m-1", rig.fake.response_url(), chattype="single",
                                       content="导出本月台账"))
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await answer(rig.runtime, rig.channel, "m-1", TEXT, attachments=(workbook,))
    await rig.runtime.delivery.drain()
    # The response_url takes markdown only: text and file both reach the person by the app.
    assert rig.sent() == [("app", "u1", "text"), ("app", "u1", "file")]
    assert rig.fake.used_responses == set()


@pytest.mark.parametrize(("size", "kind", "reason"), [
    (20 * MB + 1, "file", "too large for wecom (20.0 MB, at most 20.0 MB)"),
    (10 * MB + 1, "image", "too large for wecom (10.0 MB, at most 10.0 MB)"),
    (5, "file", "empty or too small for wecom (5 bytes, at least 6)"),
])
async def test_a_file_wecom_would_refuse_fails_for_good_before_any_upload(
        rig: Rig, size: int, kind: str, reason: str) -> None:
    big = attach(rig.runtime.blobs, b"x" * size, kind=kind)
    await rig.queue("ledger:big", attachments=as_rows(big))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and reason in row.error and WORKBOOK in row.error
    assert rig.fake.upload_calls == 0 and rig.sent() == [("app", "principal", "text")]


async def test_the_fake_refuses_what_wecom_refuses(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake's own limits (a second line behind the channel's): errcode 40006, permanent."""
    tiny = attach(rig.runtime.blobs, b"abcde")
    monkeypatch.setattr(wecom_channel, "UPLOAD_LIMITS",
                        dataclasses.replace(wecom_channel.UPLOAD_LIMITS, min_bytes=1))
    await rig.queue("ledger:tiny", "", attachments=as_rows(tiny))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and "40006" in row.error and rig.fake.media == []


async def test_an_upload_server_error_is_retried_without_resending_the_text(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.fake.upload_faults = [502]
    await rig.queue("ledger:2", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, (row.extra or {}).get("progress")) == ("pending", 1)
    assert rig.sent() == [("app", "principal", "text")]
    await rig.later()
    assert rig.sent() == [("app", "principal", "text"), ("app", "principal", "file")]
    # Two message/send calls in all: the text was not sent again.
    assert (rig.fake.calls, rig.fake.upload_calls) == (2, 2)
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_long_text_parts_and_attachments_count_as_one_progress(rig: Rig) -> None:
    text = "甲" * 1000 + "乙" * 1000  # 6000 bytes: three parts
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="图.png", kind="image")
    rig.fake.faults = [0, 0, 0, 45009]  # the image message meets a busy WeCom
    original = rig.fake._fault

    def busy_on_fourth() -> dict[str, Any] | None:
        rig.fake.calls += 1
        code = rig.fake.faults.pop(0) if rig.fake.faults else 0
        return {"errcode": code, "errmsg": "busy"} if code else None

    rig.fake._fault = busy_on_fourth  # type: ignore[method-assign]
    await rig.queue("digest:long", text, attachments=as_rows(chart))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, (row.extra or {}).get("progress")) == ("pending", 3)
    rig.fake._fault = original  # type: ignore[method-assign]
    await rig.later(60)
    assert [s.msgtype for s in rig.fake.sent] == ["text", "text", "text", "image"]
    assert "".join(rig.fake.texts()) == text


async def test_a_busy_file_message_is_retried_without_uploading_again(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.fake.faults = [45009]
    await rig.queue("ledger:busy", "", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    assert (rig.fake.upload_calls, rig.fake.sent) == (1, [])
    await rig.later(60)
    assert rig.sent() == [("app", "principal", "file")] and rig.fake.upload_calls == 1


async def test_an_invalid_token_during_an_upload_is_refreshed_once(rig: Rig) -> None:
    await rig.queue("hello", "你好")
    await rig.runtime.delivery.drain()
    rig.fake.revoke_tokens()
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="图.png", kind="image")
    await rig.queue("chart-only", "", attachments=as_rows(chart))
    await rig.runtime.delivery.drain()
    assert (rig.fake.token_requests, rig.fake.upload_calls) == (2, 2)
    assert rig.sent() == [("app", "principal", "text"), ("app", "principal", "image")]
    assert [r.status for r in await rig.rows()] == ["sent", "sent"]


async def test_a_group_never_receives_the_files(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("oops", target_kind="chat", target=GROUP, attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    assert rig.sent() == [("webhook", "hook-key", "text")]
    assert rig.fake.upload_calls == 0


async def test_progress_survives_a_restart_of_the_channel(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.fake.upload_faults = [502]
    await rig.queue("ledger:restart", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    await rig.channel.close()
    assert rig.runtime.settings.wecom is not None
    fresh = WeComChannel(rig.runtime.settings.wecom, factory=rig.runtime.factory,
                         now=rig.clock.now, clock=rig.mono, blobs=rig.runtime.blobs)
    rig.runtime.add_channel(fresh)
    rig.channel = fresh
    await rig.later()
    assert rig.sent() == [("app", "principal", "text"), ("app", "principal", "file")]
