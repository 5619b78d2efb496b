"""The seccomp filter, compiled to BPF once per shape in the parent (pyseccomp over libseccomp),
and loaded in the child by the launcher with two prctl calls — no libseccomp work per run."""

from __future__ import annotations

import errno
import functools
import os
import tempfile

__all__ = ["ALWAYS_DENIED", "seccomp_program"]

_AF_UNIX = 1
_CLONE_THREAD = 0x00010000

# Denied whatever the policy says: reaching into another process (ptrace and its relatives: a traced
# process runs whatever the tracer injects, outside every rule), and changing the sandbox itself
# (namespaces, mounts, kernel keyrings, BPF, modules). bubblewrap also drops every capability, so
# most of these would fail anyway; the filter makes it hold by construction.
ALWAYS_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "name_to_handle_at", "open_by_handle_at",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "iopl", "ioperm", "swapon", "swapoff", "reboot", "acct", "quotactl",
)


@functools.cache
def seccomp_program(*, deny_network: bool, deny_exec: bool) -> bytes:
    """BPF for: io_uring off; ptrace, process_vm_* and the sandbox-changing calls off
    (:data:`ALWAYS_DENIED`); without network, every socket — AF_UNIX included, so that a host
    service's socket path is no way out — but ``socketpair`` (a connected pair within the process,
    which asyncio and multiprocessing need); without commands, no execve/fork/vfork and no clone
    that is not a thread (clone3 answers ENOSYS so libc falls back)."""
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EACCES)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(sc.ERRNO(errno.ENOSYS), name)
    for name in ALWAYS_DENIED:
        f.add_rule(sc.ERRNO(errno.EPERM), name)
    if deny_network:
        f.add_rule(deny, "socket")
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
