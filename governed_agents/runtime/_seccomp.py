"""The seccomp filter, compiled to BPF once per shape in the parent (pyseccomp over libseccomp),
and loaded in the child by the launcher with two prctl calls — no libseccomp work per run."""

from __future__ import annotations

import errno
import functools
import os
import tempfile

__all__ = ["seccomp_program"]

_AF_UNIX = 1
_CLONE_THREAD = 0x00010000


@functools.cache
def seccomp_program(*, deny_network: bool, deny_exec: bool) -> bytes:
    """BPF for: io_uring off; without network, every socket family but AF_UNIX; without commands,
    no execve/fork/vfork and no clone that is not a thread (clone3 answers ENOSYS so libc falls back)."""
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EACCES)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(sc.ERRNO(errno.ENOSYS), name)
    if deny_network:
        f.add_rule(deny, "socket", sc.Arg(0, sc.NE, _AF_UNIX))
        f.add_rule(deny, "socketpair", sc.Arg(0, sc.NE, _AF_UNIX))
    if deny_exec:
        for name in ("execve", "execveat", "fork", "vfork"):
            f.add_rule(deny, name)
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as handle:
        f.export_bpf(handle)
        handle.flush()
        os.lseek(handle.fileno(), 0, os.SEEK_SET)
        return handle.read()
