"""The filesystem view: what exists inside the sandbox, built from the policy.

Inside exist only the interpreter and the packages it imports (read-only), the few system files
libraries need (:data:`SYSTEM_FILES`, and :data:`NETWORK_FILES` when the policy grants network), the
work dir (writable), a private /tmp and /dev/shm, the sandbox's own /dev and /proc, and each
``allowed_file_paths`` entry — read-only where the policy allows only ``read``, writable where it
allows ``write``/``delete``. Everything else does not exist (ENOENT). A policy with no
``allowed_file_paths`` keeps today's read-only root (``"/"``).

A glob binds what it matches when the run starts (a directory covers its subtree); an entry that
does not exist yet is not bound, so the code cannot create it — allow its directory instead.

Programs too: unless ``allowed_commands`` holds ``"*"``, each program directory (:data:`PROGRAM_DIRECTORIES`)
holds only the programs it allows, the shells (``os.system`` and shell blocks run in one) and the
interpreter; ``ctypes``' ``system("id")`` finds no ``id``. Programs elsewhere (``/usr/lib*``,
``/usr/libexec``: helpers that libraries and allowed programs run) are still there.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from governed_agents.policy._decision import RuntimeLimits

__all__ = ["NETWORK_FILES", "SYSTEM_FILES", "SYSTEM_TREES", "View", "build_view"]

# programs and shared libraries (zoneinfo, fonts and the rest of /usr/share come with /usr)
SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# what libraries read from /etc: the dynamic linker's cache, time zone, fonts, user and group
# names (world-readable, no secrets: the hashes live in /etc/shadow, which is not here), MIME types,
# Debian's alternatives (/usr/bin/awk -> /etc/alternatives/awk). A regular file among them is copied
# into the sandbox's own root (``--file``, from a descriptor opened for this run: one bind and remount
# each cost bubblewrap ~0.1-0.2 ms more), and only when it is world-readable; a symlink into the system
# trees stays a symlink; a directory is bound read-only.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
                "/etc/fonts", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/mime.types",
                "/etc/alternatives")
# only when the policy grants network: name resolution and the certificate store
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/host.conf", "/etc/gai.conf", "/etc/services",
                 "/etc/protocols", "/etc/ssl", "/etc/ca-certificates", "/etc/pki")
# where programs are found on PATH; a symlink among them (/bin -> usr/bin) is hidden with its target
PROGRAM_DIRECTORIES = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/games",
                       "/usr/local/games")
# os.system and subprocess's shell=True run /bin/sh, shell blocks /bin/bash; scripts start with
# #!/usr/bin/env (which, like a shell, finds only the programs that exist here)
SHELLS = ("sh", "bash", "dash", "env")
MAX_BINDS = 512  # a glob that matches more is refused rather than widened
_GLOB = set("*?[")


class ViewError(ValueError):
    """The policy's paths cannot be turned into a view (too many matches)."""


@dataclass
class View:
    argv: list[str] = field(default_factory=list)  # bubblewrap's arguments for the view
    visible: list[str] = field(default_factory=list)  # () = the whole root (read-only) is visible
    system: list[str] = field(default_factory=list)  # interpreter + system roots: not the code's own files
    readable: list[str] = field(default_factory=list)  # the policy's entries bound read-only
    writable: list[str] = field(default_factory=list)  # the policy's entries bound writable
    fds: list[int] = field(default_factory=list)  # the host files ``--file`` copies from: close() once started

    def close(self) -> None:
        while self.fds:
            os.close(self.fds.pop())


