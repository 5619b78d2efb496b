"""run_code: approved code in its own constrained process tree, killed as a whole at its limit.

Process tree: ``bwrap`` (new PID, network, IPC, UTS, user namespaces; no capabilities, no further user
namespaces; the filesystem view built from the policy — see ``_view``) → ``python -I -S -c …`` as the
sandbox's PID 1, running the launcher (rlimits, seccomp, waits for the go, checks that it is inside the run's
cgroups, audit hook) → the user's code, handed over (compiled, for Python) through a memfd: the host
writes nothing into the work dir. The host moves the sandbox's PID 1 into the run's cgroups itself, as
soon as bubblewrap names it (``--info-fd``) and while the sandbox is still being set up, then sends the
go (after the hold, when there is one): the code never starts outside its cgroups, and nothing in the
sandbox can write to a cgroup file. A process that escapes the PID namespace's reach (none should) is still found
through the cgroup. Each layer that is missing is reported, in ``RunReport.layers`` and in a first
line of ``stderr`` when the code ran; with ``require_isolation`` a missing bubblewrap means the code
does not run at all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import marshal
import os
import re
import resource
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import CodeType
from typing import Any

from governed_agents._tracing import traced_run
from governed_agents.policy._decision import RuntimeLimits
from governed_agents.runtime._cgroup import RunCgroup
from governed_agents.runtime._launcher import CODE_NAME
from governed_agents.runtime._layers import available_layers, bwrap_path
from governed_agents.runtime._observed import read_observed
from governed_agents.runtime._report import RunReport, layers_note
from governed_agents.runtime._seccomp import seccomp_program
from governed_agents.runtime._view import View, ViewError, build_view, interpreter_roots

__all__ = ["DEFAULT_MAX_PROCESSES", "run_code", "run_code_sync"]

# The launcher's code object, compiled once here, reaches the child marshalled in its first argument
# (a script would be compiled afresh on every run: +1.3 ms; importing it would need the runtime's own
# directory in the sandbox: one more bind); CONFIG follows as the second.
_LAUNCH = ("import marshal, sys; launcher = {'__name__': '_launcher'}; "
           "exec(marshal.loads(bytes.fromhex(sys.argv[1])), launcher); launcher['main']()")
_COMPILE_HERE = 32 * 1024  # bytes of Python source compiled by the runner; longer code compiles in the child
DEFAULT_MAX_PROCESSES = 128  # a fork bomb is held even when the policy names no process limit
OUTPUT_LIMIT = 4 * 1024 * 1024
_PYTHON = {"python", "py", "python3", "py3"}
_SHELL = {"bash", "sh", "shell", "zsh"}
# the signals the rlimits send, and the policy limit that sends each: RLIMIT_CPU sends SIGXCPU at the
# soft limit and SIGKILL at the hard one (a second later, when SIGXCPU is caught or ignored);
# RLIMIT_FSIZE sends SIGXFSZ. RLIMIT_AS sends none (allocations fail: see _diagnose), so a SIGSEGV is
# a crash, not the memory limit.
_LIMIT_SIGNALS = {signal.SIGXCPU: ("cpu limit", "max_cpu_time"), signal.SIGKILL: ("cpu limit", "max_cpu_time"),
                  signal.SIGXFSZ: ("file size limit", "max_file_size")}


def _environment(work_dir: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    """A minimal environment: never the parent's (API keys live there)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work_dir),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    env.update(extra or {})
    return env


def _bwrap_argv(bwrap: str, work_dir: Path, limits: RuntimeLimits, info_fd: int | None = None, *,
                programs: bool = True, hidden: Sequence[str | os.PathLike[str]] = (),
                frozen: Sequence[str] = ()) -> tuple[list[str], View]:
    view = build_view(limits, work_dir, interpreter=interpreter_roots(), programs=programs, hidden=hidden,
                      frozen=frozen)
    # --as-pid-1: no bubblewrap init beside the code (it ran unfiltered, outside the cgroups, and could be
    # ptraced); no capabilities and no user namespaces of its own inside
    argv = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--unshare-user", "--disable-userns",
            "--cap-drop", "ALL", "--as-pid-1"]
    if limits.network:
        argv.append("--share-net")
    if info_fd is not None:  # bubblewrap says there the host pid of the sandbox's PID 1, to put it in its cgroups
        argv += ["--info-fd", str(info_fd)]
    return [*argv, *view.argv, "--chdir", str(work_dir), "--"], view


