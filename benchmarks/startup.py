"""Whole-process cost of the ``governed-agents`` command against bandit's, measured in one run:

1. start-up: one-file ``governed-agents check`` against ``bandit`` on the same file (goal <= 1.0x);
2. throughput: the 405 RedCode-Exec development snippets as files in one directory, one command
   each side, ``analyze --json`` and ``check --json`` against ``bandit -r -f json`` (goal >= 1.2x);
   with the default ``--jobs`` (worker processes forked after the imports, one per CPU) and, to show
   what the workers bring, with ``--jobs 1`` (one process; bandit has no workers);
3. where ``check``'s start-up goes: a bare interpreter and the imports that dominate;
4. ``governed-agents run`` of a one-line file as a whole process against a process that runs the
   same code through AutoGen's stock ``LocalCommandLineCodeExecutor`` (goal <= 1.3x).

Each ``governed-agents`` figure is printed twice: cold (``GOVERNED_AGENTS_SERVER=0``: a fresh
interpreter imports everything) and warm (the command handed to a warm server started for this
run in a private directory and stopped at its end; see ``governed_agents/_cli/_warm_client.py``).
A warm command's CPU time is the client's plus what the server and the copy it forked for the
command used (read from ``/proc/<server>/stat``, whose 10 ms ticks make it coarse per run).

Both sides run as ``python -m …`` from this interpreter (same virtualenv, same ``site``), interleaved
so that load on the machine falls on both; each figure is the minimum of ``--repeat`` runs (wall
clock), and CPU time (user + system of the child) is printed beside it. Children get a private
``PYTHONPYCACHEPREFIX`` (written by the warm-up run): an editable checkout under
``PYTHONDONTWRITEBYTECODE`` would otherwise compile its own modules from source at every start,
which a pip-installed package (and bandit here) never does.

``--instructions`` counts instead, once per command, the instructions each process executes under
valgrind's cachegrind: deterministic, so it compares on a loaded machine where wall clock cannot.
It counts cold commands only: a warm command's work happens in the server's copy, which is not
the measured process (and valgrind's own limits and preload give the client another server key).
With workers the figure is the longest process's (a forked child's count includes what its parent
ran before the fork): the critical path, which is what the wall clock would follow on free cores.

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0; see
shared/benchmarks/redcode-exec/README.md).

    python benchmarks/startup.py [--repeat N] [--instructions]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"
POLICY = ROOT / "policies" / "examples" / "broad.policy"
PY = sys.executable


ENV = dict(os.environ, GOVERNED_AGENTS_SERVER="0")  # cold: every command imports everything itself
WARM_ENV: dict[str, str] = {}  # set in main(): the warm server's private directory, the switch on
WARM = " (warm)"  # a command whose name ends so runs through the warm server


def _server_pid() -> int | None:
    for lock in Path(WARM_ENV["GOVERNED_AGENTS_SERVER_DIR"]).glob("*.sock.lock"):
        fields = lock.read_text().split()
        if fields and Path(str(lock).removesuffix(".lock")).exists():
            return int(fields[0])
    return None


def _server_cpu(pid: int | None) -> float:
    """CPU seconds the server and the copies it has reaped have used so far."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def _run(argv: list[str], warm: bool = False) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process (and, warm, of the server's work for it)."""
    server = _server_pid() if warm else None
    served_before = _server_cpu(server)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=WARM_ENV if warm else ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu + _server_cpu(server) - served_before