def build_view(limits: RuntimeLimits, work_dir: Path, *, interpreter: Sequence[str] = (), programs: bool = True,
               hidden: Sequence[str | os.PathLike[str]] = (), frozen: Sequence[str] = ()) -> View:
    """The view for ``limits``; ``programs=False`` leaves the program directories whole (for code that
    cannot start a program anyway: Python under seccomp without ``allowed_commands``). ``hidden``
    host files (the receipt log and its signing key) are empty inside; one in a directory the code
    may write is refused (:class:`ViewError`): the code could replace it, or plant its WAL."""
    readable = [_entry(p) for p in limits.readable_paths]
    writable = [_entry(p) for p in limits.writable_paths]
    whole_read, whole_write = "/" in readable, "/" in writable
    view = View()
    argv = view.argv
    tmpfs_size = ["--size", str(limits.max_memory)] if limits.max_memory else []
    if whole_write:
        argv += ["--bind", "/", "/"]
    elif whole_read:
        argv += ["--ro-bind", "/", "/"]
    else:
        roots = _system_roots(limits.network)
        for kind, path, target in roots:
            if kind == "symlink":
                argv += ["--symlink", target, path]
            elif kind == "bind":
                argv += ["--ro-bind", path, path]
            elif (fd := _open_copy(path)) is not None:
                view.fds.append(fd)
                argv += ["--perms", "0644", "--file", str(fd), path]
        for path in _covering([p for p in interpreter if not p.startswith("/tmp/")]):
            argv += ["--ro-bind", path, path]
        view.system = [path for _, path, _ in roots] + list(interpreter)
    if programs and not any(entry.split()[:1] == ["*"] for entry in limits.allowed_commands):
        argv += _programs(tuple(limits.allowed_commands))
    argv += ["--dev", "/dev", "--proc", "/proc", *tmpfs_size, "--tmpfs", "/tmp", *tmpfs_size, "--tmpfs", "/dev/shm"]
    # the private /tmp hides what lies under it: bring back an interpreter there (a clone in mktemp -d)
    for path in _covering([p for p in interpreter if p.startswith("/tmp/")]):
        argv += ["--ro-bind", path, path]
    binds: dict[str, bool] = {}  # path -> writable
    if not whole_write:
        for pattern in readable if not whole_read else [p for p in readable if p.startswith("/tmp/")]:
            for path in _matches(pattern):
                binds.setdefault(path, False)
        for pattern in writable:
            for path in _matches(pattern):
                binds[path] = True
    binds[str(work_dir)] = True
    if len(binds) > MAX_BINDS:
        raise ViewError(f"allowed_file_paths match {len(binds)} paths; the runtime binds at most {MAX_BINDS} "
                        "(allow their directory instead)")
    for path in sorted(binds, key=lambda p: (p.count("/"), p)):  # parents first, children on top
        argv += ["--bind" if binds[path] else "--ro-bind", path, path]
    view.readable = [p for p, w in binds.items() if not w and p != str(work_dir)]
    view.writable = [p for p, w in binds.items() if w and p != str(work_dir)]
    for path in frozen:
        if os.path.lexists(path):
            argv += ["--ro-bind", path, path]
    argv += _hidden(hidden, None if whole_read or whole_write else [*view.system, *binds])
    if not (whole_read or whole_write):
        argv += ["--remount-ro", "/"]  # the view's own root is a tmpfs: nothing new appears in it
        view.visible = sorted({*view.system, *binds, "/dev", "/proc"})
    return view


def _hidden(files: Sequence[str | os.PathLike[str]], roots: list[str] | None) -> list[str]:
    """/dev/null bound over each of ``files`` that exists, after every other bind: the code can
    neither read it (a device on a nodev mount), nor write, truncate, unlink or rename it (a mount
    point). A file it may create beside it (a journal, where the directory is writable) can at most
    spoil the log, which ``verify`` then reports: without the key nothing can be signed. ``roots``:
    what the view binds (None: the whole root); a file outside them is not there anyway."""
    argv: list[str] = []
    for file in files:
        path = os.path.realpath(file)
        shown = roots is None or any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
        if shown and os.path.isfile(path):
            argv += ["--ro-bind", "/dev/null", path]
    return argv


def _programs(allowed: tuple[str, ...]) -> list[str]:
    """bubblewrap's arguments that leave in each program directory only the programs ``allowed``
    names (by their first word, a glob on the file name), the shells and the interpreter. The
    directories are listed once per ``allowed`` (a program installed later is missing, but for one
    put in a directory that was empty then, which is left as it is); each program is checked to exist
    at every run."""
    argv: list[str] = []
    for directory, kept in _programs_kept(allowed):
        argv += ["--tmpfs", directory]
        for path in kept:
            if os.path.exists(path):  # a bind follows a symlink: /usr/bin/awk is the program it names
                argv += ["--ro-bind", path, path]
        argv += ["--remount-ro", directory]
    return argv


