"""The pure parts of photo evidence: pictures found in platform messages (normalise), the
robot's encrypted files, and the one-answer-per-burst outbox row."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.feishu.normalise import BotIdentity
from bot.channels.feishu.normalise import normalise as feishu_normalise
from bot.channels.wecom.crypto import DecryptError, decrypt_file
from bot.channels.wecom.normalise import inbox_payload
from bot.channels.wecom.normalise import normalise as wecom_normalise
from handlers.messages import ImageRef
from storage.db import session_factory, transaction
from storage.models import OutboxMessage
from storage.outbox import NewMessage, claim_due, enqueue_burst
from tests.fakes.feishu_signing import image_event, post_event
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    encrypt_file,
    image_message,
    mixed_message,
    text_message,
)

TZ = ZoneInfo("Asia/Shanghai")
BOT = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}
OTHER_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg"


def feishu(event: dict[str, Any]):  # type: ignore[no-untyped-def]
    return feishu_normalise({"app_id": "cli_a", "via": "webhook", "event": event},
                            {"cli_a": BotIdentity(open_id="ou_bot")}, TZ)


def wecom(message: dict[str, Any]):  # type: ignore[no-untyped-def]
    return wecom_normalise(inbox_payload(message, timestamp=1_764_000_000),
                           robot_name="教联助手", tz=TZ)


def test_a_feishu_picture_is_a_message_without_words_with_one_image() -> None:
    msg = feishu(image_event("img_v2_1", app_id="cli_a", token="t", message_id="om_1"))
    assert msg is not None
    assert (msg.text, msg.images, msg.addressed) == ("", (ImageRef("om_1/img_v2_1"),), False)


def test_a_feishu_post_has_its_words_as_text_and_its_img_elements_as_images() -> None:
    event = post_event([[{"tag": "at", "user_id": "@_user_1"},
                         {"tag": "text", "text": " 今天开展了集体备课"}],
                        [{"tag": "img", "image_key": "k1"}, {"tag": "img", "image_key": "k2"}]],
                       app_id="cli_a", token="t", message_id="om_2", mentions=[BOT],
                       title="汇报")
    msg = feishu(event)
    assert msg is not None
    assert msg.text == "汇报 今天开展了集体备课"
    assert msg.images == (ImageRef("om_2/k1"), ImageRef("om_2/k2"))
    assert msg.addressed


def test_a_wecom_picture_in_a_single_chat_and_a_mixed_message_in_a_group() -> None:
    single = wecom(image_message("https://x/img?a=1", userid="u1", response_url="r"))
    assert single is not None
    assert (single.text, single.images, single.chat_type) == (
        "", (ImageRef("https://x/img?a=1"),), "p2p")
    mixed = wecom(mixed_message([("text", "@教联助手 今天开展了"), ("image", "https://x/1"),
                                 ("text", "集体备课"), ("image", "https://x/2")],
                                userid="u1", response_url="r"))
    assert mixed is not None
    assert mixed.text == "今天开展了 集体备课"
    assert mixed.images == (ImageRef("https://x/1"), ImageRef("https://x/2"))
    plain = wecom(text_message("@教联助手 签到", userid="u1", response_url="r"))
    assert plain is not None and plain.images == ()


def test_a_robot_file_decrypts_with_its_key_and_not_with_another() -> None:
    data = os.urandom(1000)
    assert decrypt_file(encrypt_file(data), ENCODING_AES_KEY) == data
    assert decrypt_file(encrypt_file(b""), ENCODING_AES_KEY) == b""
    with pytest.raises(DecryptError):
        decrypt_file(encrypt_file(data, OTHER_KEY), ENCODING_AES_KEY)
    with pytest.raises(DecryptError):
        decrypt_file(b"short", ENCODING_AES_KEY)


def answer(text: str, key: str, reply_to: str, until: datetime | None = None) -> NewMessage:
    return NewMessage(key=key, platform="feishu", target_kind="chat", target="oc_1",
                      text=text, reply_to=reply_to, reply_url=f"https://reply/{reply_to}",
                      reply_url_until=until, reply_person=f"p_{reply_to}")


async def test_a_burst_keeps_one_pending_answer_and_a_claimed_one_is_left_alone(
        engine: AsyncEngine) -> None:
    factory = session_factory(engine)
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
    wait = timedelta(seconds=8)
    prefix = "photos:feishu:oc_1:7:"
    async with transaction(factory) as session:
        for n, text in enumerate(["已附照片 1 张", "已附照片 2 张"], 1):
            await enqueue_burst(session=session, prefix=prefix, now=now, due=now + wait,
                                message=answer(text, f"{prefix}ev{n}", f"om_{n}",
                                               now + timedelta(minutes=n)))
    async with transaction(factory) as session:
        assert await claim_due(session=session, now=now + wait - timedelta(seconds=1)) == []
        [row] = await claim_due(session=session, now=now + wait)
    assert (row.key, row.text, row.reply_to) == (f"{prefix}ev1", "已附照片 2 张", "om_2")
    # The ways back to the message are the newer one's too (its own WeCom response_url).
    assert (row.reply_url, row.reply_url_until, row.reply_person) == (
        "https://reply/om_2", now + timedelta(minutes=2), "p_om_2")
    # Delivery has it now: the next picture's answer is a row of its own.
    async with transaction(factory) as session:
        await enqueue_burst(session=session, prefix=prefix, now=now + wait, due=now + 2 * wait,
                            message=answer("已附照片 3 张", f"{prefix}ev3", "om_3"))
    async with factory() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    assert sorted((r.key, r.text) for r in rows) == [
        (f"{prefix}ev1", "已附照片 2 张"), (f"{prefix}ev3", "已附照片 3 张")]
