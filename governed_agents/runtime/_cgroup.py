"""A pids cgroup per run (v1 here): holds fork bombs even as root, and finds every process to kill."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid

from governed_agents.runtime._layers import CGROUP_PIDS

__all__ = ["RunCgroup"]


class RunCgroup:
    def __init__(self, max_processes: int) -> None:
        self.path = CGROUP_PIDS / f"governed-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(max_processes))

    @property
    def procs_file(self) -> str:
        return str(self.path / "cgroup.procs")

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def hit_limit(self) -> bool:
        try:
            return int((self.path / "pids.events").read_text().split()[-1]) > 0
        except (OSError, ValueError, IndexError):
            return False

    def kill_all(self, deadline: float = 2.0) -> None:
        """SIGKILL every process in the cgroup until none is left (setsid escapees included)."""
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
        """Remove the directory once the kernel has released the last exiting process (off the hot path)."""
        threading.Thread(target=self.remove, daemon=True).start()

    def remove(self) -> None:
        self.kill_all()
        for _ in range(500):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True
