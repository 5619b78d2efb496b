"""Six escapes an attacker found with every layer active and dynamic code allowed (so that only the
runtime stands in the way). Each is a regression test: it ran on the runtime before the filesystem
view, the memory cgroup and the ptrace/AF_UNIX rules, and must never work again.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import uuid
from pathlib import Path

from governed_agents.policy import RuntimeLimits, parse_policy
from governed_agents.runtime import available_layers, run_code

DYNAMIC = RuntimeLimits(allow_dynamic_code=True, max_execution_time=60)


def every_layer_active(report) -> None:
    assert set(report.layers.values()) == {"active"}, report.layers


def limits_of(policy_text: str, agent: str = "attacker") -> RuntimeLimits:
    """The limits a real policy evaluation hands the runtime."""
    from governed_agents.analysis import analyze

    policy = parse_policy(policy_text)
    return policy.evaluate(analyze("print(1)\n"), executor=agent).limits


def test_every_layer_is_active_here():
    assert set(available_layers().values()) == {"active"}, available_layers()


async def test_1_the_host_never_writes_the_next_run_s_code_through_a_symlink_the_code_planted(tmp_path):
    target = Path("/var/tmp") / f"governed-escape-{uuid.uuid4().hex[:8]}"
    victim_code = f"print('next run {target.name}')\n"
    digest = hashlib.sha256(victim_code.encode()).hexdigest()[:16]
    planter = (f"import os\nfor suffix in ('py', 'sh'):\n"
               f"    os.symlink({str(target)!r}, 'governed_{digest}.' + suffix)\nprint('planted')\n")
    try:
        report = await run_code(planter, "python", DYNAMIC, work_dir=tmp_path)
        every_layer_active(report)
        assert report.stdout == "planted\n", report.output
        report = await run_code(victim_code, "python", DYNAMIC, work_dir=tmp_path)
        assert report.stdout == f"next run {target.name}\n", report.output
        assert not target.exists(), "the host wrote the run's code through the planted symlink"
    finally:
        target.unlink(missing_ok=True)


PTRACE_EVERYONE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
me = os.getpid()
for entry in sorted(os.listdir('/proc'), key=lambda e: (len(e), e)):
    if not entry.isdigit():
        continue
    pid = int(entry)
    try:
        status = open(f'/proc/{pid}/status').read()
        groups = open(f'/proc/{pid}/cgroup').read()
    except OSError:
        continue
    seccomp = [line.split()[1] for line in status.splitlines() if line.startswith('Seccomp:')][0]
    pids_line = [line for line in groups.splitlines() if ':pids:' in line][0]
    attached = pid != me and libc.ptrace(16, pid, 0, 0) == 0   # PTRACE_ATTACH
    print(pid, 'filtered' if seccomp == '2' else 'UNFILTERED', 'held' if 'governed-' in pids_line else 'OUTSIDE',
          'TRACED' if attached else 'untraced')
local = (ctypes.c_char * 8)()
iov = (ctypes.c_void_p * 2)(ctypes.addressof(local), 8)
print('process_vm_readv', libc.process_vm_readv(1, iov, 1, iov, 1, 0))
"""


async def test_2_no_process_in_the_sandbox_runs_without_the_filter_or_outside_the_cgroup_or_can_be_traced(tmp_path):
    report = await run_code(PTRACE_EVERYONE, "python", DYNAMIC, work_dir=tmp_path)
    every_layer_active(report)
    lines = report.stdout.splitlines()
    assert len(lines) >= 2, report.output
    processes = lines[:-1]
    assert all(line.split()[1:] == ["filtered", "held", "untraced"] for line in processes), report.stdout
    assert lines[-1] == "process_vm_readv -1", report.stdout


