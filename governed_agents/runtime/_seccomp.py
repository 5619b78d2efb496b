"""The seccomp filter, compiled to BPF once per shape in the parent (the system's libseccomp, through
ctypes), and loaded in the child by the launcher with two prctl calls — no libseccomp work per run.

The library is opened by its soname (``libseccomp.so.2``, which the dynamic linker finds in its
cache): ``ctypes.util.find_library``, which pyseccomp calls at import for libc and for libseccomp,
runs ``ldconfig -p`` in a subprocess each time (two processes, ~5 ms of a run's start). Only when
the soname does not open is ``find_library`` asked, so that a libseccomp under another name is
still found; none at all, or a call that fails, raises, and the layer is then unavailable (a
policy that needs it is refused). The calls are the ones pyseccomp makes, with the same arguments:
the program is the same, byte for byte (tests/runtime/test_seccomp.py).
"""

from __future__ import annotations

import errno
import functools
import os
from typing import Any

__all__ = ["ALWAYS_DENIED", "SONAMES", "seccomp_program"]

SONAMES = ("libseccomp.so.2",)
_ALLOW = 0x7FFF0000
_NE, _EQ, _MASKED_EQ = 1, 4, 7
_ARCH_NATIVE = 0
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


def _errno_action(number: int) -> int:
    return 0x00050000 | (number & 0x0000FFFF)


@functools.cache
def _library() -> tuple[Any, Any]:
    """libseccomp (with the prototypes of the calls made here) and its struct scmp_arg_cmp; raises
    when it cannot be opened."""
    import ctypes

    lib = None
    for name in SONAMES:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        import ctypes.util

        path = ctypes.util.find_library("seccomp")
        if path is None:
            raise RuntimeError("Unable to find libseccomp")
        lib = ctypes.CDLL(path)
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    lib.seccomp_release.restype = None
    lib.seccomp_rule_add_array.argtypes = (ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.c_void_p)
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name_arch.argtypes = (ctypes.c_uint32, ctypes.c_char_p)
    lib.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = (ctypes.c_void_p, ctypes.c_int)
    lib.seccomp_export_bpf.restype = ctypes.c_int

    class ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                    ("datum_b", ctypes.c_uint64)]

    return lib, ArgCmp


def _checked(result: int) -> None:
    if result < 0:
        raise OSError(-result, os.strerror(-result))


class _Filter:
    """One libseccomp filter context, released when done (``with``)."""

    def __init__(self, defaction: int) -> None:
        self.lib, self.arg_cmp = _library()
        self.ctx = self.lib.seccomp_init(defaction)
        if self.ctx is None:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    def __enter__(self) -> _Filter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lib.seccomp_release(self.ctx)

    def add_rule(self, action: int, syscall: str, *args: tuple[int, int, int, int]) -> None:
        number = self.lib.seccomp_syscall_resolve_name_arch(_ARCH_NATIVE, syscall.encode())
        array = (self.arg_cmp * len(args))(*args)
        _checked(self.lib.seccomp_rule_add_array(self.ctx, action, number, len(args), array))

    def export_bpf(self) -> bytes:
        fd = os.memfd_create("governed-seccomp", os.MFD_CLOEXEC)
        try:
            _checked(self.lib.seccomp_export_bpf(self.ctx, fd))
            size = os.fstat(fd).st_size
            return os.pread(fd, size, 0) if size else b""
        finally:
            os.close(fd)


@functools.cache
def seccomp_program(*, deny_network: bool, deny_exec: bool) -> bytes:
    """BPF for: io_uring off; ptrace, process_vm_* and the sandbox-changing calls off
    (:data:`ALWAYS_DENIED`); with network, no AF_UNIX socket (a host service's socket path, in a
    view that shows it, is no way out: connect() works through a read-only bind); without network,
    every socket but ``socketpair`` (a connected pair within the process,
    which asyncio and multiprocessing need); without commands, no execve/fork/vfork and no clone
    that is not a thread (clone3 answers ENOSYS so libc falls back)."""
    with _Filter(_ALLOW) as f:
        deny = _errno_action(errno.EACCES)
        for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
            f.add_rule(_errno_action(errno.ENOSYS), name)
        for name in ALWAYS_DENIED:
            f.add_rule(_errno_action(errno.EPERM), name)
        if deny_network:
            f.add_rule(deny, "socket")
            f.add_rule(deny, "socketpair", (0, _NE, _AF_UNIX, 0))
        else:  # network is a policy's destinations (host and port), never a host service's socket path
            f.add_rule(deny, "socket", (0, _EQ, _AF_UNIX, 0))
        if deny_exec:
            for name in ("execve", "execveat", "fork", "vfork"):
                f.add_rule(deny, name)
            f.add_rule(deny, "clone", (0, _MASKED_EQ, _CLONE_THREAD, 0))
            f.add_rule(_errno_action(errno.ENOSYS), "clone3")
        program = f.export_bpf()
    if not program or len(program) % 8:
        raise OSError(errno.EINVAL, "libseccomp exported no BPF program")
    return program
