"""Analyser speed, measured in one run against two baselines on the same snippets:

1. per snippet, ``analyze`` time / ``libcst.parse_module`` time (goal <= 1.5);
2. whole corpus, snippets per second of ``analyze`` next to bandit's on the same files (goal >= 1.0x);
3. the tail: per snippet, the whole decision (``analyze`` + ``PolicySet.evaluate`` under the broad
   policy) / ``libcst.parse_module``: median (goal <= 1.3x), p90, p99 (goal <= 1.6x), worst;
4. dense code, every line an operation (goal <= 1.3x the parse);
5. with ``--lines N`` (e.g. 400000): one file of N lines made of the corpus's snippets end to end,
   the gate's decision time against libcst's parse of the same file (one run each: minutes), and
   CPython's ``ast.parse`` of it (what the pre-parse cost when every long text was parsed twice).

Times are CPU time of this process (``time.process_time``), the analyser and its baseline timed
alternately, best of ``--repeat``: on a machine shared with other work, wall time mostly measures
the scheduler.

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0).

    python benchmarks/analysis.py [--repeat N] [--lines 400000]
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import libcst

from governed_agents import analyze
from governed_agents.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"
POLICY = load_policy(ROOT / "policies" / "examples" / "broad.policy")

# Dense code: every line an operation of a different kind (files, processes, network, environment,
# dynamic code), each written the way snippets write it.
DENSE_LINES = (
    'os.system("ls -l /tmp")',
    'data = open("/data/analysis/x.csv").read()',
    'subprocess.run(["ls", "-l"], check=True)',
    'requests.get("https://example.com/a", timeout=3)',
    'os.remove(os.path.join("/tmp", "x"))',
    'home = os.environ["HOME"]',
    'shutil.copy("/data/analysis/a", "/data/analysis/b")',
    'result = eval(input("> "))',
    'with open("/etc/passwd") as handle: print(handle.read())',
    'sock = socket.create_connection(("10.0.0.1", 4444))',
)


def decide(code: str) -> object:
    return POLICY.evaluate(analyze(code), executor="broad")


def dense_code(lines: int) -> str:
    head = "import os, shutil, socket, subprocess\nimport requests\n"
    return head + "\n".join(DENSE_LINES[i % len(DENSE_LINES)] for i in range(lines)) + "\n"


clock = time.process_time


def _ratio(fn, code: str, repeat: int) -> float:
    """Best time of ``fn`` over best time of ``libcst.parse_module`` on the same code, timed in turn."""
    best, parse = float("inf"), float("inf")
    for _ in range(repeat):
        start = clock()
        libcst.parse_module(code)
        parse = min(parse, clock() - start)
        start = clock()
        fn(code)
        best = min(best, clock() - start)
    return best / parse


def per_snippet_ratio(codes: list[str], repeat: int) -> tuple[float, float, float]:
    ratios = sorted(_ratio(analyze, code, repeat) for code in codes)
    return statistics.median(ratios), ratios[int(len(ratios) * 0.9)], sum(ratios) / len(ratios)


def _quantile(ratios: list[float], q: float) -> float:
    return ratios[min(len(ratios) - 1, int(len(ratios) * q))]


def decision_tail(codes: list[str], repeat: int) -> dict[str, float]:
    ratios = sorted(_ratio(decide, code, repeat) for code in codes)
    return {"median": statistics.median(ratios), "p90": _quantile(ratios, 0.9), "p99": _quantile(ratios, 0.99),
            "worst": ratios[-1]}


def big_file(codes: list[str], lines: int) -> str:
    parts: list[str] = []
    count = 0
    while count < lines:
        for code in codes:
            parts.append(code if code.endswith("\n") else code + "\n")
            count += parts[-1].count("\n")
            if count >= lines:
                break
    return "".join(parts)


def once(fn, code: str) -> float:
    start = clock()
    fn(code)
    return clock() - start


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
        start = clock()
        for path in paths:
            analyze(path.read_text())
        ours = len(paths) / (clock() - start)
        start = clock()
        mgr = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)
        mgr.discover_files([str(p) for p in paths])
        mgr.run_tests()
        bandit = len(paths) / (clock() - start)
    return ours, bandit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lines", type=int, default=0, help="also time one file of this many lines")
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
    tail = decision_tail(codes, args.repeat)
    print("decision (analyze + evaluate) / libcst.parse_module per snippet: "
          + ", ".join(f"{k} {v:.2f}x" for k, v in tail.items()) + " (goals: median <= 1.3x, p99 <= 1.6x)")
    for lines in (100, 2000):
        code = dense_code(lines)
        ratio = _ratio(decide, code, args.repeat)
        print(f"dense code, {lines} lines each an operation: decision / parse {ratio:.2f}x (goal <= 1.3x)")
    if args.lines:
        code = big_file(codes, args.lines)
        parse = once(libcst.parse_module, code)
        gate = once(decide, code)
        cpython = once(ast.parse, code)
        print(f"one file of {code.count(chr(10))} lines ({len(code) / 1e6:.1f} MB): libcst parse {parse:.1f} s, "
              f"gate decision {gate:.1f} s: {gate / parse:.2f}x (CPython's ast.parse of it: {cpython:.1f} s)")


if __name__ == "__main__":
    main()
