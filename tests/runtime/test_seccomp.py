"""The seccomp program: libseccomp opened by its soname (no ``ldconfig -p``), and the same BPF that
pyseccomp (which the runtime used before) builds from the same rules."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from governed_agents.runtime import _seccomp
from governed_agents.runtime._seccomp import ALWAYS_DENIED, seccomp_program

SHAPES = [(network, exec_) for network in (False, True) for exec_ in (False, True)]


def _pyseccomp_program(*, deny_network: bool, deny_exec: bool) -> bytes:
    """The program as the runtime built it with pyseccomp."""
    import tempfile

    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EACCES)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(sc.ERRNO(errno.ENOSYS), name)
    for name in ALWAYS_DENIED:
        f.add_rule(sc.ERRNO(errno.EPERM), name)
    if deny_network:
        f.add_rule(deny, "socket")
        f.add_rule(deny, "socketpair", sc.Arg(0, sc.NE, 1))
    else:
        f.add_rule(deny, "socket", sc.Arg(0, sc.EQ, 1))
    if deny_exec:
        for name in ("execve", "execveat", "fork", "vfork"):
            f.add_rule(deny, name)
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, 0x00010000, 0))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as handle:
        f.export_bpf(handle)
        handle.seek(0)
        return handle.read()


@pytest.mark.parametrize(("deny_network", "deny_exec"), SHAPES)
def test_the_program_is_pyseccomps_byte_for_byte(deny_network, deny_exec):
    ours = seccomp_program(deny_network=deny_network, deny_exec=deny_exec)
    assert ours == _pyseccomp_program(deny_network=deny_network, deny_exec=deny_exec)
    assert len(ours) % 8 == 0 and len(ours) > 8 * len(ALWAYS_DENIED)


def test_the_shapes_differ():
    programs = {seccomp_program(deny_network=n, deny_exec=e) for n, e in SHAPES}
    assert len(programs) == len(SHAPES)


def test_libseccomp_is_opened_without_running_ldconfig():
    """A fresh process builds a program and starts no process (find_library runs ``ldconfig -p``)."""
    code = ("import subprocess, sys\n"
            "def refuse(*a, **k): raise AssertionError('a process was started')\n"
            "subprocess.Popen = refuse\n"
            "from governed_agents.runtime._seccomp import seccomp_program\n"
            "assert seccomp_program(deny_network=True, deny_exec=True)\n"
            "print('ctypes.util' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "False\n", "")


def test_no_library_means_no_program(monkeypatch):
    """Neither the soname nor find_library: the call raises (the layer is then unavailable, and a
    policy that needs it is refused) — never an empty or partial program."""
    import ctypes.util

    monkeypatch.setattr(_seccomp, "SONAMES", ("libgoverned-no-such-library.so.9",))
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    _seccomp._library.cache_clear()
    seccomp_program.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="Unable to find libseccomp"):
            seccomp_program(deny_network=True, deny_exec=True)
    finally:
        _seccomp._library.cache_clear()
        seccomp_program.cache_clear()


def test_an_unknown_system_call_fails_rather_than_being_left_out(monkeypatch):
    monkeypatch.setattr(_seccomp, "ALWAYS_DENIED", ("ptrace", "no_such_system_call"))
    seccomp_program.cache_clear()
    try:
        with pytest.raises(OSError):
            seccomp_program(deny_network=False, deny_exec=False)
    finally:
        seccomp_program.cache_clear()
