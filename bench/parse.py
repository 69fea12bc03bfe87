"""Parser speed: throughput, latency percentiles, cold start and memory, beside plain jieba.

Usage: python bench/parse.py [--rounds N]. The corpus is the shared dev set
(/work/shared/nlu/dev.jsonl, or $JL_DEV_SET) when present, plus the built-in messages.
Targets: ≥2,000 messages/s, p99 < 2 ms, cold start < 1.5 s, ru_maxrss < 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.nlu.parser import Parser  # noqa: E402
from storage.demo_county import demo_schools  # noqa: E402

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DEV_SET = Path(os.environ.get("JL_DEV_SET", "/work/shared/nlu/dev.jsonl"))
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
COLD = """
import time, resource
t0 = time.perf_counter()
from datetime import datetime
from zoneinfo import ZoneInfo
from handlers.nlu.parser import Parser
from storage.demo_county import demo_schools
parser = Parser(schools=demo_schools(), settings={})
parser.parse("今天开展了数学集体备课，十二人参加", datetime.now(ZoneInfo("Asia/Shanghai")))
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def corpus() -> list[str]:
    texts: list[str] = []
    if DEV_SET.is_file():
        for line in DEV_SET.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts + BUILT_IN


def cold_start() -> tuple[float, float]:
    """Seconds from first import to first result, and ru_maxrss (MB), in a fresh process."""
    out = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    texts = corpus()
    parser = Parser(schools=demo_schools(), settings={})
    for text in texts:
        parser.parse(text, NOW)

    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter()
            parser.parse(text, NOW)
            latencies.append(time.perf_counter() - t0)
    parse_rate = len(latencies) / (time.perf_counter() - start)

    tokenizer = parser.tokenizer
    start = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            tokenizer.tokens(text)
    jieba_rate = args.rounds * len(texts) / (time.perf_counter() - start)

    cold, cold_rss = cold_start()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    checks = [
        ("throughput", f"{parse_rate:,.0f} messages/s", parse_rate >= 2000),
        ("latency p50", f"{p50:.3f} ms", True),
        ("latency p99", f"{p99:.3f} ms", p99 < 2.0),
        ("cold start", f"{cold:.2f} s (import + construct + first parse)", cold < 1.5),
        ("memory", f"{cold_rss:.0f} MB fresh, {rss:.0f} MB after bench (ru_maxrss)",
         cold_rss < 150 and rss < 150),
        ("jieba alone", f"{jieba_rate:,.0f} messages/s (Tokenizer.lcut, HMM off)", True),
        ("parser / jieba", f"{jieba_rate / parse_rate:.1f}x the cost of tokenising", True),
    ]
    print(f"corpus: {len(texts)} messages x {args.rounds} rounds")
    for name, figure, ok in checks:
        print(f"  {name:15s} {figure:55s} {'ok' if ok else 'MISSED'}")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