def _launcher_config(code_fd: int, language: str, limits: RuntimeLimits, work_dir: Path,
                     seccomp: bool, view: View | None, report_fd: int | None) -> dict[str, Any]:
    granted = list(view.writable) if view is not None else [p for p in limits.writable_paths if "*" not in p]
    if view is not None and any(p in ("/", "*") for p in limits.writable_paths):
        granted.append("/")
    writable = [str(work_dir), "/tmp", "/dev/null", "/dev/shm", *granted]
    audit: dict[str, Any] = {"network": limits.network, "writable": writable, "commands": list(limits.allowed_commands)}
    if view is not None:
        audit.update(visible=view.visible, system=[*view.system, "/dev", "/proc", "/sys"],
                     **_rules(limits))
    config: dict[str, Any] = {
        "code_fd": code_fd,
        "report_fd": report_fd,
        "language": language,
        "shell": "/bin/bash",
        "audit": audit,
        "path": _site_packages(),
        "rlimits": _rlimits_of(limits),
    }
    if seccomp:
        config["bpf"] = seccomp_program(deny_network=not limits.network,
                                        deny_exec=language == "python" and not limits.allowed_commands)
    return config


def _rlimits_of(limits: RuntimeLimits) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) for the launcher; RLIMIT_CPU: SIGXCPU at the limit, SIGKILL a second later."""
    wanted = [(resource.RLIMIT_CORE, 0, 0)]
    if limits.max_memory is not None:
        wanted.append((resource.RLIMIT_AS, int(limits.max_memory), int(limits.max_memory)))
    if limits.max_cpu_time is not None:
        wanted.append((resource.RLIMIT_CPU, int(limits.max_cpu_time), int(limits.max_cpu_time) + 1))
    if limits.max_file_size is not None:
        wanted.append((resource.RLIMIT_FSIZE, int(limits.max_file_size), int(limits.max_file_size)))
    return wanted


def _rules(limits: RuntimeLimits) -> dict[str, str]:
    """How a refusal names the constraint that made a path absent or read-only."""
    def listed(paths: tuple[str, ...]) -> str:
        return " [" + ", ".join(paths) + "]"

    rules = {}
    if limits.readable_paths or limits.writable_paths:
        rules["read_rule"] = "allowed_file_paths"
        rules["read_detail"] = listed(tuple(dict.fromkeys((*limits.readable_paths, *limits.writable_paths))))
    else:
        rules["read_rule"] = "allowed_file_operations"
        rules["read_detail"] = " (no file read is granted: only the work dir exists)"
    if limits.writable_paths:
        rules["write_rule"] = "allowed_file_paths"
        rules["write_detail"] = listed(limits.writable_paths) + " (writable: the work dir, /tmp and these)"
    else:
        rules["write_rule"] = "allowed_file_operations"
        rules["write_detail"] = " (no file write is granted: only the work dir and /tmp are writable)"
    return rules


@functools.cache
def _launcher_code() -> str:
    from governed_agents.runtime import _launcher

    source = Path(_launcher.__file__).read_text(encoding="utf-8")
    return marshal.dumps(compile(source, _launcher.LAUNCHER_NAME, "exec", dont_inherit=True)).hex()


@functools.cache
def _site_packages() -> list[str]:
    """The interpreter's package directories, as site would add them (without running .pth hooks)."""
    import site

    paths = [*site.getsitepackages()]
    return [p for p in paths if os.path.isdir(p)]


def _missing_layers(limits: RuntimeLimits, layers: dict[str, str], language: str) -> list[str]:
    """The layers this policy needs that this machine cannot give: bubblewrap always (the filesystem
    view, the network namespace), seccomp always (ptrace, AF_UNIX, network, exec), the memory cgroup
    when the policy sets max_memory (RLIMIT_AS misses tmpfs and memfd), the pids cgroup when it sets
    max_processes (RLIMIT_NPROC does not hold root)."""
    needed = ["bubblewrap", "seccomp"]
    if limits.max_memory is not None:
        needed.append("memory_cgroup")
    if limits.max_processes is not None:
        needed.append("cgroup")
    return [name for name in needed if layers.get(name) != "active"]


