"""The filesystem view built from the policy: what exists inside the sandbox, and what still runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from governed_agents.analysis import analyze
from governed_agents.policy import RuntimeLimits, load_policy, parse_policy
from governed_agents.runtime import run_code

SEED = Path(__file__).resolve().parents[2] / "policies" / "seed.policy"

DATA_SCIENCE = """import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
df = pd.read_csv('/data/analysis/sales.csv')
print(int(np.sum(df['amount'].to_numpy())))
fig, ax = plt.subplots()
ax.plot(df['amount'])
fig.savefig('figure.png')
print('saved')
"""


@pytest.fixture
def data_analysis():
    """/data/analysis as the seed's agent_analysis expects it (made here as root, removed after)."""
    root = Path("/data")
    made_root = not root.exists()
    directory = root / "analysis"
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    csv = directory / "governed-test-sales.csv"
    csv.write_text("region,amount\nnorth,10\nsouth,32\n")
    yield csv
    csv.unlink(missing_ok=True)
    if made:
        shutil.rmtree(directory, ignore_errors=True)
    if made_root:
        shutil.rmtree(root, ignore_errors=True)


async def test_pandas_numpy_and_matplotlib_run_under_the_seed_s_agent_analysis(tmp_path, data_analysis):
    code = DATA_SCIENCE.replace("/data/analysis/sales.csv", str(data_analysis))
    limits = load_policy(SEED).evaluate(analyze(code), executor="agent_analysis").limits
    assert limits.readable_paths and all(p.startswith("/data/analysis") for p in limits.readable_paths)
    assert limits.max_memory == 1_000_000_000
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    assert set(report.layers.values()) == {"active"}
    assert report.exit_code == 0, report.output
    assert report.stdout.split() == ["42", "saved"]
    assert (tmp_path / "figure.png").stat().st_size > 1000
    read = [op for op in report.observed_operations if op["type"] == "file_operation" and op["path"] == str(data_analysis)]
    assert read == [{"type": "file_operation", "operation": "read", "path": str(data_analysis)}]


async def test_the_seed_s_agent_analysis_cannot_read_beside_its_data_or_write_into_it(tmp_path, data_analysis):
    limits = load_policy(SEED).evaluate(analyze("print(1)"), executor="agent_analysis").limits
    code = (f"print(open({str(data_analysis)!r}).read().splitlines()[1])\n"
            "import ctypes\nlibc = ctypes.CDLL(None)\n"
            f"print('write into the data', libc.open({str(data_analysis).encode()!r}, 1))\n"
            "print('etc/hostname', libc.open(b'/etc/hostname', 0))\n")
    report = await run_code(code, "python", limits.model_copy(update={"allow_dynamic_code": True}), work_dir=tmp_path)
    assert report.stdout.splitlines() == ["north,10", "write into the data -1", "etc/hostname -1"], report.output


async def test_without_allowed_file_paths_the_root_stays_readable(tmp_path):
    limits = parse_policy('agent "reader" { can "code_execution" with constraints { '
                          'allowed_file_operations: "read_only" } }').evaluate(analyze("print(1)"), executor="reader").limits
    code = "import os\nprint(len(open('/etc/hostname').read()) > 0)\ntry:\n    open('/etc/x-governed', 'w')\n" \
           "except OSError as exc:\n    print('no write', type(exc).__name__)\n"
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    assert report.stdout.splitlines() == ["True", "no write PermissionError"], report.output


async def test_a_glob_binds_what_it_matches_and_nothing_beside(tmp_path):
    data = tmp_path / "data"
    (data / "q1").mkdir(parents=True)
    (data / "q2").mkdir()
    (data / "q1" / "a.csv").write_text("a\n")
    (data / "q2" / "b.csv").write_text("b\n")
    (data / "secret.txt").write_text("s\n")
    limits = RuntimeLimits(readable_paths=(f"{data}/q*",))
    code = (f"print(open('{data}/q1/a.csv').read().strip(), open('{data}/q2/b.csv').read().strip())\n"
            f"try:\n    open('{data}/secret.txt')\nexcept FileNotFoundError as exc:\n    print('absent', exc)\n")
    report = await run_code(code, "python", limits, work_dir=tmp_path / "work")
    lines = report.stdout.splitlines()
    assert lines[0] == "a b", report.output
    assert lines[1].startswith("absent") and "allowed_file_paths" in lines[1] and f"{data}/q*" in lines[1]


