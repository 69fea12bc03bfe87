"""`from_school`: the school that sends people (支教, 跟岗, 送教), so rotation is counted for
the sender however the message is worded and whoever reports it (spec/conversation.md)."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.clock import SHANGHAI
from handlers.nlu import Parser

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "school", "sender"), [
    ("县实小派出6名骨干教师到泗顶支教", "泗顶镇中心小学", "融安县实验小学"),
    ("县实小选派3名教师到泗顶小学送教下乡", "泗顶镇中心小学", "融安县实验小学"),
    ("二实小先后派出4名老师到桥板小学轮岗", "桥板乡中心小学", "融安县第二实验小学"),
    ("泗顶小学3名教师到县实小跟岗学习", "融安县实验小学", "泗顶镇中心小学"),
    ("泗顶小学的3位老师本周在县实小跟岗学习", "融安县实验小学", "泗顶镇中心小学"),
    ("从泗顶小学来的两位老师今天在县实小跟岗", "融安县实验小学", "泗顶镇中心小学"),
    # No sender named: the reporter's school counts (handlers.ledger.exchange).
    ("今天到沙子小学驻教", "沙子乡中心小学", None),
    ("今天在泗顶中心校开展了数学集体备课，12人参加", "泗顶镇中心小学", None),
    # Two schools taking part, no venue: nobody is sent.
    ("县实小和泗顶小学20名老师参加了集体备课", None, None),
])
def test_the_sending_school(demo_parser: Parser, text: str, school: str | None,
                            sender: str | None) -> None:
    parsed = demo_parser.parse(text, NOW)
    assert parsed.intent == "report"
    assert (parsed.school, parsed.from_school) == (school, sender)


def test_only_reports_and_plans_name_a_sender(demo_parser: Parser) -> None:
    assert demo_parser.parse("县实小派出6名骨干教师到泗顶支教了吗？", NOW).from_school is None
    plan = demo_parser.parse("下周一县实小派出6名骨干教师到泗顶支教", NOW)
    assert (plan.intent, plan.from_school) == ("plan", "融安县实验小学")
