"""The pure parts of the WeCom channel: WXBizMsgCrypt against the independent helper,
request verification, normalising robot messages, per-minute budgets."""

from __future__ import annotations

import json

import pytest

from bot.channels.limits import SlidingWindow
from bot.channels.wecom.crypto import DecryptError, decrypt, signature_ok
from bot.channels.wecom.normalise import inbox_payload, normalise, strip_robot_mention
from bot.channels.wecom.verify import Echo, Refused, Verified, verify_message, verify_url
from bot.config import WeComSettings
from handlers.clock import SHANGHAI
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    encrypt,
    sign,
    signed_callback,
    text_message,
    url_check,
)

WECOM = WeComSettings(token="tok", encoding_aes_key=ENCODING_AES_KEY, timestamp_window_s=300)


def test_decrypt_reads_what_the_helper_wrote_and_checks_the_receiver() -> None:
    secret = "一条消息".encode() * 20
    assert decrypt(encrypt(secret, ENCODING_AES_KEY), ENCODING_AES_KEY) == secret
    with pytest.raises(DecryptError):
        decrypt(encrypt(secret, ENCODING_AES_KEY, receive_id="ww_corp"), ENCODING_AES_KEY)
    with pytest.raises(DecryptError):
        decrypt(encrypt(secret, ENCODING_AES_KEY), "Z" * 43)
    with pytest.raises(DecryptError):
        decrypt("not base64!", ENCODING_AES_KEY)


def test_signature_is_sha1_of_the_sorted_four() -> None:
    given = sign("tok", "1700000000", "n1", "ENC")
    assert signature_ok("tok", "1700000000", "n1", "ENC", given)
    assert signature_ok("tok", "1700000000", "n1", "ENC", given.upper())
    assert not signature_ok("tok", "1700000001", "n1", "ENC", given)
    assert not signature_ok("tok", "1700000000", "n1", "ENC", "ü" * 40)


def test_verify_url_and_message_windows() -> None:
    now = 1_800_000_000
    assert verify_url(WECOM, url_check("tok", "echo", timestamp=now), now=now) == Echo("echo")
    late = verify_url(WECOM, url_check("tok", "echo", timestamp=now - 301), now=now)
    assert isinstance(late, Refused) and late.status == 401
    msg = text_message("@教联助手 签到", userid="u", response_url="https://x", msgid="m1")
    query, body = signed_callback(msg, token="tok", timestamp=now)
    outcome = verify_message(WECOM, query, body, now=now + 10)
    assert isinstance(outcome, Verified) and (outcome.msgid, outcome.timestamp) == ("m1", now)
    assert verify_message(WECOM, query, body + b" ", now=now) == outcome  # body is JSON
    tampered = json.dumps({"encrypt": encrypt(b'{"msgid": "m2"}', ENCODING_AES_KEY)}).encode()
    assert isinstance(verify_message(WECOM, query, tampered, now=now), Refused)


def test_group_message_loses_the_robot_mention() -> None:
    msg = text_message("@教联助手 今天 集体备课", userid="zhangli", response_url="https://r",
                       chatid="wrk1", msgid="m1")
    incoming = normalise(inbox_payload(msg, timestamp=1_800_000_000), tz=SHANGHAI)
    assert incoming is not None
    assert (incoming.platform, incoming.chat_id, incoming.chat_type, incoming.sender_id,
            incoming.text, incoming.message_id) == (
        "wecom", "wrk1", "group", "zhangli", "今天 集体备课", "m1")
    assert incoming.received_at.timestamp() == 1_800_000_000


def test_single_chat_is_p2p_with_the_person_as_the_chat() -> None:
    msg = text_message("帮助", userid="zhangli", response_url="https://r", chattype="single")
    incoming = normalise(inbox_payload(msg, timestamp=0), tz=SHANGHAI)
    assert incoming is not None
    assert (incoming.chat_type, incoming.chat_id, incoming.text) == ("p2p", "zhangli", "帮助")


def test_other_messages_are_not_answered() -> None:
    image = {"msgid": "m", "chattype": "group", "from": {"userid": "u"}, "msgtype": "image"}
    assert normalise(inbox_payload(image, timestamp=0), tz=SHANGHAI) is None
    nobody = {"msgid": "m", "chattype": "group", "chatid": "c", "msgtype": "text",
              "text": {"content": "hi"}}
    assert normalise(inbox_payload(nobody, timestamp=0), tz=SHANGHAI) is None


def test_strip_robot_mention() -> None:
    assert strip_robot_mention("@教联 助手 签到", "教联 助手") == "签到"
    assert strip_robot_mention("@机器人\u2005签到") == "签到"
    assert strip_robot_mention("签到 @张丽") == "签到 @张丽"
    assert strip_robot_mention("今天集体备课@教联助手 ", "教联助手") == "今天集体备课"


def test_sliding_window_budget_per_minute() -> None:
    t = [0.0]
    budget = SlidingWindow(2, period=60.0, clock=lambda: t[0])
    assert budget.delay("k") == 0
    budget.take("k")
    t[0] = 10
    budget.take("k")
    assert budget.delay("k") == 50 and budget.delay("other") == 0
    assert budget.delay("k", 2) == 60
    t[0] = 60
    assert budget.delay("k") == 0 and budget.delay("k", 2) == 10
