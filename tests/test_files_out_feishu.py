"""Files and pictures to a person on Feishu, through the real delivery loop against the fake
open platform: upload then a file/image message after the text, each with its own uuid;
limits and missing blobs fail for good; a failed upload is retried without re-sending the
text; an invalid token during an upload is refreshed once; a scheduled note with a chart."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.feishu import FeishuChannel
from bot.channels.feishu.api import file_type_for
from bot.channels.feishu.channel import attachment_uuid, message_uuid
from bot.config import DatabaseSettings, settings_from_dict
from bot.runtime import Runtime, open_runtime
from handlers.clock import SHANGHAI, FixedClock
from scheduler.queries import GroupRow, Person, Roster
from scheduler.recipients import to_person
from storage.db import transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.app_support import Mono
from tests.fakes.feishu import FakeFeishu, Fault
from tests.files_support import MB, PNG_BYTES, WORKBOOK, XLSX_BYTES, as_rows, attach


@dataclasses.dataclass
class Rig:
    fake: FakeFeishu
    runtime: Runtime
    channel: FeishuChannel
    clock: FixedClock

    async def queue(self, key: str, text: str = "本月台账已生成，请查收", **kw: Any) -> None:
        fields: dict[str, Any] = {"target_kind": "user", "target": "ou_p", **kw}
        msg = NewMessage(key=key, platform="feishu", app_id="cli_test", text=text, **fields)
        await self.enqueue(msg)

    async def enqueue(self, msg: NewMessage) -> None:
        async with transaction(self.runtime.factory) as session:
            await enqueue(session=session, message=msg, now=self.clock.now())

    async def rows(self) -> list[OutboxMessage]:
        async with self.runtime.factory() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            return list((await session.execute(stmt)).scalars())

    async def later(self) -> None:
        self.clock.advance(timedelta(minutes=10))
        await self.runtime.delivery.drain()


@pytest.fixture
async def rig(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    fake = await FakeFeishu().start()
    settings = settings_from_dict({
        "feishu": {"app_id": "cli_test", "app_secret": "secret", "api_base": fake.url},
        "files": {"dir": str(tmp_path / "files")}})
    settings = dataclasses.replace(settings, database=DatabaseSettings(url=sqlite_url))
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    runtime = await open_runtime(settings, clock=clock)
    channel = FeishuChannel(settings.feishu, clock=Mono(), blobs=runtime.blobs)
    runtime.add_channel(channel)
    try:
        yield Rig(fake, runtime, channel, clock)
    finally:
        await channel.close()
        await runtime.close()
        await fake.close()


async def test_a_workbook_goes_after_the_text_as_an_uploaded_file(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("ledger:1", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    text, file = rig.fake.sent
    assert (text.msg_type, text.receive_id_type, text.target) == ("text", "open_id", "ou_p")
    assert (file.msg_type, file.receive_id_type, file.target) == ("file", "open_id", "ou_p")
    [upload] = rig.fake.uploads
    assert (upload.kind, upload.name, upload.file_type, upload.data) == (
        "file", WORKBOOK, "xls", XLSX_BYTES)
    assert file.content == {"file_key": upload.key}
    assert text.uuid == message_uuid("ledger:1")
    assert file.uuid == attachment_uuid("ledger:1", 1) != text.uuid and len(file.uuid) <= 50
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_a_chart_goes_as_an_image_message(rig: Rig) -> None:
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="周报.png", kind="image")
    await rig.queue("digest:1", attachments=as_rows(chart))
    await rig.runtime.delivery.drain()
    [upload] = rig.fake.uploads
    assert (upload.kind, upload.data) == ("image", PNG_BYTES)
    assert [(s.msg_type, s.content) for s in rig.fake.sent] == [
        ("text", {"text": "本月台账已生成，请查收"}), ("image", {"image_key": upload.key})]


async def test_an_answer_in_a_private_chat_replies_with_the_file(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("reply:feishu:e1:0", target_kind="chat", target="oc_p2p",
                    reply_to="om_ask", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    assert [(s.kind, s.target, s.msg_type) for s in rig.fake.sent] == [
        ("reply", "om_ask", "text"), ("reply", "om_ask", "file")]


@pytest.mark.parametrize(("size", "kind", "reason"), [
    (30 * MB + 1, "file", "too large for feishu (30.0 MB, at most 30.0 MB)"),
    (10 * MB + 1, "image", "too large for feishu (10.0 MB, at most 10.0 MB)"),
    (0, "file", "empty or too small for feishu (0 bytes, at least 1)"),
])
async def test_a_file_feishu_would_refuse_fails_for_good_before_any_upload(
        rig: Rig, size: int, kind: str, reason: str) -> None:
    big = attach(rig.runtime.blobs, b"x" * size, kind=kind)
    await rig.queue("ledger:big", attachments=as_rows(big))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and reason in row.error and WORKBOOK in row.error
    assert rig.fake.uploads == [] and rig.fake.upload_calls == 0


async def test_a_missing_blob_fails_for_good_with_the_reason(rig: Rig) -> None:
    gone = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.runtime.blobs.path(gone.sha256).unlink()
    await rig.queue("ledger:gone", attachments=as_rows(gone))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "failed" and "not in the file store" in row.error


async def test_an_upload_server_error_is_retried_without_resending_the_text(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.fake.upload_faults = [Fault(500, 0)]
    await rig.queue("ledger:2", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, row.attempts, (row.extra or {}).get("progress")) == ("pending", 1, 1)
    assert "upload" in row.error and [s.msg_type for s in rig.fake.sent] == ["text"]
    await rig.later()
    assert [s.msg_type for s in rig.fake.sent] == ["text", "file"]
    # Two message calls in all: the text was not sent again, not even to be deduplicated.
    assert (rig.fake.message_calls, rig.fake.upload_calls) == (2, 2)
    assert [r.status for r in await rig.rows()] == ["sent"]


async def test_a_refused_file_message_resumes_at_that_attachment(rig: Rig) -> None:
    first = attach(rig.runtime.blobs, XLSX_BYTES)
    second = attach(rig.runtime.blobs, PNG_BYTES, name="图.png", kind="image")
    # The text and the first file go out; the image message meets a 429.
    original = rig.fake._guard
    calls = 0

    async def third_send_limited(request: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            rig.fake.faults = [Fault(429, 230020, {"x-ogw-ratelimit-reset": "3"})]
        return await original(request)

    rig.fake._guard = third_send_limited  # type: ignore[method-assign]
    await rig.queue("ledger:3", attachments=as_rows(first, second))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert (row.status, (row.extra or {}).get("progress")) == ("pending", 2)
    assert row.next_attempt_at == rig.clock.now() + timedelta(seconds=3)
    await rig.later()
    assert [s.msg_type for s in rig.fake.sent] == ["text", "file", "image"]
    assert calls == 4


async def test_an_upload_rate_limit_honours_the_reset_header(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    rig.fake.upload_faults = [Fault(429, 99991400, {"x-ogw-ratelimit-reset": "5"})]
    await rig.queue("ledger:429", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    assert row.status == "pending" and "rate limited" in row.error
    assert row.next_attempt_at == rig.clock.now() + timedelta(seconds=5)
    rig.clock.advance(timedelta(seconds=5))
    await rig.runtime.delivery.drain()
    assert [s.msg_type for s in rig.fake.sent] == ["text", "file"]


async def test_a_refused_file_message_is_retried_without_uploading_again(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("ledger:5", "", attachments=as_rows(workbook))
    rig.fake.faults = [Fault(503, 0)]
    await rig.runtime.delivery.drain()
    assert (rig.fake.upload_calls, rig.fake.sent) == (1, [])
    await rig.later()
    assert [s.msg_type for s in rig.fake.sent] == ["file"] and rig.fake.upload_calls == 1


async def test_an_invalid_token_during_an_upload_is_refreshed_once(rig: Rig) -> None:
    await rig.queue("hello", "你好")
    await rig.runtime.delivery.drain()
    rig.fake.revoke_tokens()
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="图.png", kind="image")
    await rig.queue("chart-only", "", attachments=as_rows(chart))
    await rig.runtime.delivery.drain()
    assert (rig.fake.token_requests, rig.fake.upload_calls) == (2, 2)
    assert [s.msg_type for s in rig.fake.sent] == ["text", "image"]
    assert [r.status for r in await rig.rows()] == ["sent", "sent"]


async def test_a_resent_row_is_deduplicated_by_each_uuid(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("ledger:4", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    [row] = await rig.rows()
    # As after a crash between the sends and marking the row sent:
    assert (await rig.channel.send(row)).ok
    assert [s.msg_type for s in rig.fake.sent] == ["text", "file"]
    assert rig.fake.message_calls == 4


async def test_a_scheduled_private_note_carries_its_chart_to_the_person(rig: Rig) -> None:
    chart = attach(rig.runtime.blobs, PNG_BYTES, name="周报图表.png", kind="image")
    roster = Roster(groups={7: [GroupRow(1, "feishu", "oc_g", "教共体群", "cli_test")]},
                    identities={3: [("feishu", "ou_principal")]})
    principal = Person(id=3, name="黄校长", role="principal", school_id=1)
    [note] = to_person(roster, principal, key="digest:2026-W48", kind="weekly_digest",
                       text="📊 周报", community_id=7, attachments=[chart])
    assert note.attachments == [chart.as_dict()]
    await rig.enqueue(note)
    await rig.runtime.delivery.drain()
    [upload] = rig.fake.uploads
    assert [(s.receive_id_type, s.target, s.msg_type, s.content) for s in rig.fake.sent] == [
        ("open_id", "ou_principal", "text", {"text": "📊 周报"}),
        ("open_id", "ou_principal", "image", {"image_key": upload.key})]


async def test_a_chat_the_bot_starts_a_message_in_never_receives_the_files(rig: Rig) -> None:
    workbook = attach(rig.runtime.blobs, XLSX_BYTES)
    await rig.queue("oops", target_kind="chat", target="oc_group", attachments=as_rows(workbook))
    await rig.runtime.delivery.drain()
    assert [(s.receive_id_type, s.msg_type) for s in rig.fake.sent] == [("chat_id", "text")]
    assert rig.fake.upload_calls == 0
    assert [r.status for r in await rig.rows()] == ["sent"]


def test_feishu_file_types_by_extension() -> None:
    assert [file_type_for(n) for n in ("a.xlsx", "b.XLS", "c.pdf", "d.docx", "e.csv", "f")] == [
        "xls", "xls", "pdf", "doc", "stream", "stream"]