def _code_memfd(code: str, language: str = "bash") -> int:
    """The code in an anonymous memory file: nothing on a path the sandboxed code could have planted.
    Python code goes as (source, code object): compiled here, where the compiler is warm, unless it is
    long (never hold the event loop) or does not compile (the child then reports it as Python would)."""
    fd = os.memfd_create("governed-code", 0)
    data = code.encode("utf-8", "surrogatepass")
    if language == "python":
        data = marshal.dumps((data, _compiled(data) if len(data) <= _COMPILE_HERE else None))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _compiled(source: bytes) -> CodeType | None:
    try:  # optimize=0: as the child's own compile would (it runs without -O)
        return compile(source, CODE_NAME, "exec", dont_inherit=True, optimize=0)
    except Exception:  # SyntaxError, ValueError (a NUL byte), RecursionError, MemoryError
        return None


def _refusal(message: str, layers: dict[str, str]) -> RunReport:
    return RunReport(exit_code=1, stderr=f"governed-agents: not run: {message}\n", layers=layers)


@traced_run  # one OpenTelemetry span per run, with its layers and the limit broken (_tracing)
async def run_code(
    code: str,
    language: str,
    limits: RuntimeLimits,
    *,
    work_dir: str | os.PathLike[str],
    require_isolation: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cancellation: asyncio.Event | None = None,
    hold: Awaitable[bool] | None = None,
    launched: Callable[[], None] | None = None,
    hidden: Sequence[str | os.PathLike[str]] = (),
    frozen: Sequence[str] = (),
) -> RunReport:
    """Run ``code`` under ``limits``. Never raises: failures come back as a non-zero report.

    ``hidden``: host files the code must neither read nor write (the receipt log, its signing key):
    unreadable and unchangeable inside the sandbox. ``frozen``: paths in the work dir bound read-only
    (the modules the executor vouched for, and the work dir's ``__pycache__``).

    ``hold``: the sandbox starts at once but the launcher waits, before the user's code, until
    ``hold`` answers; ``True`` lets the code run, anything else (``False``, an exception) kills the
    waiting sandbox and the code never runs. The gate uses it to start the process while the
    receipt is being made durable.

    ``launched``: called once the sandbox's process exists and its move into the run's cgroups is
    under way (on a thread of its own). The gate judges the code from then on: judged before, a
    decision that holds the event loop held the move back with it, and the move (an RCU grace
    period, 6-16 ms) came after the decision instead of beside it.
    """
    layers = dict(available_layers())
    try:
        return await _run(code, language, limits, Path(work_dir), require_isolation, env, timeout, cancellation,
                          layers, hold, launched, hidden, frozen)
    except asyncio.CancelledError:
        raise
    except ViewError as exc:
        return _refusal(str(exc), layers)
    except Exception as exc:
        return _refusal(f"the runtime layer failed ({type(exc).__name__}: {exc})", layers)


