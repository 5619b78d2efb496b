"""Which isolation layers this machine can give, detected once per process."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["CGROUP_PIDS", "available_layers", "bwrap_path"]

CGROUP_PIDS = Path("/sys/fs/cgroup/pids")


@functools.cache
def bwrap_path() -> str | None:
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session",
             "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return path if ok else None


@functools.cache
def _cgroup() -> str:
    if not CGROUP_PIDS.is_dir():
        return "unavailable: no cgroup v1 pids controller at /sys/fs/cgroup/pids"
    probe = CGROUP_PIDS / f"governed-probe-{os.getpid()}"
    try:
        probe.mkdir(exist_ok=True)
        (probe / "pids.max").write_text("8")
        probe.rmdir()
    except OSError as exc:
        return f"unavailable: cannot create a pids cgroup ({exc.strerror})"
    return "active"


@functools.cache
def _seccomp() -> str:
    try:
        from governed_agents.runtime._seccomp import seccomp_program

        seccomp_program(deny_network=True, deny_exec=True)
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}"
    return "active"


def available_layers() -> dict[str, str]:
    """Each layer → "active" or "unavailable: why"."""
    return {
        "process_group": "active",
        "rlimits": "active",
        "cgroup": _cgroup(),
        "bubblewrap": "active" if bwrap_path() else "unavailable: install the Debian package 'bubblewrap'",
        "seccomp": _seccomp(),
        "audit_hook": "active",
    }
