"""Files out, the parts without a platform: the worker lets attachments through only to one
person (and logs and drops them for a chat), and the console copies them out and says so."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.worker import outbox_message
from handlers.clock import SHANGHAI
from handlers.messages import IncomingMessage, Reply, Target
from storage.blobs import BlobStore
from storage.models import InboxEvent, OutboxMessage
from tests.files_support import PNG_BYTES, WORKBOOK, XLSX_BYTES, as_rows, attach

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


def incoming(chat_type: str) -> IncomingMessage:
    return IncomingMessage(platform="feishu", chat_id="oc_1", chat_type=chat_type,
                           sender_id="ou_z", text="导出本月台账", message_id="om_1",
                           received_at=NOW)


EVENT = InboxEvent(id=1, platform="feishu", event_id="ev1", payload={}, received_at=NOW)


def test_attachments_to_a_person_ride_on_the_outbox_row(tmp_path: Path) -> None:
    workbook = attach(BlobStore(tmp_path), XLSX_BYTES)
    reply = Reply("台账已私信发给您", target=Target("user", "ou_z", "张丽"),
                  attachments=(workbook,))
    row = outbox_message(EVENT, incoming("group"), reply, 0)
    assert (row.target_kind, row.target, row.attachments) == ("user", "ou_z", as_rows(workbook))


def test_attachments_answered_in_a_private_chat_stay(tmp_path: Path) -> None:
    workbook = attach(BlobStore(tmp_path), XLSX_BYTES)
    row = outbox_message(EVENT, incoming("p2p"), Reply("台账", attachments=(workbook,)), 0)
    assert (row.target_kind, row.reply_to, row.attachments) == (
        "chat", "om_1", as_rows(workbook))


@pytest.mark.parametrize("target", [None, Target("chat", "oc_other", "另一个群")])
def test_attachments_for_a_group_are_logged_and_dropped(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, target: Target | None) -> None:
    workbook = attach(BlobStore(tmp_path), XLSX_BYTES)
    reply = Reply("已导出", target=target, attachments=(workbook,))
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        row = outbox_message(EVENT, incoming("group"), reply, 0)
    assert row.attachments is None and row.text == "已导出"
    assert "attachment" in caplog.text and "dropped" in caplog.text


def test_a_reply_without_attachments_has_none(tmp_path: Path) -> None:
    assert outbox_message(EVENT, incoming("p2p"), Reply("好的"), 0).attachments is None


def console_row(attachments: list[dict[str, object]], text: str = "台账已生成") -> OutboxMessage:
    return OutboxMessage(key="k", platform="console", target_kind="user", target="张丽",
                         text=text, extra={"to_name": "张丽"}, attachments=attachments)


async def test_the_console_copies_files_out_and_says_where(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "files")
    out = io.StringIO()
    channel = ConsoleChannel(out, blobs=blobs, files_out=tmp_path / "outbox-files")
    workbook = attach(blobs, XLSX_BYTES)
    chart = attach(blobs, PNG_BYTES, name="../周报.png", kind="image")
    assert (await channel.send(console_row(as_rows(workbook, chart)))).ok
    saved = tmp_path / "outbox-files" / WORKBOOK
    assert saved.read_bytes() == XLSX_BYTES
    assert (tmp_path / "outbox-files" / "周报.png").read_bytes() == PNG_BYTES
    lines = out.getvalue().splitlines()
    assert lines[0] == "< 教联助手 → 张丽（私聊）: 台账已生成"
    assert lines[1] == f"< 教联助手 → 张丽（私聊）: 📎 已发送文件：{WORKBOOK}（{saved}）"
    assert lines[2].endswith("🖼 已发送图片：周报.png（"
                             + str(tmp_path / "outbox-files" / "周报.png") + "）")


async def test_the_console_fails_a_missing_blob_with_the_reason(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "files")
    channel = ConsoleChannel(io.StringIO(), blobs=blobs, files_out=tmp_path / "out")
    gone = attach(blobs, XLSX_BYTES)
    blobs.path(gone.sha256).unlink()
    result = await channel.send(console_row(as_rows(gone)))
    assert result.permanent and "not in the file store" in result.error
    assert not (tmp_path / "out" / WORKBOOK).exists()
