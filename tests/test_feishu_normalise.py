"""Stored Feishu payloads → IncomingMessage: texts, posts, mentions, bot added, buttons."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.feishu.normalise import BotIdentity, normalise
from tests.fakes.feishu_signing import bot_added_event, card_action_event, text_event

TZ = ZoneInfo("Asia/Shanghai")
BOT = {"id": {"open_id": "ou_bot"}, "key": "@_user_1", "name": "教联助手"}
PEER = {"id": {"open_id": "ou_li"}, "key": "@_user_2", "name": "李娜"}


def stored(event: dict[str, Any]) -> dict[str, Any]:
    return {"app_id": "cli_a", "via": "webhook", "event": event}


def norm(event: dict[str, Any], bot: BotIdentity | None = None):  # type: ignore[no-untyped-def]
    return normalise(stored(event), {"cli_a": bot or BotIdentity(open_id="ou_bot")}, TZ)


def test_text_message_with_bot_mention_stripped_and_others_kept() -> None:
    event = text_event("@_user_1 今天和 @_user_2 一起签到", app_id="cli_a", token="t",
                       open_id="ou_zhang", chat_id="oc_1", mentions=[BOT, PEER],
                       message_id="om_1")
    msg = norm(event)
    assert msg is not None
    assert (msg.text, msg.sender_id, msg.chat_id, msg.chat_type, msg.message_id, msg.app_id,
            msg.kind) == ("今天和 @李娜 一起签到", "ou_zhang", "oc_1", "group", "om_1", "cli_a",
                          "message")
    assert msg.received_at.tzinfo is not None


def test_without_bot_open_id_the_bot_is_found_by_name_then_by_leading_mention() -> None:
    named = text_event("请 @_user_2 和 @_user_1 看看", app_id="cli_a", token="t",
                       mentions=[BOT, PEER])
    msg = norm(named, BotIdentity(name="教联助手"))
    assert msg is not None and msg.text == "请 @李娜 和 看看"
    other_name = {**BOT, "name": "助手"}
    leading = text_event("@_user_1 签到 @_user_2", app_id="cli_a", token="t",
                         mentions=[other_name, PEER])
    msg = norm(leading, BotIdentity(name="教联助手"))
    assert msg is not None and msg.text == "签到 @李娜"


def test_p2p_chat_type() -> None:
    msg = norm(text_event("帮助", app_id="cli_a", token="t", chat_type="p2p"))
    assert msg is not None and msg.chat_type == "p2p"


def test_post_message_concatenates_text_elements() -> None:
    event = text_event("", app_id="cli_a", token="t", mentions=[BOT])
    message = event["event"]["message"]
    message["message_type"] = "post"
    message["content"] = json.dumps({"title": "汇报", "content": [
        [{"tag": "at", "user_id": "@_user_1", "user_name": "教联助手"},
         {"tag": "text", "text": " 今天开展了"}, {"tag": "text", "text": "集体备课"}],
        [{"tag": "img", "image_key": "x"}, {"tag": "text", "text": "12人参加"}],
    ]})
    msg = norm(event)
    assert msg is not None and msg.text == "汇报 今天开展了集体备课 12人参加"


def test_messages_from_bots_and_other_types_are_ignored() -> None:
    from_bot = text_event("hi", app_id="cli_a", token="t")
    from_bot["event"]["sender"]["sender_type"] = "app"
    assert norm(from_bot) is None
    image = text_event("", app_id="cli_a", token="t")
    image["event"]["message"]["message_type"] = "image"
    assert norm(image) is None
    other = text_event("x", app_id="cli_a", token="t")
    other["header"]["event_type"] = "im.message.message_read_v1"
    assert norm(other) is None


def test_bot_added() -> None:
    msg = norm(bot_added_event(app_id="cli_a", token="t", chat_id="oc_9", open_id="ou_adm"))
    assert msg is not None
    assert (msg.kind, msg.chat_id, msg.sender_id, msg.message_id) == (
        "bot_added", "oc_9", "ou_adm", "")


def test_card_button_is_an_undo_action() -> None:
    event = card_action_event({"intent": "undo", "undo": "activity:12"}, app_id="cli_a",
                              token="t", open_id="ou_zhang", message_id="om_card")
    msg = norm(event)
    assert msg is not None
    assert (msg.kind, msg.action, msg.message_id, msg.sender_id) == (
        "action", {"intent": "undo", "undo": "activity:12"}, "om_card", "ou_zhang")
    foreign = card_action_event({"intent": "vote"}, app_id="cli_a", token="t",
                                open_id="ou_zhang", message_id="om_card")
    assert norm(foreign) is None