async def test_3_a_module_planted_in_the_work_dir_never_shadows_the_standard_library(tmp_path):
    planter = "open('json.py', 'w').write(\"print('SHADOWED')\\n\")\nprint('planted')\n"
    report = await run_code(planter, "python", DYNAMIC, work_dir=tmp_path)
    every_layer_active(report)
    assert report.stdout == "planted\n", report.output
    report = await run_code("import json\nprint(json.dumps([1]))\n", "python", RuntimeLimits(), work_dir=tmp_path)
    assert report.stdout == "[1]\n", report.output
    # the developer's own module in the work dir (the stock executor's functions=) stays importable
    (tmp_path / "functions.py").write_text("def answer():\n    return 42\n")
    report = await run_code("from functions import answer\nprint(answer())\n", "python", RuntimeLimits(),
                            work_dir=tmp_path)
    assert report.stdout == "42\n", report.output


class UnixServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.received = b""
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(100)

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()
        self.path.unlink(missing_ok=True)


CONNECT_UNIX_THROUGH_CTYPES = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(1, 1, 0)                       # AF_UNIX, SOCK_STREAM: no audit event
path = {path!r}.encode()
address = ctypes.create_string_buffer(110)
address[0:2] = (1).to_bytes(2, 'little')
address[2:2 + len(path)] = path
connected = fd >= 0 and libc.connect(fd, address, 110) == 0
sent = connected and libc.send(fd, b'owned', 5, 0) == 5
print('socket', fd >= 0, 'connected', connected, 'sent', sent)
"""


async def test_4_no_af_unix_connect_to_a_host_service_without_network(tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    server = UnixServer(work / "h.sock")  # where the code can see it: its own work dir
    try:
        code = CONNECT_UNIX_THROUGH_CTYPES.format(path=str(server.path))
        report = await run_code(code, "python", DYNAMIC, work_dir=work)
        every_layer_active(report)
        assert report.stdout.startswith("socket False"), report.output
        assert server.received == b""
    finally:
        server.close()


async def test_4b_no_af_unix_connect_to_a_host_service_with_network(tmp_path):
    """Network is a policy's destinations: a host service's socket that the view shows (a Docker
    or database socket under a readable path, a warm governed-agents server) is no way out either,
    even through a read-only bind, where connect() still works."""
    work = tmp_path / "w"
    work.mkdir()
    server = UnixServer(work / "h.sock")
    try:
        code = CONNECT_UNIX_THROUGH_CTYPES.format(path=str(server.path))
        limits = RuntimeLimits(allow_dynamic_code=True, network=True, max_execution_time=60)
        report = await run_code(code, "python", limits, work_dir=work)
        assert report.stdout.startswith("socket False"), report.output
        assert server.received == b""
        # what network code needs still works: an internet socket, and socketpair (asyncio, multiprocessing)
        report = await run_code("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM).close()\n"
                                "a, b = socket.socketpair()\na.sendall(b'x')\nprint(b.recv(1))\n",
                                "python", limits, work_dir=work)
        assert report.stdout == "b'x'\n", report.output
    finally:
        server.close()


FILL_RAM_BEYOND_THE_ADDRESS_SPACE = """
import os
chunk = b'x' * (4 << 20)
with open('/tmp/fill', 'wb') as handle:
    for _ in range(192):                         # 768 MiB in the private /tmp (tmpfs)
        handle.write(chunk)
fd = os.memfd_create('fill')
for _ in range(192):                             # and 768 MiB in a memfd
    os.write(fd, chunk)
print('held 1.5 GiB')
"""


async def test_5_max_memory_counts_tmpfs_and_memfd(tmp_path):
    limits = RuntimeLimits(allow_dynamic_code=True, max_memory=512 * 1024 * 1024, max_execution_time=60)
    report = await run_code(FILL_RAM_BEYOND_THE_ADDRESS_SPACE, "python", limits, work_dir=tmp_path)
    every_layer_active(report)
    assert "held" not in report.stdout, report.output
    assert report.limit_broken == "memory limit", report.output
    assert "stopped: memory limit" in report.stderr


READER = """
import os
for path in ('/etc/shadow', '/root/.bashrc', {outside!r}):
    try:
        open(path).read()
        print('read', path)
    except OSError as exc:
        print('refused', path, type(exc).__name__, exc)
try:
    print('listed /home', os.listdir('/home'))