def measure(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall and mean cpu of each command over ``repeat`` interleaved rounds (the mean: a warm
    command's server share arrives in 10 ms ticks)."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for name, argv in commands.items():  # warm the page cache and write the .pyc files
        _run(argv, name.endswith(WARM))
    for _ in range(repeat):
        for name, argv in commands.items():
            wall, cpu = _run(argv, name.endswith(WARM))
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (min(walls[name]), sum(cpus[name]) / len(cpus[name])) for name in commands}


def start_server(one: str) -> int:
    """A warm server for WARM_ENV, started the way a user's first command starts it."""
    _run(_check(one), warm=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pid = _server_pid()
        if pid is not None:
            return pid
        time.sleep(0.1)
    raise SystemExit("startup.py: the warm server did not come up within 120 s")


def stop_server(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


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

        WARM_ENV.update(os.environ, PYTHONPYCACHEPREFIX=ENV["PYTHONPYCACHEPREFIX"],
                        GOVERNED_AGENTS_SERVER_DIR=str(Path(tmp) / "servers"))
        WARM_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        WARM_ENV.pop("GOVERNED_AGENTS_SERVER", None)
        server = start_server(one)
        try:
            _timed(args.repeat, env_note, codes, corpus, one, Path(tmp))
        finally:
            stop_server(server)


def _timed(repeat: int, env_note: str, codes: list[str], corpus: Path, one: str, tmp: Path) -> None:
    print(f"start-up, one file ({env_note}; best of {repeat} wall, mean cpu)")
    startup = measure({
        "python -c pass": [PY, "-c", "pass"],
        "bandit": [PY, "-m", "bandit", "-q", one],
        "check": _check(one),
        "check" + WARM: _check(one),
        "check --json": [*_check(one)[:-1], "--json", one],
        "check --json" + WARM: [*_check(one)[:-1], "--json", one],
        "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", one],
        "analyze --json" + WARM: [PY, "-m", "governed_agents.cli", "analyze", "--json", one],
        "import libcst": [PY, "-c", "import libcst"],
        "import pydantic": [PY, "-c", "import pydantic; from pydantic import BaseModel"],
    }, repeat)
    base_wall, base_cpu = startup["bandit"]
    for name, (wall, cpu) in startup.items():
        print(f"  {name:<22} {wall * 1e3:7.1f} ms wall ({wall / base_wall:4.2f}x bandit)  "
              f"{cpu * 1e3:7.1f} ms cpu ({cpu / base_cpu:4.2f}x)")
    for name in ("check" + WARM, "check"):
        wall, cpu = startup[name]
        print(f"one-file {name} start-up: {wall / base_wall:.2f}x bandit's wall, {cpu / base_cpu:.2f}x cpu "
              "(goal <= 1.0x)")

    rounds = max(3, repeat // 3)
    print(f"\nthroughput, {len(codes)} snippets in one command each (best of {rounds} wall, mean cpu)")
    throughput = measure({
        "bandit -r -f json": [PY, "-m", "bandit", "-q", "-r", "-f", "json", str(corpus)],
        "analyze --json": [PY, "-m", "governed_agents.cli", "analyze", "--json", str(corpus)],
        "analyze --json" + WARM: [PY, "-m", "governed_agents.cli", "analyze", "--json", str(corpus)],
        "check --json": [*_check(str(corpus))[:-1], "--json", str(corpus)],
        "check --json" + WARM: [*_check(str(corpus))[:-1], "--json", str(corpus)],
        "analyze --jobs 1": [PY, "-m", "governed_agents.cli", "analyze", "--json", "--jobs", "1", str(corpus)],
        "check --jobs 1": [*_check(str(corpus))[:-1], "--json", "--jobs", "1", str(corpus)],
    }, rounds)
    base_wall, base_cpu = throughput["bandit -r -f json"]
    for name, (wall, cpu) in throughput.items():
        print(f"  {name:<24} {len(codes) / wall:7.0f} snippets/s wall ({base_wall / wall:4.2f}x bandit)  "
              f"{len(codes) / cpu:7.0f} snippets/s cpu ({base_cpu / cpu:4.2f}x)")
    for name in ("analyze --json", "check --json"):
        for shown in (name + WARM, name):
            wall, cpu = throughput[shown]
            print(f"{shown} throughput: {base_wall / wall:.2f}x bandit's wall, {base_cpu / cpu:.2f}x cpu "
                  "(goal >= 1.2x)")

    snippet = tmp / "one_line.py"
    snippet.write_text("import math\nprint(math.factorial(6))\n")
    (tmp / "stock").mkdir()
    governed_run = [PY, "-m", "governed_agents.cli", "run", "--policy", str(ROOT / "policies" / "seed.policy"),
                    "--agent", "agent_sandbox", str(snippet)]
    # a run is short, and its ratio the noisiest here (bubblewrap's start waits for a free core): as
    # many rounds as the start-up's
    print(f"\nrun, one file as a whole process (best of {repeat} wall, mean cpu)")
    run = measure({
        "stock LocalCommandLineCodeExecutor": [PY, "-c", STOCK, str(snippet), str(tmp / "stock")],
        "governed-agents run": governed_run,
        "governed-agents run" + WARM: governed_run,
        "check of the same file": [*_check(str(snippet))],
    }, repeat)
    base_wall, base_cpu = run["stock LocalCommandLineCodeExecutor"]
    for name, (wall, cpu) in run.items():
        print(f"  {name:<36} {wall * 1e3:7.1f} ms wall ({wall / base_wall:4.2f}x)  "
              f"{cpu * 1e3:7.1f} ms cpu ({cpu / base_cpu:4.2f}x)")
    for name in ("governed-agents run" + WARM, "governed-agents run"):
        wall, cpu = run[name]
        print(f"{name} whole process: {wall / base_wall:.2f}x the stock executor's wall, "
              f"{cpu / base_cpu:.2f}x cpu (goal <= 1.3x)")


if __name__ == "__main__":
    main()
