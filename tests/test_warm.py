"""The warm server (governed_agents/_cli/_warm_client.py, _warm_server.py): a command it serves
prints and exits exactly as the same command run cold; signals reach the command; a client or a
server that dies takes the command with it; a change on disk that could alter an import retires
the server; and a socket directory other users can reach is never used.

Each test's commands share one environment (the server's key) and a private server directory;
the lock file beside each socket says "PID COUNT" (the server and the commands it has started),
which is how a test knows a command was served warm and not run cold.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from governed_agents._cli import _warm_client, _warm_server

ROOT = Path(__file__).resolve().parents[1]
BROAD = ROOT / "policies" / "examples" / "broad.policy"
SEED = ROOT / "policies" / "seed.policy"
LOOP = 'print("start", flush=True)\nx = 0\nwhile True:\n    x += 1\n'

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm server is Linux-only")


class Warm:
    """Commands run as ``python -m governed_agents.cli …`` in ``cwd`` with one fixed environment."""

    def __init__(self, cwd: Path, servers: Path) -> None:
        self.cwd = cwd
        self.servers = servers
        self.sandbox = cwd.parent / "sandbox"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GOVERNED_AGENTS_SERVER"))}
        self.env["GOVERNED_AGENTS_SERVER_DIR"] = str(servers)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "governed_agents.cli", *args]

    def run(self, *args: str, cold: bool = False, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = dict(self.env, GOVERNED_AGENTS_SERVER="0") if cold else self.env
        return subprocess.run(self.argv(*args), cwd=self.cwd, env=env, input=stdin, capture_output=True, text=True,
                              timeout=120, check=False)

    def start(self, *args: str, cold: bool = False) -> subprocess.Popen[str]:
        env = dict(self.env, GOVERNED_AGENTS_SERVER="0") if cold else self.env
        return subprocess.Popen(self.argv(*args), cwd=self.cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def loop(self) -> tuple[str, ...]:
        """A ``run`` of a program that never ends, in a work dir only it uses."""
        return ("run", "--policy", str(SEED), "--agent", "agent_sandbox", "--work-dir", str(self.sandbox), "loop.py")

    def lock(self) -> tuple[int, int] | None:
        """(server pid, commands served) of the one server in the directory, if any."""
        locks = sorted(self.servers.glob("*.sock.lock"))
        for lock in locks:
            fields = lock.read_text().split()
            if len(fields) == 2 and (self.servers / lock.name.removesuffix(".lock")).exists():
                return int(fields[0]), int(fields[1])
        return None

    def up(self) -> tuple[int, int]:
        """Start a server (a cold command starts it) and wait until it listens."""
        self.run("check", "--policy", str(BROAD), "--agent", "broad", "-", stdin="pass\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = self.lock()
            if found is not None:
                return found
            time.sleep(0.1)
        raise AssertionError("no warm server came up within 60 s")

    def stop(self) -> None:
        found = self.lock()
        if found is not None:
            _end(found[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _sandboxes(work_dir: Path) -> list[int]:
    """Live bubblewrap processes running code in ``work_dir`` (the sandboxed program is their
    child, in their pid namespace, and dies with them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = entry.joinpath("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"bwrap") and os.fsencode(work_dir) in b"\0".join(argv) and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _wait_until(condition: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def warm(tmp_path: Path) -> Iterator[Warm]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "ok.py").write_text("import math\nprint(math.factorial(6))\n")
    (work / "bad.py").write_text("import os\nos.system('rm -rf /data')\n")
    (work / "broken.py").write_text("def (:\n")
    (work / "run.sh").write_text("ls /etc | head -n 2\n")
    (work / "loop.py").write_text(LOOP)
    servers = tmp_path / "servers"
    session = Warm(work, servers)
    try:
        yield session
    finally:
        session.stop()


PARITY = [
    ("check", "--policy", str(BROAD), "--agent", "broad", "ok.py"),
    ("check", "--policy", str(BROAD), "--agent", "broad", "bad.py", "broken.py", "run.sh"),
    ("check", "--policy", str(BROAD), "--agent", "broad", "--json", "."),
    ("check", "--policy", str(BROAD), "--agent", "nobody", "ok.py"),
    ("check", "--policy", "missing.policy", "--agent", "broad", "ok.py"),
    ("check", "--policy", str(BROAD), "--agent", "broad", "no-such-file.py"),
    ("check", "--bogus"),
    ("check", "--help"),
    ("analyze", "--json", "ok.py", "run.sh"),
    ("analyze", "bad.py"),
    ("run", "--policy", str(SEED), "--agent", "agent_sandbox", "ok.py"),
]


def test_a_served_command_prints_and_exits_as_a_cold_one(warm: Warm) -> None:
    server, served = warm.up()
    for args in PARITY:
        cold = warm.run(*args, cold=True)
        hot = warm.run(*args)
        assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr), args
        served += 1
        assert warm.lock() == (server, served), f"{args} was not served by the warm server"
    # standard input is the client's own
    cold = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "-", cold=True, stdin="import os\nos.remove('/etc/x')\n")
    hot = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "-", stdin="import os\nos.remove('/etc/x')\n")
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert hot.returncode == 1 and "DENIED" in hot.stdout
    assert warm.lock() == (server, served + 1)


