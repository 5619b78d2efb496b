"""Analyser speed, measured in one run against two baselines on the same snippets:

1. per snippet, ``analyze`` time / ``libcst.parse_module`` time (goal <= 1.5);
2. whole corpus, snippets per second of ``analyze`` next to bandit's on the same files (goal >= 1.0x).

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0).

    python benchmarks/analysis.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import libcst

from governed_agents import analyze

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"


def _best(fn, code: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(code)
        best = min(best, time.perf_counter() - start)
    return best


def per_snippet_ratio(codes: list[str], repeat: int) -> tuple[float, float, float]:
    ratios = []
    for code in codes:
        ratios.append(_best(analyze, code, repeat) / _best(libcst.parse_module, code, repeat))
    ratios.sort()
    return statistics.median(ratios), ratios[int(len(ratios) * 0.9)], sum(ratios) / len(ratios)


def throughput(codes: list[str]) -> tuple[float, float]:
    from bandit.core import config as b_config
    from bandit.core import manager as b_manager

    logging.getLogger("bandit").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, code in enumerate(codes):
            path = Path(tmp) / f"case_{i}.py"
            path.write_text(code)
            paths.append(path)
        start = time.perf_counter()
        for path in paths:
            analyze(path.read_text())
        ours = len(paths) / (time.perf_counter() - start)
        start = time.perf_counter()
        mgr = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)
        mgr.discover_files([str(p) for p in paths])
        mgr.run_tests()
        bandit = len(paths) / (time.perf_counter() - start)
    return ours, bandit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    codes = [c["code"] for c in json.loads(CORPUS.read_text())]
    for code in codes[:20]:  # warm caches and imports
        analyze(code)
        libcst.parse_module(code)
    median, p90, mean = per_snippet_ratio(codes, args.repeat)
    print(f"snippets: {len(codes)}")
    print(f"analyze / libcst.parse_module per snippet: median {median:.2f}x, p90 {p90:.2f}x, mean {mean:.2f}x "
          "(goal <= 1.5x)")
    ours, bandit = throughput(codes)
    print(f"throughput: analyze {ours:.0f} snippets/s, bandit {bandit:.0f} snippets/s, "
          f"ratio {ours / bandit:.2f}x (goal >= 1.0x)")


if __name__ == "__main__":
    main()
