"""Every kind of message WeCom delivers, as its documentation shows them (智能机器人 → 接收消息,
自建应用 → 接收消息与事件), through the normalisers; the app callback's verification
(entity declarations, signatures); markdown escaping and the response_url's size limit."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.wecom.app_message import (
    APP_IMAGE,
    app_payload,
    normalise_app,
    verify_app_message,
    verify_app_url,
)
from bot.channels.wecom.markdown import RESPONSE_MARKDOWN_LIMIT, fit_markdown, md_escape
from bot.channels.wecom.normalise import inbox_payload, normalise
from bot.channels.wecom.verify import Echo, Refused, Verified
from bot.config import WeComSettings
from handlers.clock import SHANGHAI
from handlers.messages import IncomingMessage
from tests.fakes.wecom_signing import (
    ENCODING_AES_KEY,
    app_callback,
    app_text_xml,
    app_url_check,
    encrypt,
    signed_query,
)

NOW = 1_800_000_000
APP = WeComSettings(corp_id="ww_corp", app_token="app-tok",
                    app_encoding_aes_key=ENCODING_AES_KEY, timestamp_window_s=300)


def robot(message: dict[str, Any]) -> IncomingMessage | None:
    return normalise(inbox_payload(message, timestamp=NOW), robot_name="RobotA", tz=SHANGHAI)


def app(xml: str) -> IncomingMessage | None:
    return normalise_app(app_payload(xml, timestamp=NOW), tz=SHANGHAI)


# --- the intelligent robot's JSON (the documented examples) ----------------------------------

BASE = {"msgid": "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=", "aibotid": "AIBOTID",
        "from": {"userid": "USERID"}, "response_url": "RESPONSEURL"}


def test_a_group_text_with_a_quote_parses_its_own_words_only() -> None:
    msg = robot({**BASE, "chatid": "CHATID", "chattype": "group", "msgtype": "text",
                 "text": {"content": "@RobotA hello robot"},
                 "quote": {"msgtype": "text", "text": {"content": "这是今日的测试情况"}}})
    assert msg is not None
    assert (msg.chat_id, msg.chat_type, msg.sender_id, msg.text, msg.addressed) == (
        "CHATID", "group", "USERID", "hello robot", True)


def test_a_voice_message_is_its_transcription() -> None:
    msg = robot({**BASE, "chattype": "single", "msgtype": "voice",
                 "voice": {"content": "今天上午 集体备课 9人参加"}})
    assert msg is not None
    assert (msg.chat_type, msg.chat_id, msg.text) == ("p2p", "USERID", "今天上午 集体备课 9人参加")


def test_image_and_mixed_carry_their_pictures() -> None:
    image = robot({**BASE, "chattype": "single", "msgtype": "image",
                   "image": {"url": "https://ww-aibot-img.example/URL"}})
    assert image is not None and [r.ref for r in image.images] == [
        "https://ww-aibot-img.example/URL"]
    mixed = robot({**BASE, "chatid": "CHATID", "chattype": "group", "msgtype": "mixed",
                   "mixed": {"msg_item": [
                       {"msgtype": "text", "text": {"content": "@RobotA 这是今日的测试情况"}},
                       {"msgtype": "image", "image": {"url": "https://img/1"}}]}})
    assert mixed is not None and (mixed.text, len(mixed.images)) == ("这是今日的测试情况", 1)


@pytest.mark.parametrize("kind", ["file", "video"])
def test_a_file_or_video_alone_is_an_empty_message_that_gets_a_hint(kind: str) -> None:
    msg = robot({**BASE, "chattype": "single", "msgtype": kind, kind: {"url": "URL"}})
    assert msg is not None and (msg.text, msg.images) == ("", ())


@pytest.mark.parametrize("message", [
    {**BASE, "chattype": "single", "msgtype": "event", "create_time": 1700000000,
     "event": {"eventtype": "enter_chat"}},
    {**BASE, "chattype": "single", "msgtype": "stream", "stream": {"id": "STREAMID"}},
])
def test_events_and_stream_refreshes_are_not_answered(message: dict[str, Any]) -> None:
    assert robot(message) is None


# --- the self-built app's XML (the documented examples) --------------------------------------

HEAD = ("<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
        "<FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1348831860</CreateTime>")


def test_an_app_text_is_a_private_message_from_the_userid() -> None:
    msg = app(HEAD + "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]>"
              "</Content><MsgId>1234567890123456</MsgId><AgentID>1</AgentID></xml>")
    assert msg is not None
    assert (msg.platform, msg.chat_id, msg.chat_type, msg.sender_id, msg.text,
            msg.message_id, msg.app_id) == (
        "wecom", "fromUser", "p2p", "fromUser", "this is a test", "app:1234567890123456", "1")
    assert msg.received_at.timestamp() == 1348831860


def test_an_app_picture_is_a_plain_link() -> None:
    msg = app(HEAD + "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://wework."
              "qpic.cn/pic]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>"
              "<MsgId>1234567890123456</MsgId><AgentID>1</AgentID></xml>")
    assert msg is not None and [r.ref for r in msg.images] == [
        APP_IMAGE + "https://wework.qpic.cn/pic"]


@pytest.mark.parametrize("body", [
    "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId>"
    "<Format><![CDATA[amr]]></Format>",
    "<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[media_id]]></MediaId>"
    "<ThumbMediaId><![CDATA[thumb]]></ThumbMediaId>",
    "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>"
    "<Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label>",
    "<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[this is a title!]]></Title>"
    "<Description><![CDATA[this is a description!]]></Description>"
    "<Url><![CDATA[URL]]></Url><PicUrl><![CDATA[PIC_URL]]></PicUrl>",
])
def test_app_messages_without_words_are_empty(body: str) -> None:
    msg = app(HEAD + body + "<MsgId>1234567890123456</MsgId><AgentID>1</AgentID></xml>")
    assert msg is not None and (msg.text, msg.images) == ("", ())


def test_an_app_voice_with_wecoms_recognition_is_its_text() -> None:
    msg = app(HEAD + "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m]]></MediaId>"
              "<Format><![CDATA[amr]]></Format><Recognition><![CDATA[已开展]]></Recognition>"
              "<MsgId>1</MsgId><AgentID>1</AgentID></xml>")
    assert msg is not None and msg.text == "已开展"


def test_app_events_are_not_answered() -> None:
    enter = ("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]>"
             "</FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]>"
             "</MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>"
             "<AgentID>1</AgentID></xml>")
    assert app(enter) is None


# --- the app callback's verification ----------------------------------------------------------


def test_app_url_check_uses_the_corp_id_as_receive_id() -> None:
    assert verify_app_url(APP, app_url_check("app-tok", "echo", timestamp=NOW),
                          now=NOW) == Echo("echo")
    echostr = encrypt(b"echo", ENCODING_AES_KEY)  # the robot's empty ReceiveId
    robot_style = {**signed_query("app-tok", echostr, timestamp=NOW), "echostr": echostr}
    assert isinstance(verify_app_url(APP, robot_style, now=NOW), Refused)


def test_app_message_is_verified_and_keyed_on_msgid() -> None:
    xml = app_text_xml("签到", userid="zhangli", msgid="777", created=NOW)
    query, body = app_callback(xml, token="app-tok", timestamp=NOW)
    outcome = verify_app_message(APP, query, body, now=NOW + 5)
    assert isinstance(outcome, Verified)
    assert (outcome.msgid, outcome.message["xml"], outcome.timestamp) == ("app:777", xml, NOW)


def test_app_events_are_keyed_on_sender_and_time() -> None:
    xml = ("<xml><ToUserName><![CDATA[ww_corp]]></ToUserName><FromUserName><![CDATA[u1]]>"
           "</FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]>"
           "</MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>1</AgentID></xml>")
    query, body = app_callback(xml, token="app-tok", timestamp=NOW)
    outcome = verify_app_message(APP, query, body, now=NOW)
    assert isinstance(outcome, Verified)
    assert outcome.msgid == "app:ev:u1:1408091189:enter_agent"


ENTITY_XML = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "签到">]>'
              "<xml><ToUserName>ww_corp</ToUserName><FromUserName>u1</FromUserName>"
              "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&a;</Content>"
              "<MsgId>9</MsgId></xml>")


def test_entity_declarations_are_refused_outside_and_inside() -> None:
    query, body = app_callback("<xml/>", token="app-tok", timestamp=NOW)
    outer = body.replace(b"<xml>", b'<!DOCTYPE xml [<!ENTITY e "x">]><xml>', 1)
    refused = verify_app_message(APP, query, outer, now=NOW)
    assert isinstance(refused, Refused) and (refused.status, "entity" in refused.reason) == (
        400, True)
    query, body = app_callback(ENTITY_XML, token="app-tok", timestamp=NOW)
    refused = verify_app_message(APP, query, body, now=NOW)
    assert isinstance(refused, Refused) and "entity" in refused.reason


def test_app_refusals() -> None:
    xml = app_text_xml("签到", userid="u1", msgid="1", created=NOW)
    query, body = app_callback(xml, token="app-tok", timestamp=NOW)
    forged = verify_app_message(APP, {**query, "msg_signature": "0" * 40}, body, now=NOW)
    assert isinstance(forged, Refused) and forged.status == 401
    stale = verify_app_message(APP, query, body, now=NOW + 301)
    assert isinstance(stale, Refused) and stale.status == 401
    other_corp = app_callback(xml, token="app-tok", corp_id="ww_other", timestamp=NOW)
    refused = verify_app_message(APP, *other_corp, now=NOW)
    assert isinstance(refused, Refused) and refused.status == 400
    not_a_message = app_callback("<xml><A>1</A></xml>", token="app-tok", timestamp=NOW)
    assert isinstance(verify_app_message(APP, *not_a_message, now=NOW), Refused)
    assert isinstance(verify_app_message(APP, query, b"not xml", now=NOW), Refused)


# --- markdown for the response_url ------------------------------------------------------------


def test_md_escape_keeps_a_report_as_written() -> None:
    report = ("本周汇总\n- 县实小 3次\n1. 集体备课\n# 2号议题\n> 转述\n| 学校 | 次数 |\n"
              "`代码` *重点* [链接](https://x) <@zhangli> 3.5小时")
    assert md_escape(report).split("\n") == [
        "本周汇总", "\\- 县实小 3次", "1\\. 集体备课", "\\# 2号议题", "\\> 转述",
        "\\| 学校 \\| 次数 \\|",
        "\\`代码\\` \\*重点\\* \\[链接\\](https://x) \\<@zhangli\\> 3.5小时"]
    assert md_escape("张丽签到成功 ✓ 08:55") == "张丽签到成功 ✓ 08:55"


def test_fit_markdown_stays_within_20480_bytes_without_cutting_an_escape() -> None:
    lines = [f"- 第{n}行 " + "教研" * 20 for n in range(400)]
    fitted = fit_markdown("\n".join(lines))
    assert len(fitted.encode()) <= RESPONSE_MARKDOWN_LIMIT and fitted.endswith("…")
    assert fitted.startswith("\\- 第0行") and len(fitted.encode()) > 20000
    one_line = fit_markdown("*" * 20000)
    assert len(one_line.encode()) <= RESPONSE_MARKDOWN_LIMIT
    assert one_line.removesuffix("…").endswith("\\*")
    short = "四千多字节的周报 " * 300
    assert len(short.encode()) > 4096 and fit_markdown(short) == short