def test_a_receipt_written_by_a_served_command_lands_in_the_clients_directory(warm: Warm) -> None:
    server, served = warm.up()
    done = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "--receipts", "log.db", "ok.py")
    assert done.returncode == 0, done.stderr
    assert (warm.cwd / "log.db").is_file()
    assert warm.lock() == (server, served + 1)


def test_ctrl_c_reaches_the_served_command_as_it_reaches_a_cold_one(warm: Warm) -> None:
    server, served = warm.up()
    outcomes = []
    for cold in (True, False):
        client = warm.start(*warm.loop(), cold=cold)
        assert _wait_until(lambda: _sandboxes(warm.sandbox)), "the sandboxed program never started"
        time.sleep(0.3)
        client.send_signal(signal.SIGINT)
        out, _ = client.communicate(timeout=60)
        outcomes.append((client.returncode, out))
        assert _wait_until(lambda: not _sandboxes(warm.sandbox)), "the program outlived Ctrl-C"
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == 130
    assert warm.lock() == (server, served + 1)


def test_a_client_that_dies_takes_its_command_with_it(warm: Warm) -> None:
    server, served = warm.up()
    client = warm.start(*warm.loop())
    assert _wait_until(lambda: _sandboxes(warm.sandbox)), "the sandboxed program never started"
    assert warm.lock() == (server, served + 1)
    client.kill()
    client.communicate(timeout=30)
    assert _wait_until(lambda: not _sandboxes(warm.sandbox)), "the command outlived its client"
    assert _alive(server)


def test_a_server_that_dies_mid_command_is_no_approval(warm: Warm) -> None:
    server, served = warm.up()
    client = warm.start(*warm.loop())
    assert _wait_until(lambda: _sandboxes(warm.sandbox)), "the sandboxed program never started"
    assert warm.lock() == (server, served + 1)
    os.kill(server, signal.SIGKILL)
    _, err = client.communicate(timeout=60)
    assert client.returncode == 2
    assert "outcome is unknown" in err
    assert _wait_until(lambda: not _sandboxes(warm.sandbox)), "the command outlived its server"


def test_a_file_that_would_shadow_an_import_retires_the_server(warm: Warm) -> None:
    server, _ = warm.up()
    # `python -m` puts the working directory first on sys.path: a cold run would import this file
    (warm.cwd / "libcst.py").write_text("raise ImportError('shadowed libcst')\n")
    args = ("check", "--policy", str(BROAD), "--agent", "broad", "ok.py")
    hot = warm.run(*args)
    cold = warm.run(*args, cold=True)
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert "shadowed libcst" in cold.stdout and cold.returncode == 1  # fails closed: denied
    assert _wait_until(lambda: not _alive(server)), "a stale server stayed up"


def test_a_changed_module_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "warm_probe_module.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("warm_probe_module")
    try:
        world = _warm_server._World()
        assert not world.changed()
        module.write_text("X = 22\n")
        assert world.changed()
    finally:
        sys.modules.pop("warm_probe_module", None)


def test_a_socket_directory_others_can_reach_is_never_used(warm: Warm) -> None:
    warm.servers.mkdir(mode=0o755)
    os.chmod(warm.servers, 0o755)
    done = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "ok.py")
    assert done.returncode == 0 and "APPROVED" in done.stdout  # ran cold
    time.sleep(1)
    assert not list(warm.servers.iterdir()), "a server was started in a shared directory"


def test_the_key_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _warm_client.server_key()
    monkeypatch.setenv("GOVERNED_AGENTS_PROBE", "1")
    assert _warm_client.server_key() != before
    monkeypatch.setenv("PWD", "/elsewhere")  # where the shell was is not part of it
    changed = _warm_client.server_key()
    monkeypatch.setenv("PWD", "/somewhere-else")
    assert _warm_client.server_key() == changed


def test_switched_off_it_runs_cold(warm: Warm) -> None:
    done = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "ok.py", cold=True)
    assert done.returncode == 0
    time.sleep(1)
    assert not warm.servers.exists() or not list(warm.servers.iterdir())