@functools.lru_cache(maxsize=64)
def _programs_kept(allowed: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(program directory, the paths of the programs kept in it) for each program directory."""
    names = [os.path.basename(entry.split()[0]) for entry in allowed if entry.split()]
    keep = {os.path.realpath(sys.executable), sys.executable}
    found: list[tuple[str, tuple[str, ...]]] = []
    for directory in _program_directories():
        try:
            present = os.listdir(directory)
        except OSError:
            continue
        if not present:  # nothing to hide (/usr/games): a mount less
            continue
        wanted = [f for f in present if f in SHELLS or any(fnmatch.fnmatchcase(f, name) for name in names)]
        wanted += [f for f in present if os.path.join(directory, f) in keep and f not in wanted]
        if len(wanted) > MAX_BINDS:
            raise ViewError(f"allowed_commands match {len(wanted)} programs in {directory}; the runtime binds at "
                            f"most {MAX_BINDS} (allow them all with \"*\" instead)")
        found.append((directory, tuple(os.path.join(directory, name) for name in sorted(wanted))))
    return tuple(found)


@functools.cache
def _program_directories() -> tuple[str, ...]:
    """The program directories present here, each once (a symlink counts as its target)."""
    found: list[str] = []
    for directory in PROGRAM_DIRECTORIES:
        real = os.path.realpath(directory)
        if os.path.isdir(real) and real not in found:
            found.append(real)
    return tuple(found)


def _entry(pattern: str) -> str:
    return "/" if pattern in ("*", "/") else os.path.normpath(pattern)


def _matches(pattern: str) -> list[str]:
    """The existing paths an entry binds: itself, or what its glob matches now (directories cover
    their subtree, so a match inside another is dropped)."""
    if not _GLOB & set(pattern):
        return [pattern] if os.path.lexists(pattern) else []
    found = sorted({os.path.normpath(p) for p in glob.iglob(pattern, recursive=True)})
    return _covering(found)


def _covering(paths: list[str]) -> list[str]:
    """``paths`` without those inside another one of them."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@functools.cache
def _system_roots(network: bool) -> tuple[tuple[str, str, str], ...]:
    """("bind", path, ""), ("symlink", path, target) or ("copy", path, "") for each system tree and
    file present here."""
    roots: list[tuple[str, str, str]] = []
    trees = tuple(os.path.realpath(t) + "/" for t in SYSTEM_TREES if os.path.isdir(t))
    for path in (*SYSTEM_TREES, *SYSTEM_FILES, *(NETWORK_FILES if network else ())):
        if os.path.islink(path) and path in SYSTEM_TREES:  # merged /usr: /bin -> usr/bin
            roots.append(("symlink", path, os.readlink(path)))
        elif os.path.isdir(path):
            roots.append(("bind", path, ""))
        elif os.path.islink(path) and os.path.realpath(path).startswith(trees):  # /etc/localtime -> zoneinfo
            roots.append(("symlink", path, os.readlink(path)))
        elif os.path.isfile(path):  # a symlink elsewhere is followed, as a bind of it would be
            roots.append(("copy", path, ""))
    return tuple(roots)


def _open_copy(path: str) -> int | None:
    """A descriptor on ``path`` for bubblewrap to copy from, when it is a world-readable regular file
    (never /etc/shadow through a symlink, never a FIFO that would block the start), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) and mode & stat.S_IROTH:
        return fd
    os.close(fd)
    return None


@functools.cache
def interpreter_roots() -> tuple[str, ...]:
    """What the sandboxed interpreter needs: its prefixes and its package directories (the launcher
    comes as code: see ``_run._LAUNCH``)."""
    import site

    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(sys.executable),
                  *site.getsitepackages()}
    real = {os.path.realpath(p) for p in candidates if os.path.isdir(p)}
    return tuple(p for p in _covering(sorted(real | {p for p in candidates if os.path.isdir(p)}))
                 if not p.startswith(("/usr/", "/proc/")) and p != "/usr")
