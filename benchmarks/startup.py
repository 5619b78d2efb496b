"""Whole-process cost of the ``governed-agents`` command against bandit's, measured in one run:

1. start-up: one-file ``governed-agents check`` against ``bandit`` on the same file (goal <= 1.0x);
2. throughput: the 405 RedCode-Exec development snippets as files in one directory, one command
   each side, ``analyze --json`` and ``check --json`` against ``bandit -r -f json`` (goal >= 1.2x);
   with the default ``--jobs`` (worker processes forked after the imports, one per CPU) and, to show
   what the workers bring, with ``--jobs 1`` (one process; bandit has no workers);
3. where ``check``'s start-up goes: a bare interpreter and the imports that dominate;
4. ``governed-agents run`` of a one-line file as a whole process against a process that runs the
   same code through AutoGen's stock ``LocalCommandLineCodeExecutor`` (goal <= 1.3x).

Both sides run as ``python -m …`` from this interpreter (same virtualenv, same ``site``), interleaved
so that load on the machine falls on both; each figure is the minimum of ``--repeat`` runs (wall
clock), and CPU time (user + system of the child) is printed beside it. Children get a private
``PYTHONPYCACHEPREFIX`` (written by the warm-up run): an editable checkout under
``PYTHONDONTWRITEBYTECODE`` would otherwise compile its own modules from source at every start,
which a pip-installed package (and bandit here) never does.

``--instructions`` counts instead, once per command, the instructions each process executes under
valgrind's cachegrind: deterministic, so it compares on a loaded machine where wall clock cannot.
With workers the figure is the longest process's (a forked child's count includes what its parent
ran before the fork): the critical path, which is what the wall clock would follow on free cores.

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0; see
shared/benchmarks/redcode-exec/README.md).

    python benchmarks/startup.py [--repeat N] [--instructions]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"
POLICY = ROOT / "policies" / "examples" / "broad.policy"
PY = sys.executable


ENV = dict(os.environ)


def _run(argv: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    """Best (wall, cpu) of each command over ``repeat`` interleaved rounds."""
    best = {name: (float("inf"), float("inf")) for name in commands}
    for argv in commands.values():  # warm the page cache and write the .pyc files
        _run(argv)
    for _ in range(repeat):
        for name, argv in commands.items():
            wall, cpu = _run(argv)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def instructions(commands: dict[str, list[str]]) -> dict[str, int]:
    """Instructions of the longest process of each command, under cachegrind."""
    counts = {}
    for name, argv in commands.items():
        done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                               *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
                              check=False)
        found = [int(n.replace(",", "")) for n in re.findall(r"I\s+refs:\s+([\d,]+)", done.stderr)]
        if not found:
            raise SystemExit(f"startup.py: no instruction count for {name} (is valgrind installed?)")
        counts[name] = max(found)
    return counts


def print_instructions(title: str, commands: dict[str, list[str]], base: str, goal: str) -> None:
    counts = instructions(commands)
    print(f"{title} (instructions under cachegrind, longest process)")
    for name, count in counts.items():
        print(f"  {name:<18} {count / 1e6:8.0f} M  ({count / counts[base]:4.2f}x {base})")
    print(goal.format(**{name: counts[base] / count for name, count in counts.items()},
                      **{f"{name} cost": count / counts[base] for name, count in counts.items()}))


STOCK = """
import asyncio, sys, warnings
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

async def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        executor = LocalCommandLineCodeExecutor(work_dir=sys.argv[2])
    code = open(sys.argv[1]).read()
    result = await executor.execute_code_blocks([CodeBlock(code=code, language="python")], CancellationToken())
    sys.stdout.write(result.output)
    return result.exit_code