async def test_a_policy_granting_no_file_reads_holds_only_the_interpreter_and_the_work_dir(tmp_path):
    limits = load_policy(SEED).evaluate(analyze("print(1)"), executor="agent_sandbox").limits
    code = ("import math\nprint(math.sqrt(16))\nopen('mine.txt', 'w').write('x')\nprint(open('mine.txt').read())\n"
            "try:\n    open('/etc/hostname')\nexcept FileNotFoundError as exc:\n    print(exc)\n")
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    lines = report.stdout.splitlines()
    assert lines[:2] == ["4.0", "x"], report.output
    assert "allowed_file_operations" in lines[2] and "/etc/hostname" in lines[2]


async def test_bash_commands_still_find_their_programs_and_libraries(tmp_path):
    limits = RuntimeLimits(allowed_commands=("*",), readable_paths=(str(tmp_path / "none"),))
    report = await run_code("echo hi | tr a-z A-Z\nls / | sort | tr '\\n' ' '\n", "bash", limits,
                            work_dir=tmp_path)
    assert report.exit_code == 0, report.output
    first, second = report.stdout.splitlines()
    assert first == "HI"
    names = second.split()
    assert "home" not in names and "var" not in names and "run" not in names, names
    assert "etc" in names and "usr" in names


PROGRAMS_BY_THE_KERNEL = """
import ctypes, os, subprocess
libc = ctypes.CDLL(None)  # no audit hook on system(): only what exists can run
print('ls', subprocess.run(['ls', '/'], capture_output=True, text=True).returncode)
print('id', libc.system(b'id >/dev/null 2>&1') >> 8)
print('system', os.system('ls / >/dev/null'))
print('env', libc.system(b'env ls / >/dev/null') >> 8, libc.system(b'env id >/dev/null 2>&1') >> 8)
"""


@pytest.mark.parametrize(("allowed", "found"), [(("ls",), "127"), (("ls -l",), "127"), (("l?",), "127"),
                                                  (("*",), "0")])
async def test_only_the_allowed_programs_exist(tmp_path, allowed, found):
    python = await run_code(PROGRAMS_BY_THE_KERNEL, "python",
                            RuntimeLimits(allowed_commands=allowed, allow_dynamic_code=True), work_dir=tmp_path)
    assert python.stdout.split() == ["ls", "0", "id", found, "system", "0", "env", "0", found], python.output
    # a shell block runs no audit hook at all: the view alone holds it
    bash = await run_code("ls / >/dev/null && echo listed\nid >/dev/null 2>&1\necho $?\n", "bash",
                          RuntimeLimits(allowed_commands=allowed, readable_paths=(str(tmp_path / "none"),)),
                          work_dir=tmp_path)
    assert bash.stdout.split() == ["listed", found], bash.output


ETC_BY_THE_KERNEL = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)     # no audit hook on these: the kernel answers
def tried(result):
    return 'done' if result >= 0 else os.strerror(ctypes.get_errno())
print('append', tried(libc.open(b'/etc/passwd', os.O_WRONLY | os.O_APPEND)))
print('create', tried(libc.open(b'/etc/ld.so.preload', os.O_WRONLY | os.O_CREAT, 0o644)))
print('unlink', tried(libc.unlink(b'/etc/ld.so.cache')))
print('rename', tried(libc.rename(b'/etc/passwd', b'/etc/passwd-')))
print('replace', tried(libc.rename(b'/tmp', b'/etc/group')))
print('chmod', tried(libc.chmod(b'/etc/nsswitch.conf', 0o666)))
print('mount', tried(libc.mount(b'tmpfs', b'/etc', b'tmpfs', 0, None)))
print('shadow', tried(libc.open(b'/etc/shadow', os.O_RDONLY)))
print('hosts', tried(libc.open(b'/etc/hosts', os.O_RDONLY)))
fds = {}
for name in os.listdir('/proc/self/fd'):
    try:
        fds[int(name)] = os.readlink('/proc/self/fd/' + name)
    except OSError:
        pass
