"""Parser speed: cold start, peak memory, throughput and latency, beside plain jieba.

Usage: python bench/parse.py [--rounds N] [--starts N]. The corpus is the shared dev sets
(/work/shared/nlu/dev.jsonl and dev_more.jsonl, or $JL_DEV_SET) when present, plus the
built-in messages. Cold start and peak memory are those of `jiaolian parse --demo MESSAGE`
run as a fresh process (`python -m bot.cli`, the median of --starts runs; peak RSS from
wait4). Targets (issue 13): cold start ≤ 0.6 s, peak RSS ≤ 70 MiB, ≥ 8,000 messages/s, and
parsing ≤ 2.5x the cost of `jieba.lcut` (jieba's default dictionary, HMM on) on the same
messages.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.parse_command import run_batch  # noqa: E402
from handlers.nlu.parser import Parser  # noqa: E402
from storage.demo_county import demo_schools  # noqa: E402

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DEV_SETS = [Path(p) for p in os.environ.get(
    "JL_DEV_SET", "/work/shared/nlu/dev.jsonl:/work/shared/nlu/dev_more.jsonl").split(":")]
COLD_MESSAGE = "昨天下午在泗顶镇中心小学开展了三年级数学集体备课，12人参加"
BUILT_IN = [
    "签到", "@教联助手 签到 数学集体备课", "签退", "明天的培训我请假", "撤回上一条", "帮助",
    "本月集体备课开展几次了？", "我是沙子乡中心小学的王芳，教数学", "好的收到", "辛苦了👍",
    "今天上午在泗顶镇中心小学参加了三年级数学集体备课，主题是《分数的初步认识》，共12人参加。",
    "下周三下午两点在桥板乡中心小学开展英语集体备课，请各位老师准时参加",
    "上周一至周三在县实小参加了赛课活动,我上了一节数学课", "周一 集备 语文 6人",
    "昨天晚上7点组织了网络教研，主题是新课标解读，参加者32人", "１１月２０日开展了听评课",
    "本周四下午3点将在沙子小学举行五年级语文公开课", "今天入户家访5户", "哈哈哈",
    "28号开展了家长学校授课,家庭教育讲座,到会家长60人", "这学期我参加了哪些活动",
    "今天上午在桥板中心校听了3节课", "原定明天的集体备课改到下周三下午三点",
    "28号到泗顶中心小学开展管理视导，查看了教学常规", "请各位老师周一带好听课本",
    "前天晚上8点网络教研 主题“双减下的作业设计” 线上参与56人", "这个表我改了几次了😂",
]


def corpus() -> list[str]:
    texts: list[str] = []
    for path in DEV_SETS:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts + BUILT_IN


def cold_start(runs: int) -> tuple[float, float]:
    """Median seconds and largest peak RSS (MiB) of `jiaolian parse --demo MESSAGE`, each a
    fresh process from interpreter start to exit."""
    seconds: list[float] = []
    peak = 0.0
    command = [sys.executable, "-m", "bot.cli", "parse", "--demo", COLD_MESSAGE]
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds.append(time.perf_counter() - started)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"jiaolian parse failed: {child.returncode}")
        peak = max(peak, usage.ru_maxrss / 1024)
    return statistics.median(seconds), peak


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def best_rate(count: int, rounds: list[float]) -> float:
    """Messages per second of the fastest round: the machine is shared, and a round slowed
    by someone else's work says nothing about the parser (timeit's rule)."""
    return count / min(rounds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--starts", type=int, default=7, help="cold starts to take the median of")
    args = ap.parse_args()
    cold, cold_rss = cold_start(args.starts)
    texts = corpus()
    parser = Parser(schools=demo_schools(), settings={})
    import jieba

    jieba.setLogLevel(40)
    with tempfile.TemporaryDirectory() as tmp:
        jieba.dt.tmp_dir = tmp
        jieba.initialize()
    lines = "".join(text.replace("\n", " ") + "\n" for text in texts)
    for text in texts:
        parser.parse(text, NOW)
        jieba.lcut(text)
    # jieba's full dictionary, loaded here only for the comparison, is millions of objects
    # that every full collection would walk; the parser's own process never holds them.
    gc.collect()
    gc.freeze()

    latencies: list[float] = []
    parse_s, batch_s, lcut_s, own_s = [], [], [], []
    # Interleaved, so that a busy spell slows all four alike.
    for _ in range(args.rounds):
        started = time.perf_counter()
        for text in texts:
            t0 = time.perf_counter()
            parser.parse(text, NOW)
            latencies.append(time.perf_counter() - t0)
        parse_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_batch(parser, NOW, io.StringIO(lines), io.StringIO())
        batch_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            jieba.lcut(text)
        lcut_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            parser.tokenizer.tokens(text)
        own_s.append(time.perf_counter() - started)
    n = len(texts)
    parse_rate, batch_rate = best_rate(n, parse_s), best_rate(n, batch_s)
    lcut_rate, own_rate = best_rate(n, lcut_s), best_rate(n, own_s)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    checks = [
        ("cold start", f"{cold:.2f} s (jiaolian parse --demo MESSAGE, median of {args.starts})",
         cold <= 0.6),
        ("peak memory", f"{cold_rss:.0f} MiB (same process, ru_maxrss)", cold_rss <= 70),
        ("throughput", f"{parse_rate:,.0f} messages/s (Parser.parse, fastest round)",
         parse_rate >= 8000),
        ("batch", f"{batch_rate:,.0f} messages/s (run_batch, JSON lines out)", True),
        ("latency p50", f"{p50:.3f} ms", True),
        ("latency p99", f"{p99:.3f} ms", p99 < 2.0),
        ("jieba.lcut", f"{lcut_rate:,.0f} messages/s (default dictionary, HMM on)", True),
        ("parser / lcut", f"{lcut_rate / parse_rate:.2f}x the cost of jieba.lcut",
         lcut_rate / parse_rate <= 2.5),
        ("own tokenizer", f"{own_rate:,.0f} messages/s (our dictionary, HMM off); parser "
         f"{own_rate / parse_rate:.1f}x its cost", True),
        ("bench memory", f"{rss:.0f} MiB (this process, jieba's full dictionary loaded)", True),
    ]
    print(f"corpus: {len(texts)} messages x {args.rounds} rounds")
    for name, figure, ok in checks:
        print(f"  {name:14s} {figure:62s} {'ok' if ok else 'MISSED'}")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