sys.exit(asyncio.run(main()))
"""


def _check(*paths: str) -> list[str]:
    return [PY, "-m", "governed_agents.cli", "check", "--policy", str(POLICY), "--agent", "broad", *paths]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead of time")
    args = parser.parse_args()
    codes = [c["code"] for c in json.loads(CORPUS.read_text())]
    env_note = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"

    with tempfile.TemporaryDirectory() as tmp:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for i, code in enumerate(codes):
            (corpus / f"case_{i:03d}.py").write_text(code)
        one = str(corpus / "case_000.py")
        if args.instructions:
            for argv in (_check(one), [PY, "-m", "bandit", "-q", one]):  # write the .pyc files
                _run(argv)
            print_instructions("start-up, one file", {
                "python -c pass": [PY, "-c", "pass"],
                "bandit": [PY, "-m", "bandit", "-q", one],
                "check": _check(one),
                "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", one],
                "import libcst": [PY, "-c", "import libcst"],
                "import pydantic": [PY, "-c", "import pydantic; from pydantic import BaseModel"],
            }, "bandit", "one-file check start-up: {check cost:.2f}x bandit's instructions (goal <= 1.0x)")
            print_instructions(f"\nthroughput, {len(codes)} snippets in one command each", {
                "bandit -r -f json": [PY, "-m", "bandit", "-q", "-r", "-f", "json", str(corpus)],
                "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", str(corpus)],
                "check --json": [*_check(str(corpus))[:-1], "--json", str(corpus)],
                "analyze --jobs 1": [PY, "-m", "governed_agents.cli", "analyze", "--json", "--jobs", "1", str(corpus)],
                "check --jobs 1": [*_check(str(corpus))[:-1], "--json", "--jobs", "1", str(corpus)],
            }, "bandit -r -f json", "throughput on the critical path: analyze --json {analyze --json:.2f}x, "
               "check --json {check --json:.2f}x bandit's (goal >= 1.2x)")
            return

        print(f"start-up, one file ({env_note}; best of {args.repeat})")
        startup = measure({
            "python -c pass": [PY, "-c", "pass"],
            "bandit": [PY, "-m", "bandit", "-q", one],
            "check": _check(one),
            "check --json": [*_check(one)[:-1], "--json", one],
            "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", one],
            "import libcst": [PY, "-c", "import libcst"],
            "import pydantic": [PY, "-c", "import pydantic; from pydantic import BaseModel"],
        }, args.repeat)
        base_wall, base_cpu = startup["bandit"]
        for name, (wall, cpu) in startup.items():
            print(f"  {name:<16} {wall * 1e3:7.1f} ms wall ({wall / base_wall:4.2f}x bandit)  "
                  f"{cpu * 1e3:7.1f} ms cpu ({cpu / base_cpu:4.2f}x)")
        wall, cpu = startup["check"]
        print(f"one-file check start-up: {wall / base_wall:.2f}x bandit's wall, {cpu / base_cpu:.2f}x cpu "
              "(goal <= 1.0x)")

        repeat = max(3, args.repeat // 3)
        print(f"\nthroughput, {len(codes)} snippets in one command each (best of {repeat})")
        throughput = measure({
            "bandit -r -f json": [PY, "-m", "bandit", "-q", "-r", "-f", "json", str(corpus)],
            "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", str(corpus)],
            "check --json": [*_check(str(corpus))[:-1], "--json", str(corpus)],
            "analyze --jobs 1": [PY, "-m", "governed_agents.cli", "analyze", "--json", "--jobs", "1", str(corpus)],
            "check --jobs 1": [*_check(str(corpus))[:-1], "--json", "--jobs", "1", str(corpus)],
        }, repeat)
        base_wall, base_cpu = throughput["bandit -r -f json"]
        for name, (wall, cpu) in throughput.items():
            print(f"  {name:<18} {len(codes) / wall:7.0f} snippets/s wall ({base_wall / wall:4.2f}x bandit)  "
                  f"{len(codes) / cpu:7.0f} snippets/s cpu ({base_cpu / cpu:4.2f}x)")
        for name in ("analyze --json", "check --json"):
            wall, cpu = throughput[name]
            print(f"{name} throughput: {base_wall / wall:.2f}x bandit's wall, {base_cpu / cpu:.2f}x cpu "
                  "(goal >= 1.2x)")

        snippet = Path(tmp) / "one_line.py"
        snippet.write_text("import math\nprint(math.factorial(6))\n")
        (Path(tmp) / "stock").mkdir()
        print(f"\nrun, one file as a whole process (best of {repeat})")
        run = measure({
            "stock LocalCommandLineCodeExecutor": [PY, "-c", STOCK, str(snippet), str(Path(tmp) / "stock")],
            "governed-agents run": [PY, "-m", "governed_agents.cli", "run", "--policy", str(ROOT / "policies" /
                                    "seed.policy"), "--agent", "agent_sandbox", str(snippet)],
            "check of the same file": [*_check(str(snippet))],
        }, repeat)
        base_wall, base_cpu = run["stock LocalCommandLineCodeExecutor"]
        for name, (wall, cpu) in run.items():
            print(f"  {name:<36} {wall * 1e3:7.1f} ms wall ({wall / base_wall:4.2f}x)  "
                  f"{cpu * 1e3:7.1f} ms cpu ({cpu / base_cpu:4.2f}x)")
        wall, cpu = run["governed-agents run"]
        print(f"governed-agents run whole process: {wall / base_wall:.2f}x the stock executor's wall, "
              f"{cpu / base_cpu:.2f}x cpu (goal <= 1.3x)")


if __name__ == "__main__":
    main()
