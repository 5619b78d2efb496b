"""Which isolation layers this machine can give, detected once per process."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["CGROUP_PIDS", "available_layers", "bwrap_path"]

CGROUP_PIDS = Path("/sys/fs/cgroup/pids")


def bwrap_path() -> str | None:
    return _bwrap()[0]


@functools.cache
def _bwrap() -> tuple[str | None, str]:
    """(path, "active") when bubblewrap runs here, else (None, why not)."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "not installed"
    probe = [path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session",
             "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"installed but does not run here: {type(exc).__name__}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "installed but cannot create its namespaces here" + (f": {lines[-1]}" if lines else "")
    return path, "active"


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
        return f"unavailable: cannot create a pids cgroup: {exc.strerror}"
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
    path, why = _bwrap()
    return {
        "process_group": "active",
        "rlimits": "active",
        "cgroup": _cgroup(),
        "bubblewrap": "active" if path else f"unavailable: {why}",
        "seccomp": _seccomp(),
        "audit_hook": "active",
    }
