"""A cgroup per run: pids (holds fork bombs even as root, and finds every process to kill) and,
when the policy sets ``max_memory``, memory — which counts what RLIMIT_AS cannot see: tmpfs pages
(the private /tmp and /dev/shm), memfd and other shared memory.

cgroup v1 (one directory per controller, as on these machines: ``memory.limit_in_bytes`` and
``memory.memsw.limit_in_bytes`` where swap accounting is on) or v2 (one directory: ``pids.max``,
``memory.max``, ``memory.swap.max``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
import uuid
from pathlib import Path

from governed_agents.runtime._layers import CGROUP_ROOT, cgroup_version

__all__ = ["RunCgroup"]


class RunCgroup:
    def __init__(self, max_processes: int | None, max_memory: int | None = None, *, pids: bool = True) -> None:
        name = f"governed-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.version = cgroup_version()
        self.directories: list[Path] = []
        self._pids: Path | None = None
        self._memory: Path | None = None
        try:
            if self.version == 2:
                self._make(CGROUP_ROOT / name)
                if max_processes is not None:
                    (CGROUP_ROOT / name / "pids.max").write_text(str(max_processes))
                if max_memory is not None:
                    (CGROUP_ROOT / name / "memory.max").write_text(str(max_memory))
                    with contextlib.suppress(OSError):
                        (CGROUP_ROOT / name / "memory.swap.max").write_text("0")
                self._pids = self._memory = CGROUP_ROOT / name
            else:
                self._memory = None
                if max_memory is not None:
                    self._memory = self._make(CGROUP_ROOT / "memory" / name)
                    (self._memory / "memory.limit_in_bytes").write_text(str(max_memory))
                    swap = self._memory / "memory.memsw.limit_in_bytes"
                    if swap.exists():  # memory + swap: no way round the limit through swap
                        swap.write_text(str(max_memory))
                self._pids = self._memory
                if pids:
                    self._pids = self._make(CGROUP_ROOT / "pids" / name)
                    if max_processes is not None:
                        (self._pids / "pids.max").write_text(str(max_processes))
        except BaseException:
            self.remove()
            raise
        self.max_memory = max_memory

    def _make(self, path: Path) -> Path:
        path.mkdir()
        self.directories.append(path)
        return path

    @property
    def membership(self) -> list[tuple[str, str]]:
        """(controller, name) for each cgroup of the run, as /proc/PID/cgroup names them: the
        launcher checks these before the code starts ("" is cgroup v2's one hierarchy)."""
        if self.version == 2:
            return [("", d.name) for d in self.directories]
        return [(d.parent.name, d.name) for d in self.directories]

    def admit(self, pid: int) -> None:
        """Move ``pid`` (its whole thread group; what it starts later follows) into every cgroup of the run.

        A move waits for an RCU grace period unless another one happened just before (measured here:
        6-16 ms for the first, 0.1 ms for the second): the runner makes it from outside, while the
        sandbox is still being set up, so that it costs the run nothing."""
        for directory in self.directories:
            with open(directory / "cgroup.procs", "w") as handle:
                handle.write(str(pid))

    def pids(self) -> list[int]:
        if self._pids is None:
            return []
        try:
            return [int(p) for p in (self._pids / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def limit_hit(self) -> str | None:
        """"memory limit" when the kernel killed for memory in this run, "process limit" when it
        refused a fork or a thread, else None."""
        if self.max_memory is not None and self._memory is not None:
            name = "memory.events" if self.version == 2 else "memory.oom_control"
            if _counter(self._memory / name, "oom_kill") > 0:
                return "memory limit"
        return "process limit" if self.hit_limit() else None

    def hit_limit(self) -> bool:
        return self._pids is not None and _counter(self._pids / "pids.events", "max") > 0

    def kill_all(self, deadline: float = 2.0) -> None:
        """SIGKILL every process in the cgroup until none is left (setsid escapees included)."""
        if self.version == 2 and self._pids is not None:
            with contextlib.suppress(OSError):
                (self._pids / "cgroup.kill").write_text("1")
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            pids = [p for p in self.pids() if not _zombie(p)]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def remove_later(self) -> None:
        """Remove the directories once the kernel has released the last exiting process (off the hot
        path; a removal still under way when the interpreter exits is finished then: see _remove_pending)."""
        with _PENDING_LOCK:
            _PENDING.add(self)
        threading.Thread(target=self._remove_and_forget, daemon=True).start()

    def _remove_and_forget(self) -> None:
        self.remove()
        with _PENDING_LOCK:
            _PENDING.discard(self)

    def remove(self) -> None:
        if self.directories:
            self.kill_all()
        for directory in reversed(self.directories):
            for _ in range(500):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


_PENDING: set[RunCgroup] = set()  # removals running in a daemon thread, which the interpreter's exit would cut short
_PENDING_LOCK = threading.Lock()


@atexit.register
def _remove_pending() -> None:
    """Left to the daemon threads, the last runs' directories stayed behind whenever the process
    ended right after them (seen: 80 empty governed-* cgroups of exited test processes)."""
    with _PENDING_LOCK:
        pending = list(_PENDING)
    for cgroup in pending:
        cgroup.remove()


def _counter(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True
