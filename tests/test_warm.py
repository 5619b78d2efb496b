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

from governed_agents._cli import _warm_client

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
        """End every server in the directory (a client confined otherwise starts its own)."""
        for lock in self.servers.glob("*.sock.lock"):
            fields = lock.read_text().split()
            if fields and _is_server(int(fields[0])):  # a lock outlives its server, whose pid may be reused
                _end(int(fields[0]))


def _is_server(pid: int) -> bool:
    try:
        return b"_warm_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


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


WAIT = ('import os, time\nprint("waiting", flush=True)\nwhile not os.path.exists("go"):\n    time.sleep(0.05)\n'
        'print("done")\nraise SystemExit(3)\n')
WAITER = ('agent "waiter" {\n  can "code_execution" with constraints {\n    allowed_imports: ["os", "time"]\n'
          '    allowed_file_operations: ["read"]\n    max_execution_time: 60_seconds\n  }\n}\n')


def test_a_retiring_server_makes_way_for_a_new_one_while_its_commands_finish(warm: Warm) -> None:
    """A server that retires (here: it finds the world stale) while a long command runs in it
    gives up its socket's name and its lock at once: the next command starts a new server, which
    serves the one after while the old server still runs its command; the old server's exit
    leaves the new one's socket in place; the long command ends as it would have cold."""
    old, served = warm.up()
    (warm.cwd / "wait.py").write_text(WAIT)
    (warm.cwd / "waiter.policy").write_text(WAITER)
    long = ("run", "--policy", "waiter.policy", "--agent", "waiter", "--work-dir", str(warm.sandbox), "wait.py")
    client = warm.start(*long)
    try:
        assert _wait_until(lambda: _sandboxes(warm.sandbox)), "the long command never started"
        assert warm.lock() == (old, served + 1)
        # an entry that could shadow an import (harmless: an empty sitecustomize): the server is stale
        (warm.cwd / "sitecustomize.py").write_text("# changes nothing\n")
        args = ("check", "--policy", str(BROAD), "--agent", "broad", "ok.py")
        cold = warm.run(*args, cold=True)
        outcome = (cold.returncode, cold.stdout, cold.stderr)
        assert cold.returncode == 0 and "APPROVED" in cold.stdout, outcome
        noticed = warm.run(*args)  # answered "stale": runs cold, and the old server retires
        starter = warm.run(*args)  # finds no server: runs cold, and starts one
        for done in (noticed, starter):
            assert (done.returncode, done.stdout, done.stderr) == outcome
        assert _wait_until(lambda: (warm.lock() or (old, 0))[0] != old, 60), \
            "no new server came up while the retiring one finishes its command"
        found = warm.lock()
        assert found is not None
        new = found[0]
        assert found == (new, 0)
        assert _alive(old) and client.poll() is None, "the old server or its command ended early"
        sockets = list(warm.servers.glob("*.sock"))
        assert len(sockets) == 1, sockets  # the new server's: the old one's name is gone
        bound = sockets[0].stat().st_ino
        hot = warm.run(*args)
        assert (hot.returncode, hot.stdout, hot.stderr) == outcome
        assert warm.lock() == (new, 1), "not served warm by the new server"
        assert _alive(old) and client.poll() is None
        (warm.sandbox / "go").write_text("")
        out, err = client.communicate(timeout=60)
        assert (client.returncode, out, err) == (3, "waiting\ndone\n", "")
        assert _wait_until(lambda: not _alive(old)), "the retired server outlived its last command"
        assert sockets[0].exists() and sockets[0].stat().st_ino == bound, \
            "the old server's exit removed the new server's socket"
        hot = warm.run(*args)
        assert (hot.returncode, hot.stdout, hot.stderr) == outcome
        assert warm.lock() == (new, 2), "not served warm by the new server after the old one exited"
        again = warm.run(*long, cold=True)  # "go" is there: the same command cold ends at once
        assert (again.returncode, again.stdout, again.stderr) == (client.returncode, out, err)
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate(timeout=60)


WORLD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import warm_probe_package.sub
from governed_agents._cli._warm_server import _World
world = _World()
assert not world.changed(), "changed before anything changed"
change = sys.argv[2]
if change == "module":
    Path(sys.argv[1], "warm_probe_package", "sub.py").write_text("X = 22\\n")
else:  # a package directory `sub/` would now be imported before sub.py
    Path(sys.argv[1], "warm_probe_package", "sub").mkdir()
    Path(sys.argv[1], "warm_probe_package", "sub", "__init__.py").write_text("X = 2\\n")
