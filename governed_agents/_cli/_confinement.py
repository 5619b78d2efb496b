"""What confines a process, as Linux shows it in ``/proc/<pid>``: its namespaces, root directory,
cgroups, resource limits, user and groups, CPU and memory-node sets, seccomp and no_new_privs
state, capability sets, blocked signals, personality (ASLR off, say), OOM score adjustment,
security label, nice value and scheduling policy. Landlock shows nowhere; the server's nonce
(``_warm_client``), readable only by a process allowed to inspect the server, stands in for it.

The warm server serves only a client confined exactly as the server is: a forked copy of the
server runs with the server's confinement, not its client's. A client under ``unshare --net``, in
a memory-limited cgroup, or inside a governed sandbox (its own namespaces, seccomp, no
capabilities) that reached the socket would otherwise have its command run outside all of that.
So the client's key includes its own confinement (each confinement gets its own server), and the
server compares every peer's with its own before it reads a request.

Imports only built-in modules: the client reads its own on every command.
"""

from __future__ import annotations

import os
from typing import Any

SO_PEERPIDFD = 77  # Linux 6.5: a pidfd of the socket's peer (not in Python 3.11's socket module)

_NAMESPACES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")
_STATUS = ("Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "Seccomp_filters", "CapInh", "CapPrm", "CapEff",
           "CapBnd", "CapAmb", "SigBlk", "Cpus_allowed_list", "Mems_allowed_list")
_FILES = ("cgroup", "limits", "personality", "oom_score_adj")


def peer(sock: Any) -> tuple[int, int] | None:
    """(pid, pidfd) of the process at the other end of a connected Unix socket, when it runs as
    this user; None otherwise. The pidfd (the socket's own where the kernel has SO_PEERPIDFD)
    lets the caller check, after reading the peer's /proc entries by pid, that the pid still
    names that process; the caller closes it."""
    import _socket
    import _struct

    pid, uid, _ = _struct.unpack("3i", sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12))
    if uid != os.getuid() or pid <= 0:
        return None
    try:
        pidfd = _struct.unpack("i", sock.getsockopt(_socket.SOL_SOCKET, SO_PEERPIDFD, 4))[0]
    except OSError:  # before Linux 6.5
        pidfd = os.pidfd_open(pid)
    return pid, pidfd


def confinement(pid: int | str = "self") -> tuple[object, ...] | None:
    """The confinement of ``pid`` (default this process), or None where any part cannot be read:
    a process whose confinement is unknown is never taken to match."""
    proc = f"/proc/{pid}"
    try:
        parts: list[object] = []
        for name in _NAMESPACES:
            try:
                st = os.stat(f"{proc}/ns/{name}")
                parts.append((name, st.st_dev, st.st_ino))
            except FileNotFoundError:  # a namespace kind this kernel does not have
                parts.append((name, None))
        root = os.stat(f"{proc}/root")
        parts.append(("root", root.st_dev, root.st_ino))
        for name in _FILES:
            with open(f"{proc}/{name}", "rb") as handle:
                parts.append((name, handle.read()))
        with open(f"{proc}/status", "rb") as handle:
            for line in handle.read().decode("ascii", "replace").splitlines():
                key, _, value = line.partition(":")
                if key in _STATUS:
                    parts.append((key, value.strip()))
        try:
            with open(f"{proc}/attr/current", "rb") as handle:
                parts.append(handle.read())
        except OSError:
            parts.append(None)  # no LSM label exposed: the same for every process here
        with open(f"{proc}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        parts.append(("nice", int(fields[16]), "rt_priority", int(fields[37]), "policy", int(fields[38])))
    except (OSError, ValueError, IndexError):
        return None
    return tuple(parts)
