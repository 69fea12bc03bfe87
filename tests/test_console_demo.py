"""`make demo` as a script: the console chat and `jiaolian records` in a fresh directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = [
    "/time 2026-11-26 10:00",
    "签到",
    "今天上午在泗顶镇中心小学开展了三年级数学集体备课，主题是《分数的初步认识》，12人参加",
    "昨天组织了听评课活动",
    "撤销",
    "本月集体备课开展几次了？",
    "好的收到",
]


def jiaolian(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, input=stdin, text=True,
        capture_output=True, timeout=120, check=False,
    )


def test_demo_script_transcript_and_records(tmp_path: Path) -> None:
    init = jiaolian(tmp_path, "db", "init", "--demo", "--if-missing")
    assert init.returncode == 0, init.stderr
    chat = jiaolian(tmp_path, "chat", "--demo", stdin="\n".join(SCRIPT) + "\n")
    assert chat.returncode == 0, chat.stderr
    lines = chat.stdout.splitlines()
    said = [line for line in lines if line.startswith("> ")]
    answers = [line for line in lines if line.startswith("< ")]
    assert said == [f"> 张丽: {text}" for text in SCRIPT[1:]]
    assert len(answers) == 5  # one per message, none for the chatter
    assert lines[-1] == "> 张丽: 好的收到"
    assert answers[0] == "< 教联助手: 张丽签到成功 ✓ 10:00"
    assert answers[4] == "< 教联助手: 融安县实验小学教共体 本月集体备课 1/2 次，还差 1 次"

    records = jiaolian(tmp_path, "records", "--demo", "--json")
    assert records.returncode == 0, records.stderr
    rows = [json.loads(line) for line in records.stdout.splitlines()]
    [checkin] = [r for r in rows if r["kind"] == "attendance"]
    assert (checkin["member"], checkin["type"], checkin["date"]) == (
        "张丽", "checkin", "2026-11-26")
    [prep] = [r for r in rows if r["kind"] == "activity"]
    assert {k: prep[k] for k in ("member", "activity", "status", "date", "school", "subject",
                                 "grade", "participants", "topic")} == {
        "member": "张丽", "activity": "lesson_prep", "status": "done", "date": "2026-11-26",
        "school": "泗顶镇中心小学", "subject": "数学", "grade": "三年级", "participants": 12,
        "topic": "分数的初步认识"}
    everything = jiaolian(tmp_path, "records", "--demo", "--json", "--all")
    withdrawn = [json.loads(x) for x in everything.stdout.splitlines()]
    assert [r["activity"] for r in withdrawn if r.get("withdrawn")] == ["observation"]


def test_console_commands_switch_speaker_and_chat(tmp_path: Path) -> None:
    script = "/time 2026-11-26 10:00\n/as 李娜\n签到\n/private\n你好\n/as 不存在\n/quit\n签到\n"
    chat = jiaolian(tmp_path, "chat", "--demo", stdin=script)
    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert "> 李娜: 签到" in out and "< 教联助手: 李娜签到成功 ✓ 10:00" in out
    assert "< 教联助手: 😊 有需要随时找我" in out  # a greeting in private gets one line
    assert "名册里没有 不存在" in out
    assert out.count("签到成功") == 1  # nothing after /quit