print("seen" if world.changed() else "missed")
"""


@pytest.mark.parametrize("change", ["module", "package"])
def test_a_changed_module_or_a_new_entry_in_a_package_is_seen(tmp_path: Path, change: str) -> None:
    """In a process of its own, as the server is (the test process's own files move under it)."""
    package = tmp_path / "warm_probe_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sub.py").write_text("X = 1\n")
    done = subprocess.run([sys.executable, "-c", WORLD, str(tmp_path), change], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.strip() == "seen", done.stdout + done.stderr


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


ESCAPE = '''
import glob, os, socket, struct
key_sock = glob.glob(SERVERS + "/*.sock")[0]
key = os.path.basename(key_sock)[:-5]
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(key_sock)
code_in, code_out = socket.socketpair()
code_in.sendall(f"open({MARKER!r}, 'w').write('written outside the sandbox')\\n".encode())
code_in.shutdown(socket.SHUT_WR)
argv = ["run", "--policy", POLICY, "--agent", "anything", "-"]
fields = ["v1", key, "22", "governed-agents", "", str(len(argv)), *argv, "PATH=/usr/bin:/bin"]
payload = "\\0".join(fields).encode()
where = os.open(SERVERS, os.O_RDONLY)
try:
    conn.sendmsg([struct.pack("!Q", len(payload)) + payload],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("4i", code_out.fileno(), 1, 2, where))])
    reply = b""
    while chunk := conn.recv(100):  # to the end: a client that leaves takes its command with it
        reply += chunk
    print("reply:", reply)
except OSError as exc:
    print("refused:", exc)
'''


def _escape(warm: Warm) -> tuple[Path, Path]:
    """escape.py: connect to the server's socket and ask for a `run` under a policy that allows
    anything, writing a marker file; (the script, the marker)."""
    marker = warm.cwd / "PWNED"
    anything = warm.cwd / "anything.policy"
    anything.write_text('agent "anything" {\n  can "code_execution" with constraints {\n'
                        '    allowed_imports: ["*"]\n    allowed_file_operations: ["read", "write"]\n'
                        '    allowed_file_paths: ["/"]\n  }\n}\n')
    script = warm.cwd / "escape.py"
    script.write_text(f"SERVERS = {str(warm.servers)!r}\nMARKER = {str(marker)!r}\n"
                      f"POLICY = {str(anything)!r}\n" + ESCAPE)
    return script, marker


def _unshared(warm: Warm, *argv: str) -> subprocess.CompletedProcess[str]:
    """``argv`` run in a network namespace of its own (same user, same files): confined otherwise."""
    if subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False).returncode != 0:
        pytest.fail("unshare --net is not permitted here (the test needs a process confined otherwise)")
    return subprocess.run(["unshare", "--net", *argv], cwd=warm.cwd, env=warm.env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_code_in_a_sandbox_cannot_reach_the_socket(warm: Warm) -> None:
    """A policy granting network and the server directory: the sandboxed code cannot even make the
    AF_UNIX socket (seccomp), so the socket is no way out of the sandbox."""
    server, served = warm.up()
    script, marker = _escape(warm)
    net = warm.cwd / "net.policy"
    net.write_text('agent "net" {\n  can "code_execution" with constraints {\n    allowed_imports: ["*"]\n'
                   '    allowed_file_operations: ["read", "write"]\n'
                   f'    allowed_file_paths: ["{warm.servers}"]\n'
                   '    allowed_network_destinations: ["*"]\n    max_execution_time: 30_seconds\n  }\n}\n')
    done = warm.run("run", "--policy", str(net), "--agent", "net", script.name, cold=True)
    assert done.returncode == 1 and "PermissionError" in done.stderr, done.stdout + done.stderr
    assert not marker.exists()
    assert warm.lock() == (server, served)


def test_a_peer_confined_otherwise_is_refused(warm: Warm) -> None:
    """Were a process in other namespaces (a sandbox, `unshare`) served, the copy would run its
    `run` with the server's: here one that names a policy allowing anything. The server compares
    every peer's confinement with its own and closes the connection without a pid."""
    server, served = warm.up()
    script, marker = _escape(warm)
    done = _unshared(warm, sys.executable, str(script))
    assert "refused:" in done.stdout or "reply: b''" in done.stdout, done.stdout + done.stderr
    time.sleep(1)
    assert not marker.exists()
    assert warm.lock() == (server, served)


def test_a_client_confined_otherwise_is_not_served_by_this_server(warm: Warm) -> None:
    """A client under `unshare --net` (another network namespace) gets its own server, or runs
    cold, and never this server's copy with this server's network."""
    server, served = warm.up()
    probe = warm.cwd / "ifs.py"
    probe.write_text("print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]))\n")
    args = ("run", "--policy", str(SEED), "--agent", "agent_admin", "ifs.py")
    inside = _unshared(warm, *warm.argv(*args))
    assert warm.lock() == (server, served)
    warm.env["GOVERNED_AGENTS_SERVER"] = "0"
    cold = _unshared(warm, *warm.argv(*args))
    assert (inside.returncode, inside.stdout) == (cold.returncode, cold.stdout)
    assert inside.stdout.strip() == "['lo']", inside.stdout + inside.stderr  # its own network, not the server's


def test_many_clients_at_once_are_all_served(warm: Warm) -> None:
    server, served = warm.up()
    loop = ("for i in $(seq 8); do " + " ".join(warm.argv("check", "--policy", str(BROAD), "--agent", "broad",
                                                          "ok.py")) + " >/dev/null || echo failed $?; done")
    clients = [subprocess.Popen(["bash", "-c", loop], cwd=warm.cwd, env=warm.env, stdout=subprocess.PIPE,
                                text=True) for _ in range(6)]
    outputs = [client.communicate(timeout=120)[0] for client in clients]
    assert outputs == [""] * 6, outputs
    assert warm.lock() == (server, served + 48)


def test_the_server_keeps_no_descriptor_of_the_client_that_started_it(warm: Warm) -> None:
    """`out=$(governed-agents check … 3>&1 >/dev/null)`: the first command starts the server; a
    descriptor it inherited would keep the reader of that pipe waiting for the server's exit."""
    read, write = os.pipe()
    client = subprocess.Popen(warm.argv("check", "--policy", str(BROAD), "--agent", "broad", "ok.py"),
                              cwd=warm.cwd, env=warm.env, stdout=subprocess.DEVNULL, pass_fds=(write,))
    os.close(write)
    client.wait(timeout=120)
    assert _wait_until(lambda: warm.lock() is not None, 60), "no server started"
    os.set_blocking(read, False)
    try:
        assert _wait_until(lambda: _eof(read), 10), "the server holds the client's pipe open"
    finally:
        os.close(read)


def _eof(fd: int) -> bool:
    try:
        return os.read(fd, 1) == b""
    except BlockingIOError:
        return False


def test_a_command_reading_a_terminal_runs_cold(warm: Warm) -> None:
    """A copy of the server is in no terminal's session: job control (SIGTTIN, the shell taking
    the terminal back) could not reach it. With a terminal as standard input, `-` runs cold."""
    server, served = warm.up()
    leader, follower = os.openpty()
    try:
        os.write(leader, b"print(1)\n\x04")
        client = subprocess.Popen(warm.argv("check", "--policy", str(BROAD), "--agent", "broad", "-"),
                                  cwd=warm.cwd, env=warm.env, stdin=follower, stdout=subprocess.PIPE, text=True)
        out, _ = client.communicate(timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    assert "-: APPROVED" in out
    assert warm.lock() == (server, served)


def test_a_new_sitecustomize_or_a_shadowing_package_retires_the_server(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    session = Warm(tmp_path / "work", tmp_path / "servers")
    session.cwd.mkdir()
    (session.cwd / "ok.py").write_text("print(1)\n")
    session.env["PYTHONPATH"] = str(hooks)
    try:
        server, _ = session.up()
        (hooks / "sitecustomize.py").write_text("import sys\nprint('customized', file=sys.stderr)\n")
        args = ("check", "--policy", str(BROAD), "--agent", "broad", "ok.py")
        hot, cold = session.run(*args), session.run(*args, cold=True)
        assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
        assert "customized" in cold.stderr
        assert _wait_until(lambda: not _alive(server)), "a stale server stayed up"
    finally:
        session.stop()


IMPOSTOR = '''
import os, socket, time
os.unlink(SOCKET)
fake = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
fake.bind(SOCKET)
fake.listen(1)
fake.settimeout(60)
try:
    conn, _ = fake.accept()
    conn.recv(1 << 20)
    conn.sendall(b"pid 1\\nexit 0\\n")
    time.sleep(1)
except OSError:
    pass
'''


def _a_denial_stays_a_denial(warm: Warm, sock: Path, before: int, impostor_argv: list[str],
                             env: dict[str, str]) -> None:
    """With ``impostor_argv`` bound in the server's place (its socket no longer inode ``before``),
    a check of a denied file is still denied: the client does not believe the impostor."""
    impostor = subprocess.Popen(impostor_argv, cwd=warm.cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        if not _wait_until(lambda: sock.exists() and sock.stat().st_ino != before, 60):
            impostor.kill()
            raise AssertionError(f"the impostor never bound: {impostor.communicate(timeout=60)}")
        done = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "bad.py")
        assert done.returncode == 1 and "DENIED" in done.stdout, (done.returncode, done.stdout, done.stderr)
    finally:
        impostor.kill()
        impostor.communicate(timeout=60)


def test_a_socket_put_in_the_servers_place_by_a_process_confined_otherwise_is_not_believed(warm: Warm) -> None:
    """A process in another network namespace that may write the server directory replaces the
    socket with its own and answers "exit 0" for anything: the client checks the listener's
    confinement before it sends a byte, and runs cold (a denial stays a denial)."""
    warm.up()
    sock = next(warm.servers.glob("*.sock"))
    before = sock.stat().st_ino
    (warm.cwd / "impostor.py").write_text(f"SOCKET = {str(sock)!r}\n" + IMPOSTOR)
    if subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False).returncode != 0:
        pytest.fail("unshare --net is not permitted here (the test needs a process confined otherwise)")
    _a_denial_stays_a_denial(warm, sock, before, ["unshare", "--net", sys.executable, "impostor.py"], warm.env)


def test_a_closed_standard_stream_is_closed_for_the_command_too(warm: Warm) -> None:
    """With stdout or stderr closed, the client's socket must not take its number (the command's
    output would go to the server as forwarded signals)."""
    server, served = warm.up()
    command = " ".join(warm.argv("check", "--policy", str(BROAD), "--agent", "broad", "ok.py"))
    for closing in (">&-", "2>&-"):
        results = []
        for switch in ("0", "1"):
            done = subprocess.run(["bash", "-c", f"{command} {closing}; echo rc=$?"], cwd=warm.cwd,
                                  env=dict(warm.env, GOVERNED_AGENTS_SERVER=switch), capture_output=True,
                                  text=True, timeout=120, check=False)
            results.append(done.stdout.splitlines()[-1] if done.stdout else done.stderr)
        assert results[0] == results[1], (closing, results)
    assert warm.lock() == (server, served)  # run cold both times


def test_the_server_does_not_inherit_its_starters_signal_state(warm: Warm) -> None:
    """A first command started with SIGALRM and SIGTERM ignored (a supervisor, nohup) starts a
    server that ignores neither: its copies would inherit that, and SIGTERM must stop it. (Each
    copy then ignores what its own client ignores.)"""
    starter = warm.cwd / "starter.py"
    starter.write_text("import os, signal, sys\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                       "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nos.execv(sys.executable, sys.argv[1:])\n")
    subprocess.run([sys.executable, str(starter), *warm.argv("check", "--policy", str(BROAD), "--agent", "broad",
                                                              "ok.py")], cwd=warm.cwd, env=warm.env,
                   capture_output=True, timeout=120, check=False)
    assert _wait_until(lambda: warm.lock() is not None, 60), "no server started"
    found = warm.lock()
    assert found is not None
    status = dict(line.split(":", 1) for line in Path(f"/proc/{found[0]}/status").read_text().splitlines())
    assert int(status["SigBlk"], 16) == 0
    ignored = int(status["SigIgn"], 16)
    assert not ignored & (1 << (signal.SIGALRM - 1)) and not ignored & (1 << (signal.SIGTERM - 1))
    _end(found[0])
    assert not _alive(found[0]), "SIGTERM did not stop the server"


def test_a_client_with_signals_blocked_is_not_served_by_a_server_without(warm: Warm) -> None:
    server, served = warm.up()
    starter = warm.cwd / "blocker.py"
    starter.write_text("import os, signal, sys\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})\n"
                       "os.execv(sys.executable, sys.argv[1:])\n")
    args = ("check", "--policy", str(BROAD), "--agent", "broad", "bad.py")
    done = subprocess.run([sys.executable, str(starter), *warm.argv(*args)], cwd=warm.cwd, env=warm.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "DENIED" in done.stdout
    assert warm.lock() == (server, served)


FORGED = '''
import os, resource, socket, struct
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # confined otherwise: a smaller file size limit
path = [os.path.join(SERVERS, n) for n in os.listdir(SERVERS) if n.endswith(".sock")][0]
key = os.path.basename(path)[:-5]
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(path)
pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
secret_read, secret_write = os.pipe()  # the challenge, answered honestly: only the nonce or the limits refuse
os.write(secret_write, b"s" * 16)
try:
    conn.sendall(f"challenge {secret_read}\\n".encode())
    print("challenge answered:", conn.recv(64))
except OSError as exc:
    print("refused:", exc)
    raise SystemExit
nonce = [v.split(b"=", 1)[1].decode() for v in open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
         if v.startswith(b"GOVERNED_AGENTS_SERVER_NONCE=")][0]
if BOGUS:
    nonce = "0" * len(nonce)
argv = ["check", "--policy", POLICY, "--agent", "broad", "ok.py"]
fields = ["v1", key, nonce, "22", "governed-agents", "", str(len(argv)), *argv, "PATH=/usr/bin:/bin"]
payload = "\\0".join(fields).encode()
where = os.open(".", os.O_RDONLY)
try:
    conn.sendmsg([struct.pack("!Q", len(payload)) + payload],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("4i", 0, 1, 2, where))])
    reply = b""
    while chunk := conn.recv(100):
        reply += chunk
    print("reply:", reply)
except OSError as exc:
    print("refused:", exc)
'''


@pytest.mark.parametrize("bogus", [True, False], ids=["wrong nonce", "other rlimits"])
def test_a_forged_request_is_refused(warm: Warm, bogus: bool) -> None:
    """A request with the socket's name as its key is still refused from a process whose limits
    differ (its command would run without them), or without the server's nonce."""
    server, served = warm.up()
    script = warm.cwd / "forged.py"
    script.write_text(f"SERVERS = {str(warm.servers)!r}\nPOLICY = {str(BROAD)!r}\nBOGUS = {bogus}\n" + FORGED)
    done = subprocess.run([sys.executable, str(script)], cwd=warm.cwd, env=warm.env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert "refused:" in done.stdout or "reply: b''" in done.stdout, done.stdout + done.stderr
    assert warm.lock() == (server, served)


def test_a_slow_client_delays_others_by_seconds_at_most(warm: Warm) -> None:
    server, served = warm.up()
    import socket as socket_module

    path = next(warm.servers.glob("*.sock"))
    slow = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
    slow.connect(str(path))
    slow.send(b"\0")  # and then nothing
    try:
        started = time.monotonic()
        done = warm.run("check", "--policy", str(BROAD), "--agent", "broad", "ok.py")
        assert done.returncode == 0 and "APPROVED" in done.stdout, done.stderr
        assert time.monotonic() - started < 30
        assert warm.lock() == (server, served + 1)
    finally:
        slow.close()


def test_a_symlinked_server_directory_is_not_used(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    assert _warm_client.opened(str(real)) is not None
    assert _warm_client.opened(str(tmp_path / "link")) is None


LANDLOCK = '''
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = struct.pack("Q", 1 << 11)  # handles only MAKE_BLOCK: a domain that blocks nothing this test needs
ruleset = libc.syscall(444, ctypes.create_string_buffer(attr), len(attr), 0)  # landlock_create_ruleset
# root needs no no_new_privs for it (and with it would differ from the client's confinement)
if ruleset < 0 or (os.getuid() != 0 and libc.prctl(38, 1, 0, 0, 0) != 0) or libc.syscall(446, ruleset, 0) != 0:
    sys.exit(f"landlock: {os.strerror(ctypes.get_errno())}")
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
'''

LANDLOCKED_IMPOSTOR = '''
import os, socket, struct, time
os.unlink(SOCKET)
fake = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
fake.bind(SOCKET)
fake.listen(1)
fake.settimeout(60)
conn, _ = fake.accept()
first = conn.recv(1 << 20)
if first.startswith(b"challenge"):  # its best try at the challenge, then the request
    pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    try:
        answer = os.read(os.open(f"/proc/{pid}/fd/{int(first.split()[1])}", os.O_RDONLY | os.O_NONBLOCK), 16).hex()
    except OSError:
        answer = "0" * 32
    conn.sendall(answer.encode() + b"\\n")
    conn.recv(1 << 20)
conn.sendall(b"pid 1\\nexit 0\\n")
time.sleep(1)
'''


def test_a_landlocked_impostor_is_not_believed(warm: Warm) -> None:
    """Landlock shows nowhere in /proc and a Landlock domain may set its own nonce: an impostor
    in one passes the listener's confinement and nonce checks. It cannot read the client's
    /proc/<pid>/fd (Landlock denies inspecting a process outside the domain), so it fails the
    challenge, and a denial stays a denial."""
    warm.up()
    sock = next(warm.servers.glob("*.sock"))
    before = sock.stat().st_ino
    (warm.cwd / "landlock.py").write_text(LANDLOCK)
    (warm.cwd / "impostor.py").write_text(f"SOCKET = {str(sock)!r}\n" + LANDLOCKED_IMPOSTOR)
    _a_denial_stays_a_denial(warm, sock, before, [sys.executable, "landlock.py", "impostor.py"],
                             dict(warm.env, GOVERNED_AGENTS_SERVER_NONCE="ab" * 16))