except OSError as exc:
    print('refused /home', type(exc).__name__)
print('allowed', open({inside!r}).read().strip())
"""


async def test_6_reads_outside_allowed_file_paths_fail_at_run_time_naming_the_constraint(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ok.csv").write_text("ok\n")
    outside = tmp_path / "secret.txt"  # beside the allowed directory: readable on the host
    outside.write_text("secret\n")
    limits = limits_of(f"""agent "attacker" {{ can "code_execution" with constraints {{
        allowed_file_operations: ["read"], allowed_file_paths: ["{data}"], allow_dynamic_code: true }} }}""")
    work = tmp_path / "work"
    report = await run_code(READER.format(outside=str(outside), inside=str(data / "ok.csv")), "python", limits,
                            work_dir=work)
    every_layer_active(report)
    lines = report.stdout.splitlines()
    assert lines[-1] == "allowed ok", report.output
    for path in ("/etc/shadow", "/root/.bashrc", str(outside)):
        line = next(x for x in lines if path in x)
        assert line.startswith(f"refused {path} FileNotFoundError") and "allowed_file_paths" in line, line
    assert not any(x.startswith("listed /home") for x in lines), report.stdout


async def test_6_a_write_outside_the_writable_paths_fails_naming_the_constraint(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    target = Path("/var/tmp") / f"governed-escape-{uuid.uuid4().hex[:8]}"
    limits = limits_of(f"""agent "attacker" {{ can "code_execution" with constraints {{
        allowed_file_operations: ["read", "write"], allowed_file_paths: ["{data}"], allow_dynamic_code: true }} }}""")
    code = (f"import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"print('ctypes open', libc.open({str(target).encode()!r}, 0o101, 0o644))\n"  # O_WRONLY|O_CREAT
            f"try:\n    open({str(target)!r}, 'w').write('owned')\nexcept OSError as exc:\n    print('refused', exc)\n"
            f"open({str(data / 'out.txt')!r}, 'w').write('fine')\nprint('wrote inside')\n")
    try:
        report = await run_code(code, "python", limits, work_dir=tmp_path / "work")
        every_layer_active(report)
        assert "ctypes open -1" in report.stdout, report.output
        refused = next(x for x in report.stdout.splitlines() if x.startswith("refused"))
        assert "allowed_file_paths" in refused, refused
        assert "wrote inside" in report.stdout and (data / "out.txt").read_text() == "fine"
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def add_two(a: int, b: int) -> int:
    return a + b


async def test_1_the_stock_functions_module_is_never_written_through_a_planted_symlink(tmp_path):
    """The same class as escape 1, on the other host-side write into the work dir: the stock
    executor's functions= module (Path.write_text follows a link a previous run left there)."""
    import warnings

    from autogen_agentchat.messages import TextMessage
    from autogen_core import CancellationToken
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    from governed_agents import GovernedCodeExecutorAgent, Governor

    target = Path("/var/tmp") / f"governed-escape-{uuid.uuid4().hex[:8]}"
    work = tmp_path / "w"
    work.mkdir()
    report = await run_code(f"import os\nos.symlink({str(target)!r}, 'functions.py')\n", "python", DYNAMIC,
                            work_dir=work)  # a run before this agent started, in the same work dir
    assert (work / "functions.py").is_symlink(), report.output
    policy = tmp_path / "p.policy"
    policy.write_text('agent "ex" { can "code_execution" with constraints { allowed_imports: ["functions"] } }')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = LocalCommandLineCodeExecutor(work_dir=work, functions=[add_two])
    agent = GovernedCodeExecutorAgent("ex", stock, governor=Governor(policy, tmp_path / "r.db"))
    code = [TextMessage(content="```python\nfrom functions import add_two\nprint(add_two(2, 3))\n```", source="u")]
    try:
        reply = await agent.on_messages(code, CancellationToken())
        assert reply.chat_message.to_text() == "5\n"
        assert not target.exists(), "the host wrote the functions module through the planted symlink"
        assert not (work / "functions.py").is_symlink()
    finally:
        target.unlink(missing_ok=True)
