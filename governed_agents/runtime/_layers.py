"""Which isolation layers this machine can give, detected once per process."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["CGROUP_ROOT", "available_layers", "bwrap_path", "cgroup_version"]

CGROUP_ROOT = Path("/sys/fs/cgroup")


def bwrap_path() -> str | None:
    return _bwrap()[0]


@functools.cache
def _bwrap() -> tuple[str | None, str]:
    """(path, "active") when bubblewrap runs here, else (None, why not)."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "not installed"
    probe = [path, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
             "--as-pid-1", "--die-with-parent", "--new-session", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"installed but does not run here: {type(exc).__name__}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "installed but cannot create its namespaces here" + (f": {lines[-1]}" if lines else "")
    return path, "active"


@functools.cache
def cgroup_version() -> int:
    """2 on a pure cgroup v2 machine (one hierarchy with the pids and memory controllers), else 1."""
    try:
        controllers = (CGROUP_ROOT / "cgroup.controllers").read_text().split()
    except OSError:
        return 1
    return 2 if {"pids", "memory"} <= set(controllers) else 1


def _probe(controller: str, limit_file: str, value: str) -> str:
    """Make and remove a cgroup with one limit set: "active", or why it cannot be done here."""
    if cgroup_version() == 2:
        parent = CGROUP_ROOT
        try:  # the root's children get the controller only when the root hands it down
            if controller not in (parent / "cgroup.subtree_control").read_text().split():
                (parent / "cgroup.subtree_control").write_text(f"+{controller}")
        except OSError as exc:
            return f"unavailable: cannot enable the cgroup v2 {controller} controller: {exc.strerror}"
    else:
        parent = CGROUP_ROOT / controller
        if not parent.is_dir():
            return f"unavailable: no cgroup v1 {controller} controller at {parent}"
    probe = parent / f"governed-probe-{os.getpid()}"
    try:
        probe.mkdir(exist_ok=True)
        try:
            (probe / limit_file).write_text(value)
        finally:
            probe.rmdir()
    except OSError as exc:
        return f"unavailable: cannot create a {controller} cgroup: {exc.strerror}"
    return "active"


@functools.cache
def _cgroup() -> str:
    return _probe("pids", "pids.max", "8")


@functools.cache
def _memory_cgroup() -> str:
    if cgroup_version() == 2:
        return _probe("memory", "memory.max", str(64 << 20))
    return _probe("memory", "memory.limit_in_bytes", str(64 << 20))


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
        "memory_cgroup": _memory_cgroup(),
        "bubblewrap": "active" if path else f"unavailable: {why}",
        "seccomp": _seccomp(),
        "audit_hook": "active",
    }