async def _run(code: str, language: str, limits: RuntimeLimits, work_dir: Path, require_isolation: bool,
               env: Mapping[str, str] | None, timeout: float | None, cancellation: asyncio.Event | None,
               layers: dict[str, str], hold: Awaitable[bool] | None = None,
               launched: Callable[[], None] | None = None, hidden: Sequence[str | os.PathLike[str]] = (),
               frozen: Sequence[str] = ()) -> RunReport:
    lang = language.lower()
    if lang not in _PYTHON and lang not in _SHELL:
        return _refusal(f"language {language!r} is not supported by the governed runtime", layers)
    lang = "python" if lang in _PYTHON else "bash"
    if layers["bubblewrap"] == "active" and bwrap_path() is None:
        layers["bubblewrap"] = "unavailable: not available"
    missing = _missing_layers(limits, layers, lang)
    if missing and require_isolation:
        return _refusal(_missing_message(missing, layers), layers)
    for name in missing:
        state = layers[name]
        layers[name] = "off: " + (state.split(": ", 1)[1] if ": " in state else state)
    bwrap = bwrap_path() if layers["bubblewrap"] == "active" else None
    work_dir = work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    seccomp = layers["seccomp"] == "active"
    cgroup: RunCgroup | None = None
    view: View | None = None
    code_fd = report_fd = go_read = go_fd = info_fd = info_write = -1
    limit_broken: str | None = None
    started = time.monotonic()
    try:
        pids = layers["cgroup"] == "active"
        memory = limits.max_memory if layers.get("memory_cgroup") == "active" else None
        if pids or memory is not None:
            cgroup = RunCgroup((limits.max_processes or DEFAULT_MAX_PROCESSES) if pids else None, memory,
                               pids=pids)
        if bwrap is not None:
            info_fd, info_write = os.pipe()
        go_read, go_fd = os.pipe()  # the launcher waits for the go before the code
        argv_prefix: list[str] = []
        if bwrap is not None:
            # Python without allowed_commands cannot execve (seccomp): no program needs hiding then
            argv_prefix, view = _bwrap_argv(bwrap, work_dir, limits, info_write, hidden=hidden, frozen=frozen,
                                            programs=lang != "python" or bool(limits.allowed_commands) or not seccomp)
        code_fd = _code_memfd(code, lang)
        report_fd = os.memfd_create("governed-observed", 0)
        config = _launcher_config(code_fd, lang, limits, work_dir, seccomp, view, report_fd)
        if cgroup is not None:
            config["cgroup"] = cgroup.membership  # checked by the launcher before the code starts
        config["go_fd"] = go_read
        argv = [*argv_prefix, sys.executable, "-I", "-S", "-u", "-c", _LAUNCH, _launcher_code(),
                marshal.dumps(config).hex()]
        budgets = [t for t in (limits.max_execution_time, timeout) if t is not None]
        budget = min(budgets) if budgets else None
        passed = (*(fd for fd in (code_fd, report_fd, go_read, info_write) if fd >= 0), *(view.fds if view else ()))
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=str(work_dir), env=_environment(work_dir, env), start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            pass_fds=passed,
        )
        for fd in (code_fd, go_read, info_write):
            if fd >= 0:
                os.close(fd)
        code_fd = go_read = info_write = -1
        if view is not None:
            view.close()
        readers = [asyncio.create_task(_read(proc.stdout)), asyncio.create_task(_read(proc.stderr))]
        # off the event loop: a cgroup move waits for the kernel (see RunCgroup.admit)
        admitted = asyncio.get_running_loop().run_in_executor(_admissions(), _admit, proc.pid, info_fd, cgroup)
        info_fd = -1  # _admit closes it
        # read here as well, so that a move still under way when the run is given up never logs its outcome
        admitted.add_done_callback(lambda f: f.cancelled() or f.exception())
        if launched is not None:
            launched()
        withheld = await _release(proc, go_fd, admitted, hold, cancellation)
        os.close(go_fd)  # the launcher reads EOF when no go was written
        go_fd = -1
        if withheld is not None:
            _kill_tree(proc.pid, cgroup)
            await proc.wait()
            _, err = await _collect(readers)  # why bubblewrap stopped, when it did (a bind source gone)
            report = _refusal(withheld, layers)
            return report.model_copy(update={"stderr": report.stderr + err}) if err else report
        if hold is not None:
            started = time.monotonic()
        limit_broken = await _wait(proc, budget, cancellation)
        _kill_tree(proc.pid, cgroup)  # grandchildren left behind (`sleep 300 &`) die with the run
        out, err = await _collect(readers)
        returncode = proc.returncode if proc.returncode is not None else -signal.SIGKILL
        observed = read_observed(report_fd)
    finally:
        cgroup_limit = None
        if cgroup is not None:
            cgroup_limit = cgroup.limit_hit()
            cgroup.kill_all()
            cgroup.remove_later()
        for fd in (code_fd, report_fd, go_read, go_fd, info_fd, info_write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if view is not None:
            view.close()
    limit_broken = limit_broken or _diagnose(returncode, err, cgroup_limit == "process limit", limits)
    if cgroup_limit == "memory limit" and limit_broken in (None, "cpu limit"):
        limit_broken = "memory limit"  # the kernel's OOM kill is a SIGKILL: not the CPU limit's
    blocked = [line for line in err.splitlines() if line.startswith("governed-agents: blocked")]
    if limit_broken == "time limit":
        err += f"\ngoverned-agents: stopped: time limit ({budget:g} s)\n"
        returncode = 124
    elif limit_broken == "cancelled":
        returncode = 125
    elif limit_broken:
        err += f"\ngoverned-agents: stopped: {limit_broken}{_limit_detail(limit_broken, limits)}\n"
        if returncode == 0:
            returncode = 1
    note = layers_note(layers)  # never weaken silently: the run says which layers did not hold it
    if note:
        err = f"{note}\n{err}"
    return RunReport(exit_code=returncode if returncode >= 0 else 128 - returncode, stdout=out, stderr=err,
                     duration=time.monotonic() - started, limit_broken=limit_broken, layers=layers, blocked=blocked,
                     observed_operations=observed)


def _missing_message(missing: list[str], layers: dict[str, str]) -> str:
    why = {
        "bubblewrap": ("network and filesystem isolation need bubblewrap", "apt-get install bubblewrap"),
        "seccomp": ("the system-call filter (no ptrace, no AF_UNIX, no network, no exec) needs seccomp",
                    "apt-get install libseccomp2"),
        "memory_cgroup": ("max_memory needs a memory cgroup (RLIMIT_AS does not count tmpfs or memfd)",
                          "a writable memory controller under /sys/fs/cgroup"),
        "cgroup": ("max_processes needs a pids cgroup", "a writable pids controller under /sys/fs/cgroup"),
    }
    parts = []
    for name in missing:
        state = layers.get(name, "")
        detail = state.split(": ", 1)[1] if ": " in state else (state or "not available")
        what, hint = why[name]
        parts.append(f"{what}, which does not run here ({detail}; {hint})")
    return "; ".join(parts) + "; Governor(require_isolation=False) runs without it"


@functools.cache
def _admissions() -> concurrent.futures.ThreadPoolExecutor:
    """Threads of the runtime's own for _admit (a cgroup move blocks in the kernel for a grace period):
    never queued behind the application's work in the loop's default executor."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="governed-admit")


def _admit(launched: int, info_fd: int, cgroup: RunCgroup | None) -> None:
    """Put the sandbox's PID 1 in the run's cgroups, from outside, while it is still being set up: ``launched`` itself without bubblewrap (``info_fd`` -1), else the child
    bubblewrap names on ``info_fd`` (its monitor stays outside: it is not the code's, and does not
    count in pids.max)."""
    pid = launched if info_fd < 0 else _sandbox_pid(launched, info_fd)
    if cgroup is not None:
        cgroup.admit(pid)


def _sandbox_pid(launched: int, info_fd: int) -> int:
    chunks = []
    try:
        while chunk := os.read(info_fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(info_fd)
    try:
        pid = int(json.loads(b"".join(chunks))["child-pid"])
    except (ValueError, KeyError, TypeError) as exc:
        raise OSError(f"bubblewrap did not start the sandbox ({type(exc).__name__})") from None
    if _parent(pid) != launched:  # gone already (and its pid reused): never touch a stranger
        raise OSError("the sandbox ended before it could be set up")
    return pid


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


async def _release(proc: asyncio.subprocess.Process, go_fd: int, admitted: asyncio.Future[None],
                   hold: Awaitable[bool] | None, cancellation: asyncio.Event | None) -> str | None:
    """Wait until the sandbox is in its cgroups (``admitted``) and ``hold`` said yes, or a
    cancellation; then tell the waiting launcher to go (one byte on ``go_fd``; a launcher that reads
    EOF instead ends without running the code). Returns why the code may not run, or None when it may."""
    answer = asyncio.ensure_future(hold) if hold is not None else None
    pending: set[asyncio.Future[Any]] = {f for f in (answer, admitted) if f is not None}
    cancelled = asyncio.ensure_future(cancellation.wait()) if cancellation is not None else None
    withheld = None
    try:
        while pending and withheld is None:
            done, pending = await asyncio.wait({*pending, *([cancelled] if cancelled else [])},
                                               return_when=asyncio.FIRST_COMPLETED)
            pending.discard(cancelled)
            if admitted in done and admitted.exception() is not None:
                withheld = f"the sandbox could not be placed in its cgroups ({admitted.exception()})"
            elif answer in done and (answer.exception() is not None or answer.result() is not True):
                withheld = "the decision was withdrawn before the code ran"
            elif cancelled is not None and cancelled in done:
                withheld = "cancelled before the code ran"
    except asyncio.CancelledError:
        _kill_tree(proc.pid, None)
        raise
    finally:
        if cancelled is not None:
            cancelled.cancel()
        if answer is not None and not answer.done():
            answer.cancel()
    if withheld is None:
        with contextlib.suppress(OSError):  # a launcher that already died is reported by its exit code
            os.write(go_fd, b"\x01")
    return withheld


def run_code_sync(code: str, language: str, limits: RuntimeLimits, **kwargs: Any) -> RunReport:
    return asyncio.run(run_code(code, language, limits, **kwargs))


async def _read(stream: asyncio.StreamReader | None) -> str:
    if stream is None:
        return ""
    chunks, total = [], 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        if total < OUTPUT_LIMIT:
            chunks.append(chunk[: OUTPUT_LIMIT - total])
        total += len(chunk)
    text = b"".join(chunks).decode("utf-8", "replace")
    return text + (f"\n[governed-agents: output cut at {OUTPUT_LIMIT} bytes]\n" if total > OUTPUT_LIMIT else "")


async def _wait(proc: asyncio.subprocess.Process, budget: float | None,
                cancellation: asyncio.Event | None) -> str | None:
    waiter = asyncio.ensure_future(proc.wait())
    waits: set[asyncio.Future[Any]] = {waiter}
    cancelled = asyncio.ensure_future(cancellation.wait()) if cancellation is not None else None
    if cancelled is not None:
        waits.add(cancelled)
    done, _ = await asyncio.wait(waits, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
    if cancelled is not None and not cancelled.done():
        cancelled.cancel()
    if waiter in done:
        return None
    _kill_tree(proc.pid, None)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(waiter, 5)
    return "cancelled" if cancelled is not None and cancelled in done else "time limit"


def _kill_tree(pid: int, cgroup: RunCgroup | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


async def _collect(readers: list[asyncio.Task[str]]) -> tuple[str, str]:
    done, pending = await asyncio.wait(readers, timeout=2)
    for task in pending:  # a process outside our reach still holds the pipe: stop reading
        task.cancel()
    values = [t.result() if t in done and not t.cancelled() else "" for t in readers]
    return values[0], values[1]


# A shell says when fork is refused. Once the pids limit is hit, even "fork: Cannot allocate memory"
# is the process limit: the kernel answers ENOMEM to forks in a pid namespace whose init has died.
_FORK_REFUSED = re.compile(r"\bfork: ")


def _diagnose(returncode: int, stderr: str, process_limit: bool, limits: RuntimeLimits | None = None) -> str | None:
    if process_limit and _FORK_REFUSED.search(stderr):
        return "process limit"
    by_signal = _limit_signal(returncode, limits)
    if by_signal:
        return by_signal
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr or "std::bad_alloc" in stderr:
        return "memory limit"
    if "CPU time limit exceeded" in stderr:  # a shell's child died of SIGXCPU and the shell went on
        return "cpu limit"
    if "File too large" in stderr or "File size limit exceeded" in stderr:
        return "file size limit"
    if process_limit:
        return "process limit"
    return None


def _limit_signal(returncode: int, limits: RuntimeLimits | None) -> str | None:
    """The limit whose signal ended the run: -N when the launcher itself died of it, 128+N when
    bubblewrap (or a shell) reports its child's death. Only a limit the policy set counts (an exit
    status of 152 is the program's own otherwise); without ``limits``, SIGXCPU and SIGXFSZ, which only
    rlimits send, still count and SIGKILL does not."""
    if returncode < 0:
        number = -returncode
    elif 128 < returncode <= 128 + 64:
        number = returncode - 128
    else:
        return None
    if number not in _LIMIT_SIGNALS:
        return None
    limit, key = _LIMIT_SIGNALS[signal.Signals(number)]
    if limits is None:
        return None if number == signal.SIGKILL else limit
    return limit if getattr(limits, key) is not None else None


def _limit_detail(limit: str, limits: RuntimeLimits) -> str:
    if limit == "memory limit" and limits.max_memory:
        return f" (max_memory {limits.max_memory / 1e6:g} MB)"
    if limit == "cpu limit" and limits.max_cpu_time:
        return f" (max_cpu_time {limits.max_cpu_time:g} s)"
    if limit == "file size limit" and limits.max_file_size:
        return f" (max_file_size {limits.max_file_size / 1e6:g} MB)"
    if limit == "process limit":
        return f" (max_processes {limits.max_processes or DEFAULT_MAX_PROCESSES})"
    return ""
