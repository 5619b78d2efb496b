"""The runtime layer holds time, memory, processes, network and files while code runs.

These run for real (bubblewrap, cgroup, rlimits, seccomp); .ci/run installs bubblewrap.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from governed_agents.policy import RuntimeLimits
from governed_agents.runtime import available_layers, run_code


def stray(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and "State:\tZ" not in status:
            found.append(int(entry))
    return found


def working_in(directory: Path) -> list[int]:
    """Processes whose working directory lies under ``directory`` (every run starts in its work dir)."""
    found = []
    root = str(directory.resolve())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if (cwd == root or cwd.startswith(root + "/")) and "State:\tZ" not in status:
            found.append(int(entry))
    return found


@pytest.fixture
def marker(tmp_path):
    value = f"gmark{uuid.uuid4().hex[:10]}"
    yield value
    time.sleep(0.2)
    assert stray(value) == [] and working_in(tmp_path) == [], "a process outlived its run"


def test_every_layer_is_available_on_this_machine():
    layers = available_layers()
    assert all(state == "active" for state in layers.values()), layers


async def test_ordinary_code_runs_and_its_output_comes_back(tmp_path, marker):
    (tmp_path / "sales.csv").write_text("region,amount\nnorth,10\nsouth,32\n")
    code = f"# {marker}\nimport pandas as pd\nprint(pd.read_csv('sales.csv')['amount'].sum())\n"
    report = await run_code(code, "python", RuntimeLimits(max_memory=1_000_000_000, max_execution_time=60,
                                                          readable_paths=(str(tmp_path),)), work_dir=tmp_path)
    assert report.exit_code == 0, report.output
    assert report.stdout.strip() == "42"
    assert report.layers["bubblewrap"] == "active"


async def test_3_gib_under_100_mb_is_stopped_as_memory_limit(tmp_path, marker):
    code = f"# {marker}\nblob = bytearray(3 * 1024 ** 3)\nprint('allocated')\n"
    report = await run_code(code, "python", RuntimeLimits(max_memory=100_000_000), work_dir=tmp_path)
    assert report.exit_code != 0
    assert report.limit_broken == "memory limit"
    assert "allocated" not in report.stdout
    assert "memory limit" in report.summary()


async def test_infinite_loop_stops_within_2_s_of_a_5_s_limit(tmp_path, marker):
    start = time.monotonic()
    report = await run_code(f"# {marker}\nwhile True:\n    pass\n", "python", RuntimeLimits(max_execution_time=5),
                            work_dir=tmp_path)
    elapsed = time.monotonic() - start
    assert report.limit_broken == "time limit" and report.exit_code == 124
    assert 5 <= elapsed < 7


async def test_a_child_ignoring_sigterm_and_a_setsid_grandchild_die_at_the_limit(tmp_path, marker):
    code = (f"# {marker}\nimport os, signal, subprocess, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 300; echo {marker}'])\ntime.sleep(300)\n")
    limits = RuntimeLimits(max_execution_time=2, allowed_commands=("*",))
    start = time.monotonic()
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    assert report.limit_broken == "time limit" and time.monotonic() - start < 5
    assert stray(marker) == []  # the setsid grandchild died with the run


async def test_background_sleep_does_not_hold_the_run(tmp_path, marker):
    start = time.monotonic()
    report = await run_code(f"# {marker}\nsleep 300 &\necho started\n", "bash",
                            RuntimeLimits(max_execution_time=30, allowed_commands=("*",)), work_dir=tmp_path)
    assert report.stdout == "started\n"
    assert time.monotonic() - start < 5


async def test_fork_bomb_is_contained(tmp_path, marker):
    # the shell stays alive while the bomb grows: a bare `wait` may return before the bomb is big
    code = f"# {marker}\nbomb() {{ bomb | bomb & }}\nbomb\nsleep 30\n"
    start = time.monotonic()
    report = await run_code(code, "bash", RuntimeLimits(max_execution_time=5, max_processes=64,
                                                        allowed_commands=("*",)), work_dir=tmp_path)
    assert time.monotonic() - start < 9
    assert report.limit_broken in ("process limit", "time limit"), report


async def test_python_cannot_fork_or_exec_without_allowed_commands_even_through_ctypes(tmp_path, marker):
    code = (f"# {marker}\nimport ctypes\nlibc = ctypes.CDLL(None)\nprint('fork', libc.fork())\n"
            "print('exec', libc.execv(b'/bin/true', None))\n")
    report = await run_code(code, "python", RuntimeLimits(allow_dynamic_code=True), work_dir=tmp_path)
    assert "fork -1" in report.stdout and "exec -1" in report.stdout


async def test_a_thread_bomb_is_held_by_the_process_limit(tmp_path, marker):
    code = (f"# {marker}\nimport threading, time\nwhile True:\n"
            "    threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n")
    start = time.monotonic()
    report = await run_code(code, "python", RuntimeLimits(max_execution_time=20, max_processes=50),
                            work_dir=tmp_path)
    assert time.monotonic() - start < 10
    assert report.exit_code != 0 and "can't start new thread" in report.stderr, report.output
    assert report.limit_broken == "process limit"


class LoopbackServer:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


async def test_exec_of_a_payload_cannot_connect_or_write_outside(tmp_path, marker):
    server = LoopbackServer()
    outside = Path("/var/tmp") / f"{marker}.txt"
    try:
        payload = (
            "import socket\nresults = []\n"
            "try:\n    socket.create_connection(('127.0.0.1', %d), timeout=2)\n    results.append('connected')\n"
            "except OSError as exc:\n    results.append('no network: ' + type(exc).__name__)\n"
            "try:\n    open(%r, 'w').write('owned')\n    results.append('wrote')\n"
            "except OSError as exc:\n    results.append('no write: ' + type(exc).__name__)\n"
            "print(results)\n" % (server.port, str(outside))
        )
        (tmp_path / "payload.txt").write_text(payload)
        code = f"# {marker}\nexec(open('payload.txt').read())\n"
        report = await run_code(code, "python", RuntimeLimits(allow_dynamic_code=True,
                                                              readable_paths=(str(tmp_path),)), work_dir=tmp_path)
        assert "no network" in report.stdout and "no write" in report.stdout, report.output
        assert server.connections == 0
        assert not outside.exists()
    finally:
        server.close()
        outside.unlink(missing_ok=True)


async def test_the_parent_environment_does_not_leak(tmp_path, marker, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    report = await run_code(f"# {marker}\nimport os\nprint(os.environ.get('OPENAI_API_KEY'))\n", "python",
                            RuntimeLimits(), work_dir=tmp_path)
    assert report.stdout.strip() == "None"


async def test_file_size_limit(tmp_path, marker):
    code = f"# {marker}\nopen('big.bin', 'wb').write(b'x' * 50_000_000)\n"
    report = await run_code(code, "python", RuntimeLimits(max_file_size=1_000_000, writable_paths=(str(tmp_path),)),
                            work_dir=tmp_path)
    assert report.limit_broken == "file size limit"


async def test_missing_isolation_denies_unless_allowed(tmp_path, monkeypatch, marker):
    from governed_agents.runtime import _run

    monkeypatch.setattr(_run, "bwrap_path", lambda: None)
    report = await run_code(f"# {marker}\nprint('ran')", "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.exit_code != 0 and "bubblewrap" in report.stderr and "ran" not in report.stdout
    report = await run_code(f"# {marker}\nprint('ran')", "python", RuntimeLimits(), work_dir=tmp_path,
                            require_isolation=False)
    assert report.stdout.strip() == "ran" and report.layers["bubblewrap"].startswith("off")


async def test_readable_paths_under_tmp_stay_visible_read_only(tmp_path, marker):
    data = tmp_path / "data"
    data.mkdir()
    (data / "q1.csv").write_text("x\n1\n")
    code = (f"# {marker}\nprint(open('{data}/q1.csv').read().split()[1])\n"
            f"try:\n    open('{data}/new.csv', 'w')\nexcept OSError:\n    print('refused')\n")
    report = await run_code(code, "python", RuntimeLimits(readable_paths=(str(data),)), work_dir=tmp_path / "run")
    assert report.stdout.split() == ["1", "refused"], report.output
    assert not (data / "new.csv").exists()


@pytest.mark.parametrize("answer", [True, False, "error"])
async def test_held_code_runs_only_when_the_hold_says_go(tmp_path, marker, answer):
    import asyncio

    async def hold():
        await asyncio.sleep(0.3)  # the sandbox is up by now, waiting
        if answer == "error":
            raise OSError("the receipt could not be written")
        return answer

    out = tmp_path / "ran.txt"
    code = f"# {marker}\nopen({str(out)!r}, 'w').write('x')\nprint('ran')\n"
    report = await run_code(code, "python", RuntimeLimits(max_execution_time=10), work_dir=tmp_path, hold=hold())
    if answer is True:
        assert report.exit_code == 0 and report.stdout == "ran\n" and out.exists()
    else:
        assert report.exit_code != 0 and not out.exists()
        assert "withdrawn" in report.stderr


async def test_held_code_cancelled_before_the_go_never_runs(tmp_path, marker):
    import asyncio

    async def hold():
        await asyncio.sleep(1)
        return True

    cancellation = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, cancellation.set)
    out = tmp_path / "ran.txt"
    code = f"# {marker}\nopen({str(out)!r}, 'w').write('x')\n"
    start = time.monotonic()
    report = await run_code(code, "python", RuntimeLimits(max_execution_time=10), work_dir=tmp_path,
                            hold=hold(), cancellation=cancellation)
    assert time.monotonic() - start < 0.9  # it did not wait for the hold's answer
    assert report.exit_code != 0 and not out.exists()
    assert "cancelled before the code ran" in report.stderr


def launch(config: dict, code: str, go: bytes | None) -> subprocess.CompletedProcess[str]:
    """The launcher run by hand, as the sandbox runs it: ``go`` is what the parent writes before closing
    the go pipe (None: the pipe closes with nothing written)."""
    import marshal
    import sys

    from governed_agents.runtime import _run

    code_fd = _run._code_memfd(code, "python")
    go_read, go_write = os.pipe()
    config = {"code_fd": code_fd, "language": "python", "go_fd": go_read, **config}
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _run._LAUNCH, _run._launcher_code(),
                                  marshal.dumps(config).hex()], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, pass_fds=(code_fd, go_read))
        os.close(go_read)
        if go is not None:
            os.write(go_write, go)
        os.close(go_write)
        out, err = child.communicate(timeout=30)
    finally:
        os.close(code_fd)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def test_a_launcher_outside_its_cgroups_never_starts_the_code_even_when_told_to_go():
    # the parent said go, but this process is not in the run's cgroups (as if the move had not happened)
    done = launch({"cgroup": [("pids", f"governed-{uuid.uuid4().hex}"), ("memory", "governed-x")]},
                  "print('ran outside the cgroup')\n", b"\x01")
    assert done.returncode == 126 and "not inside the run's cgroup (pids, memory)" in done.stderr
    assert "ran outside" not in done.stdout


def test_a_launcher_whose_go_pipe_closes_without_the_go_never_starts_the_code():
    done = launch({}, "print('ran without the go')\n", None)
    assert done.returncode == 125 and "ran without" not in done.stdout


async def test_a_run_whose_sandbox_cannot_be_placed_in_its_cgroups_never_starts(tmp_path, marker, monkeypatch):
    from governed_agents.runtime._cgroup import RunCgroup

    def refuse(*args):
        raise OSError(28, "No space left on device")  # as a cgroup that went away would answer

    monkeypatch.setattr(RunCgroup, "admit", refuse)
    out = tmp_path / "ran.txt"
    report = await run_code(f"# {marker}\nopen({str(out)!r}, 'w').write('x')\n", "python",
                            RuntimeLimits(max_processes=16), work_dir=tmp_path)
    assert report.exit_code != 0 and not out.exists()
    assert "could not be placed in its cgroups" in report.stderr


async def test_a_sandbox_bubblewrap_cannot_build_says_why_and_runs_nothing(tmp_path, marker, monkeypatch):
    # an allowed path removed between the view's building and bubblewrap's mounting of it
    from governed_agents.runtime import _run

    gone = tmp_path / "gone"
    real = _run.build_view

    def with_a_vanished_path(*args, **kwargs):
        view = real(*args, **kwargs)
        view.argv[-2:-2] = ["--ro-bind", str(gone), str(gone)]  # before the final --remount-ro /
        return view

    monkeypatch.setattr(_run, "build_view", with_a_vanished_path)
    out = tmp_path / "ran.txt"
    report = await run_code(f"# {marker}\nopen({str(out)!r}, 'w').write('x')\n", "python",
                            RuntimeLimits(max_processes=16, readable_paths=(str(tmp_path),)), work_dir=tmp_path)
    assert report.exit_code != 0 and not out.exists()
    # bubblewrap's own words, whether it stopped before or after the runner had set the sandbox up
    assert f"Can't find source path {gone}" in report.stderr, report.stderr


async def test_the_process_limit_holds_from_the_code_s_first_statement(tmp_path, marker):
    # the cgroup move is the runner's, before the go: a fork at once is already counted
    code = (f"# {marker}\nimport os, time\nborn, refused = 0, 0\nfor _ in range(20):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        refused += 1\n        continue\n"
            "    if pid == 0:\n        time.sleep(1)\n        os._exit(0)\n    born += 1\nprint(born, refused)\n")
    report = await run_code(code, "python", RuntimeLimits(max_processes=8, allowed_commands=("*",),
                                                          max_execution_time=20), work_dir=tmp_path)
    born, refused = map(int, report.stdout.split())
    assert born == 7 and refused == 13, report.output  # 8 processes in all, the first one included


async def test_the_rlimits_are_in_force_and_cannot_be_raised_even_through_libc(tmp_path, marker):
    # the launcher sets them through libc after bubblewrap's set-up (max_file_size 5000 is below the
    # /etc files bubblewrap copies in: set from outside, it stopped the sandbox's start)
    code = (f"# {marker}\nimport ctypes, resource\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "for name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_CORE'):\n"
            "    which = getattr(resource, name)\n"
            "    unlimited = (ctypes.c_ulong * 2)(2 ** 64 - 1, 2 ** 64 - 1)\n"
            "    print(name, *resource.getrlimit(which), libc.setrlimit(which, unlimited), *resource.getrlimit(which))\n")
    report = await run_code(code, "python", RuntimeLimits(allow_dynamic_code=True, max_memory=300_000_000,
                                                          max_cpu_time=7, max_file_size=5000), work_dir=tmp_path)
    assert report.stdout.splitlines() == ["RLIMIT_AS 300000000 300000000 -1 300000000 300000000",
                                          "RLIMIT_CPU 7 8 -1 7 8", "RLIMIT_FSIZE 5000 5000 -1 5000 5000",
                                          "RLIMIT_CORE 0 0 -1 0 0"], report.output


async def test_the_sandbox_s_first_process_and_what_it_starts_are_in_the_run_s_cgroups(tmp_path, marker):
    # the runner moves the sandbox's PID 1 in from outside; a process it starts at once follows it
    code = (f"# {marker}\nimport subprocess\nprint(open('/proc/self/cgroup').read())\n"
            "print(subprocess.run(['cat', '/proc/self/cgroup'], capture_output=True, text=True).stdout)\n")
    report = await run_code(code, "python", RuntimeLimits(max_memory=300_000_000, max_processes=8,
                                                          allowed_commands=("cat",)), work_dir=tmp_path)
    assert report.exit_code == 0, report.output
    groups = [line for line in report.stdout.splitlines() if ":pids:" in line or ":memory:" in line]
    assert len(groups) == 4 and all(line.rsplit("/", 1)[-1].startswith("governed-") for line in groups), groups


@pytest.mark.parametrize(("stderr", "process_limit", "expected"), [
    # a fork bomb whose pid namespace is being torn down gets ENOMEM from fork: still the process limit
    ("bash: fork: Cannot allocate memory\nbash: fork: retry: Resource temporarily unavailable\n", True,
     "process limit"),
    ("bash: fork: Cannot allocate memory\n", False, "memory limit"),
    ("Traceback (most recent call last):\nMemoryError\n", False, "memory limit"),
    ("Traceback (most recent call last):\nMemoryError\n", True, "memory limit"),
    ("", True, "process limit"),
])
def test_a_refused_fork_is_reported_as_the_process_limit_not_memory(stderr, process_limit, expected):
    from governed_agents.runtime._run import _diagnose
    assert _diagnose(1, stderr, process_limit) == expected


WITHOUT_BWRAP = "governed-agents: ran without bubblewrap (not installed): network and filesystem isolation off"


def test_a_run_with_every_layer_adds_nothing_to_the_output(tmp_path, marker):
    from governed_agents.runtime import run_code_sync

    report = run_code_sync(f"# {marker}\nprint('ran')\n", "python", RuntimeLimits(), work_dir=tmp_path)
    assert set(report.layers.values()) == {"active"}
    assert (report.stdout, report.stderr, report.weakened()) == ("ran\n", "", "")


async def test_a_run_without_bubblewrap_says_so_first_in_its_stderr(tmp_path, monkeypatch, marker):
    from governed_agents.runtime import _run

    monkeypatch.setattr(_run, "bwrap_path", lambda: None)
    monkeypatch.setattr(_run, "available_layers",
                        lambda: {**available_layers(), "bubblewrap": "unavailable: not installed"})
    code = f"# {marker}\nimport sys\nprint('ran')\nprint('own error', file=sys.stderr)\n"
    report = await run_code(code, "python", RuntimeLimits(), work_dir=tmp_path, require_isolation=False)
    assert report.stdout == "ran\n"
    assert report.stderr == f"{WITHOUT_BWRAP}\nown error\n"
    assert report.weakened() == WITHOUT_BWRAP and report.layers["bubblewrap"] == "off: not installed"
    # refused, it did not run: no "ran without" line, the refusal names the reason
    report = await run_code(code, "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.stdout == "" and "ran without" not in report.stderr and "(not installed;" in report.stderr
    assert report.weakened() == ""


async def test_a_missing_cgroup_runs_under_require_isolation_when_the_policy_sets_no_limit_it_holds(
        tmp_path, monkeypatch, marker):
    from governed_agents.runtime import _run

    monkeypatch.setattr(_run, "available_layers", lambda: {
        **available_layers(), "cgroup": "unavailable: cannot create a pids cgroup: Permission denied"})
    report = await run_code(f"# {marker}\nprint('ran')\n", "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.stdout == "ran\n"
    assert report.stderr == ("governed-agents: ran without cgroup (cannot create a pids cgroup: Permission denied): "
                             "process limit off\n")
    # a policy that sets max_processes needs the pids cgroup: refused, unless isolation is not required
    report = await run_code(f"# {marker}\nprint('ran')\n", "python", RuntimeLimits(max_processes=8), work_dir=tmp_path)
    assert report.stdout == "" and "max_processes needs a pids cgroup" in report.stderr


@pytest.mark.parametrize(("layer", "limits", "needs"), [
    ("seccomp", RuntimeLimits(), "needs seccomp"),
    ("memory_cgroup", RuntimeLimits(max_memory=200_000_000), "max_memory needs a memory cgroup"),
])
async def test_a_layer_the_policy_needs_and_the_machine_lacks_is_refused_unless_isolation_is_not_required(
        tmp_path, monkeypatch, marker, layer, limits, needs):
    from governed_agents.runtime import _run

    monkeypatch.setattr(_run, "available_layers", lambda: {**available_layers(), layer: "unavailable: not here"})
    code = f"# {marker}\nprint('ran')\n"
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    assert report.exit_code != 0 and report.stdout == "" and needs in report.stderr and "not here" in report.stderr
    report = await run_code(code, "python", limits, work_dir=tmp_path, require_isolation=False)
    assert report.stdout == "ran\n" and report.layers[layer] == "off: not here"
    assert report.stderr.startswith(f"governed-agents: ran without {layer} (not here)")


def test_without_bwrap_on_the_path_the_cli_says_what_it_ran_without(tmp_path):
    """The real detection, in a fresh process whose PATH has no bwrap: the CLI denies by default and,
    with --allow-missing-isolation, runs and prints the line to stderr."""
    import shutil
    import subprocess
    import sys

    path = str(Path(sys.executable).parent)
    if shutil.which("bwrap", path=path):
        pytest.skip("bwrap lies next to the interpreter")
    (tmp_path / "hello.py").write_text("print('ran')\n")
    seed = Path(__file__).resolve().parents[2] / "policies" / "seed.policy"

    def cli(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "governed_agents", "run", "--policy", str(seed), "--agent",
                               "agent_sandbox", "--work-dir", str(tmp_path / "w"), *flags, str(tmp_path / "hello.py")],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "PATH": path})

    allowed = cli("--allow-missing-isolation")
    assert (allowed.returncode, allowed.stdout, allowed.stderr) == (0, "ran\n", WITHOUT_BWRAP + "\n")
    denied = cli()
    assert denied.returncode != 0 and denied.stdout == "" and "not installed" in denied.stderr


CPU_STOP = "governed-agents: stopped: cpu limit (max_cpu_time 1 s)\n"


@pytest.mark.parametrize(("language", "loop"), [("python", "while True:\n    pass\n"),
                                                ("bash", "while :; do :; done\n")])
async def test_a_busy_loop_past_max_cpu_time_is_stopped_as_the_cpu_limit(tmp_path, marker, language, loop):
    # inside bubblewrap the death by SIGXCPU comes back as exit status 128 + SIGXCPU
    import signal

    limits = RuntimeLimits(max_cpu_time=1, max_execution_time=30,
                           allowed_commands=("*",) if language == "bash" else ())
    report = await run_code(f"# {marker}\n{loop}", language, limits, work_dir=tmp_path)
    assert report.layers["bubblewrap"] == "active"
    assert report.limit_broken == "cpu limit", report
    assert report.exit_code == 128 + signal.SIGXCPU
    assert report.stderr.endswith(CPU_STOP) and report.summary() == "stopped: cpu limit"


async def test_a_busy_loop_that_ignores_sigxcpu_is_killed_at_the_hard_cpu_limit(tmp_path, marker):
    import signal

    code = f"# {marker}\nimport signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    report = await run_code(code, "python", RuntimeLimits(max_cpu_time=1, max_execution_time=30), work_dir=tmp_path)
    assert report.limit_broken == "cpu limit" and report.exit_code == 128 + signal.SIGKILL, report
    assert report.stderr.endswith(CPU_STOP)


async def test_the_cpu_limit_is_named_without_bubblewrap_too(tmp_path, monkeypatch, marker):
    # the launcher is the direct child here: its death by SIGXCPU is a negative return code
    import signal

    from governed_agents.runtime import _run

    monkeypatch.setattr(_run, "bwrap_path", lambda: None)
    report = await run_code(f"# {marker}\nwhile True:\n    pass\n", "python",
                            RuntimeLimits(max_cpu_time=1, max_execution_time=30), work_dir=tmp_path,
                            require_isolation=False)
    assert report.limit_broken == "cpu limit" and report.exit_code == 128 + signal.SIGXCPU, report
    assert report.stderr.endswith(CPU_STOP)


async def test_a_shell_whose_child_hit_the_cpu_limit_is_stopped_as_the_cpu_limit(tmp_path, marker):
    code = f"# {marker}\npython3 -c 'while True: pass'\necho after\n"
    report = await run_code(code, "bash", RuntimeLimits(max_cpu_time=1, max_execution_time=30,
                                                        allowed_commands=("*",)), work_dir=tmp_path)
    assert report.stdout == "after\n" and "CPU time limit exceeded" in report.stderr
    assert report.limit_broken == "cpu limit" and report.exit_code == 1 and report.stderr.endswith(CPU_STOP)


async def test_a_crash_or_an_exit_status_is_no_limit(tmp_path, marker):
    # a segfault under max_memory is a crash (RLIMIT_AS makes allocations fail, it sends no signal);
    # exit status 152 without max_cpu_time is the program's own
    report = await run_code(f"# {marker}\nimport ctypes\nctypes.string_at(0)\n", "python",
                            RuntimeLimits(max_memory=300_000_000, allow_dynamic_code=True), work_dir=tmp_path)
    assert report.exit_code == 139 and report.limit_broken is None and "stopped" not in report.stderr
    report = await run_code(f"# {marker}\nimport sys\nsys.exit(152)\n", "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.exit_code == 152 and report.limit_broken is None and report.stderr == ""


@pytest.mark.parametrize(("returncode", "limits", "expected"), [
    (-24, RuntimeLimits(max_cpu_time=2), "cpu limit"),  # SIGXCPU, the launcher itself
    (128 + 24, RuntimeLimits(max_cpu_time=2), "cpu limit"),  # SIGXCPU, as bubblewrap reports it
    (128 + 9, RuntimeLimits(max_cpu_time=2), "cpu limit"),  # SIGKILL at the hard CPU limit
    (-9, RuntimeLimits(max_cpu_time=2), "cpu limit"),
    (-25, RuntimeLimits(max_file_size=1000), "file size limit"),  # SIGXFSZ
    (128 + 25, RuntimeLimits(max_file_size=1000), "file size limit"),
    (128 + 24, RuntimeLimits(), None),  # no CPU limit set: the exit status is the program's
    (128 + 9, RuntimeLimits(max_memory=10**8), None),
    (128 + 11, RuntimeLimits(max_memory=10**8), None),  # SIGSEGV is a crash
    (-11, RuntimeLimits(max_memory=10**8), None),
    (128 + 24, None, "cpu limit"),  # without the limits, only SIGXCPU/SIGXFSZ count
    (-9, None, None),
    (128, RuntimeLimits(max_cpu_time=2), None),
])
def test_diagnose_maps_the_signals_the_limits_send(returncode, limits, expected):
    from governed_agents.runtime._run import _diagnose
    assert _diagnose(returncode, "", False, limits) == expected


@pytest.mark.parametrize(("stderr", "expected"), [
    ("x.sh: line 1:     3 CPU time limit exceeded python3 -c 'while True: pass'\n", "cpu limit"),
    ("x.sh: line 1:     3 File size limit exceeded python3 big.py\n", "file size limit"),
    ("head: error writing 'standard output': File too large\n", "file size limit"),
])
def test_diagnose_reads_what_a_shell_says_of_a_child_a_limit_stopped(stderr, expected):
    from governed_agents.runtime._run import _diagnose
    assert _diagnose(0, stderr, False, RuntimeLimits(max_cpu_time=1, max_file_size=1000)) == expected


async def test_a_failing_program_shows_the_traceback_plain_python_shows(tmp_path, marker):
    code = f"# {marker}\ndef f():\n    raise ValueError('boom')\nf()\n"
    report = await run_code(code, "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.exit_code == 1
    lines = report.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):" and lines[-1] == "ValueError: boom"
    assert "_launcher" not in report.stderr and len([x for x in lines if x.startswith("  File ")]) == 2


@pytest.mark.parametrize("readable", [("/",), ()])
def test_an_interpreter_under_tmp_is_brought_back_into_the_private_tmp(tmp_path, readable):
    # a fresh clone in `mktemp -d` has its virtualenv under /tmp, which the sandbox's private /tmp hides
    from governed_agents.runtime._view import build_view

    argv = build_view(RuntimeLimits(readable_paths=readable), tmp_path, interpreter=["/tmp/clone/.venv"]).argv
    tmpfs, venv, work = argv.index("/tmp"), argv.index("/tmp/clone/.venv"), argv.index(str(tmp_path))
    assert argv[tmpfs - 1] == "--tmpfs" and argv[venv - 1] == "--ro-bind" and tmpfs < venv < work


def test_a_process_that_ends_right_after_its_runs_leaves_no_cgroup_behind(tmp_path):
    import glob
    import sys

    script = ("import os, sys\nfrom governed_agents.policy import RuntimeLimits\n"
              "from governed_agents.runtime import run_code_sync\nfor _ in range(3):\n"
              "    run_code_sync('print(1)', 'python', RuntimeLimits(max_memory=300_000_000), work_dir=sys.argv[1])\n"
              "print(os.getpid())\n")
    for _ in range(5):  # the daemon thread's removal was cut short in about one exit in four
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        pid = done.stdout.split()[-1]
        left = glob.glob(f"/sys/fs/cgroup/governed-{pid}-*") + glob.glob(f"/sys/fs/cgroup/*/governed-{pid}-*")
        assert left == [], left