print('descriptors', sorted(t.split(':')[0] for fd, t in fds.items() if fd > 2))
"""


async def test_the_copied_etc_files_are_the_host_s_and_can_be_neither_written_nor_replaced(tmp_path):
    # the regular files of /etc the view holds are copied into the sandbox's own read-only root at
    # every start: fresh each run (nothing shared between runs), world-readable ones only, and no
    # descriptor on a host file is left to the code (reopening one through /proc would be a write path)
    limits = RuntimeLimits(allow_dynamic_code=True, readable_paths=(str(tmp_path / "none"),))
    code = ("import os, pwd\nprint(open('/etc/passwd').read() == " + repr(Path("/etc/passwd").read_text()) + ")\n"
            "print(pwd.getpwuid(0).pw_name, os.readlink('/etc/localtime') == "
            + repr(os.readlink("/etc/localtime")) + ")\n" + ETC_BY_THE_KERNEL)
    report = await run_code(code, "python", limits, work_dir=tmp_path)
    assert set(report.layers.values()) == {"active"}
    lines = report.stdout.splitlines()
    assert lines[:2] == ["True", "root True"], report.output
    refused = dict(line.split(" ", 1) for line in lines[2:-1])
    assert refused == {"append": "Read-only file system", "create": "Read-only file system",
                       "unlink": "Read-only file system", "rename": "Read-only file system",
                       "replace": "Read-only file system", "chmod": "Read-only file system",
                       "mount": "Operation not permitted", "shadow": "No such file or directory",
                       "hosts": "No such file or directory"}, report.output
    assert lines[-1] == "descriptors ['/memfd']", report.output  # the launcher's record of what the code did


def test_only_world_readable_regular_files_are_copied_from_etc(tmp_path):
    import stat

    from governed_agents.runtime._view import _open_copy

    public, secret, fifo = tmp_path / "public", tmp_path / "secret", tmp_path / "fifo"
    public.write_text("ok\n")
    secret.write_text("hash\n")
    secret.chmod(0o640)  # as /etc/shadow
    os.mkfifo(fifo)
    (tmp_path / "to-secret").symlink_to(secret)
    fd = _open_copy(str(public))
    assert fd is not None and stat.S_ISREG(os.fstat(fd).st_mode)
    os.close(fd)
    assert _open_copy(str(secret)) is None
    assert _open_copy(str(tmp_path / "to-secret")) is None  # followed, as a bind would, and still refused
    assert _open_copy(str(fifo)) is None  # and it did not block
    assert _open_copy(str(tmp_path / "missing")) is None


def test_the_receipt_log_and_its_key_are_covered_where_the_view_shows_them(tmp_path):
    from governed_agents.runtime._view import build_view

    data = tmp_path / "data"
    data.mkdir()
    for name in ("r.db", "r.db.key"):
        (data / name).write_text("secret")
    (tmp_path / "elsewhere.key").write_text("secret")
    hidden = [data / "r.db", data / "r.db.key", data / "r.db-journal", tmp_path / "elsewhere.key"]
    argv = build_view(RuntimeLimits(readable_paths=(str(data),)), tmp_path / "w", hidden=hidden).argv
    covered = [argv[i + 2] for i, word in enumerate(argv) if word == "--ro-bind" and argv[i + 1] == "/dev/null"]
    assert covered == [str(data / "r.db"), str(data / "r.db.key")]  # elsewhere.key is not in the view at all
    assert argv.index(str(data / "r.db")) > argv.index(str(data))  # on top of the bind that shows it
