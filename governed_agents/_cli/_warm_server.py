"""The server half of the warm server (see ``_warm_client``): import everything once, then fork a
copy per command that becomes the client's process in all but its pid.

One server per socket: a lock file beside the socket (holding the server's pid) makes a second
server for the same key exit at once. The server answers only its own user (``SO_PEERCRED``),
serves one configuration (it checks that its own ``server_key()`` is the socket's name), and exits
when it is idle for ``IDLE_SECONDS``, when the world it imported changes ("stale"), or on SIGTERM.

Per command: ``pid N`` once the copy is forked, then ``exit N`` or ``signal N`` when it ends. A
client that goes away takes its command with it (the copy's process group is killed); a server
that goes away takes its copies with it (each asks the kernel for SIGKILL when its parent dies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import time
from typing import Any

from governed_agents._cli._warm_client import COMMANDS, IDLE_SECONDS, server_key

_MAX_REQUEST = 4 << 20
_RECEIVE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
_LIBC: Any = None  # the C library, opened once by the warm-up (prctl for each copy)


def main(path: str) -> None:
    """Serve ``path`` until idle, stale or told to stop. Never raises: a server that cannot start
    leaves no socket, so clients go on running cold."""
    with contextlib.suppress(BaseException):  # a detached process has no one to tell
        _serve(path)
    os._exit(0)


def _serve(path: str) -> None:
    if os.path.basename(path) != server_key() + ".sock":
        return  # started by a client whose configuration this process does not share
    import fcntl

    lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server has this key
    _warm_up()
    world = _World()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    try:
        _Loop(listener, world, lock).run()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _warm_up() -> None:
    """Import what the commands import and run each analyser once (the first parse loads libcst's
    native module and fills caches); then freeze it all out of the collector's way."""
    import ctypes
    import gc
    import importlib

    global _LIBC
    _LIBC = ctypes.CDLL(None, use_errno=True)

    for name in ("governed_agents.cli", *(f"governed_agents._cli.{c}" for c in sorted(COMMANDS)),
                 "governed_agents._cli._parallel", "governed_agents.analysis", "governed_agents.policy",
                 "governed_agents.governor", "governed_agents.receipts", "governed_agents.runtime",
                 "argparse", "asyncio", "json", "tempfile", "traceback"):
        importlib.import_module(name)
    from governed_agents.analysis import analyze
    from governed_agents.cli import build_parser

    build_parser()
    analyze("import os\nprint(open('x').read())\n", language="python")
    analyze("ls -l /tmp | wc -l\n", language="bash")
    gc.collect()
    gc.freeze()


class _World:
    """What the server's imports were resolved from: every loaded module's file (size and mtime),
    and in each ``sys.path`` directory the entries that are, or could shadow, an imported
    top-level package, plus its ``.pth`` files. Any difference means a cold run could import
    something else."""

    def __init__(self) -> None:
        self._tops = {name.partition(".")[0] for name in sys.modules}
        self._state = self._read()

    def _read(self) -> tuple[Any, ...]:
        files = []
        for module in list(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if filename:
                try:
                    st = os.stat(filename)
                    files.append((filename, st.st_size, st.st_mtime_ns))
                except OSError:
                    files.append((filename, -1, -1))
        entries: list[tuple[str, tuple[str, ...] | None]] = []
        for directory in sys.path:
            try:
                names = os.listdir(directory)
            except OSError:
                entries.append((directory, None))
                continue
            entries.append((directory, tuple(sorted(
                n for n in names if n.endswith(".pth") or n.partition(".")[0] in self._tops))))
        return tuple(sorted(files)), tuple(entries)

    def changed(self) -> bool:
        return self._read() != self._state


class _Loop:
    """Accept commands, fork a copy per command, report each copy's end to its client."""

    def __init__(self, listener: socket.socket, world: _World, lock: int) -> None:
        self._listener = listener
        self._world = world
        self._lock = lock
        self._served = 0
        self._note()
        self._running: dict[int, socket.socket] = {}  # pid -> its client's connection
        self._last = time.monotonic()
        self._stale = False

    def run(self) -> None:
        import select

        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, _stop)
        poller = select.poll()
        poller.register(self._listener.fileno(), select.POLLIN)
        poller.register(wake_read, select.POLLIN)
        try:
            while True:
                self._reap()
                if not self._running and (self._stale or time.monotonic() - self._last > IDLE_SECONDS):
                    return
                for fd, _ in poller.poll(1000 * min(IDLE_SECONDS, 60)):
                    if fd == wake_read:
                        _drain(wake_read)
                    elif fd == self._listener.fileno():
                        if not self._stale:
                            self._accept(poller)
                    else:
                        self._from_client(fd, poller)
        finally:
            for pid in self._running:
                _kill_group(pid)

    def _accept(self, poller: Any) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self._last = time.monotonic()
        try:
            pid_uid_gid = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", pid_uid_gid)[1] != os.getuid():
                conn.close()
                return
            request = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            return
        if request is None:
            conn.close()
            return
        if self._world.changed():
            self._stale = True
            for fd in request.fds:
                os.close(fd)
            _send(conn, "stale")
            conn.close()
            self._listener.close()
            return
        # the copy starts only once its client knows its pid ("go" on a pipe): a client that hears
        # nothing, or only the connection closing, knows nothing ran and may run the command cold
        go_read, go_write = os.pipe()
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(go_write)
            _child(request, conn, self._listener, server, go_read)
        os.close(go_read)
        for fd in request.fds:
            os.close(fd)
        self._running[pid] = conn
        poller.register(conn.fileno(), 1)  # POLLIN: a forwarded signal, or the client going away
        if _send(conn, f"pid {pid}"):
            os.write(go_write, b"g")
            self._served += 1
            self._note()
        os.close(go_write)  # without "g" the copy ends at once

    def _note(self) -> None:
        """The lock file says who serves and how many commands it has started: "PID COUNT"."""
        os.pwrite(self._lock, f"{os.getpid()} {self._served}\n".ljust(32).encode(), 0)

    def _from_client(self, fd: int, poller: Any) -> None:
        pid = next((p for p, c in self._running.items() if c.fileno() == fd), None)
        if pid is None:
            poller.unregister(fd)
            return
        conn = self._running[pid]
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if not data:  # the client is gone: so is its command
            poller.unregister(fd)
            _kill_group(pid)
            return
        for signum in data:
            with contextlib.suppress(OSError):
                os.killpg(pid, signum)

    def _reap(self) -> None:
        while self._running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self._running.pop(pid, None)
            if conn is None:
                continue
            self._last = time.monotonic()
            if os.WIFSIGNALED(status):
                _send(conn, f"signal {os.WTERMSIG(status)}")
            else:
                _send(conn, f"exit {os.waitstatus_to_exitcode(status)}")
            conn.close()


class _Request:
    def __init__(self, umask: int, argv0: str, ignored: list[int], argv: list[str], env: dict[str, str],
                 fds: list[int]) -> None:
        self.umask, self.argv0, self.ignored, self.argv, self.env, self.fds = umask, argv0, ignored, argv, env, fds


def _receive(conn: socket.socket) -> _Request | None:
    """One request: NUL-separated fields ending in an empty one, with four descriptors (stdin,
    stdout, stderr, working directory). None for anything else."""
    conn.settimeout(_RECEIVE_SECONDS)
    data = b""
    fds: list[int] = []
    while not data.endswith(b"\0\0"):
        chunk, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * struct.calcsize("i")))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(struct.unpack(f"{len(payload) // 4}i", payload[: len(payload) - len(payload) % 4]))
        if not chunk or len(data) + len(chunk) > _MAX_REQUEST:
            break
        data += chunk
    fields = [os.fsdecode(f) for f in data[:-2].split(b"\0")] if data.endswith(b"\0\0") else []
    if len(fds) != 4 or len(fields) < 5 or fields[0] != "v1":
        for fd in fds:
            os.close(fd)
        return None
    conn.settimeout(None)
    argc = int(fields[4])
    argv, env_items = fields[5:5 + argc], fields[5 + argc:]
    if len(argv) != argc or not argv or argv[0] not in COMMANDS:
        for fd in fds:
            os.close(fd)
        return None
    env = dict(item.split("=", 1) for item in env_items if "=" in item)
    ignored = [int(s) for s in fields[3].split(",") if s]
    return _Request(int(fields[1], 8), fields[2], ignored, argv, env, fds)


def _child(request: _Request, conn: socket.socket, listener: socket.socket, server: int, go: int) -> None:
    """Become the client's command: its streams, directory, umask, environment and argv; then run
    ``cli.main`` and end as a cold interpreter would."""
    code = 1
    try:
        os.setpgid(0, 0)
        _die_with_parent(server)
        if os.read(go, 1) != b"g":
            os._exit(1)
        os.close(go)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                       signal.SIGUSR2):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for ignored in request.ignored:
            signal.signal(ignored, signal.SIG_IGN)
        conn.close()
        listener.close()
        stdin, stdout, stderr, cwd = request.fds
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
        os.fchdir(cwd)
        for fd in request.fds:
            if fd > 2:
                os.close(fd)
        os.umask(request.umask)
        os.environ.clear()
        os.environ.update(request.env)
        _reopen_streams()
        sys.argv[:] = [request.argv0, *request.argv]
        from governed_agents.cli import main

        code = _exit_code(lambda: main(request.argv))
    except BaseException:  # whatever happens, the copy never returns into the server loop
        code = 1
    finally:
        os._exit(code)


def _exit_code(run: Any) -> int:
    """What a cold ``sys.exit(main())`` would end with, exit handlers and stream flushes included."""
    import atexit
    import traceback

    try:
        code = _status(run())
    except SystemExit as exc:
        code = _status(exc.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:  # as the interpreter would: traceback, status 1
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # the interpreter's "Exception ignored … flush" exit
            code = 120 if code == 0 else code
    if code == -signal.SIGINT:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    return code


def _status(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _reopen_streams() -> None:
    """sys.stdin/stdout/stderr on the client's descriptors, made as the interpreter makes them."""
    import io

    buffered = not sys.flags.inspect and "PYTHONUNBUFFERED" not in os.environ
    made = []
    for fd, template, mode in ((0, sys.__stdin__, "rb"), (1, sys.__stdout__, "wb"), (2, sys.__stderr__, "wb")):
        assert template is not None
        raw = io.FileIO(fd, mode, closefd=False)
        tty = raw.isatty()
        binary: Any = raw if (not buffered and fd != 0) else (io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw))
        made.append(io.TextIOWrapper(binary, encoding=template.encoding, errors=template.errors, newline="\n",
                                     line_buffering=fd == 2 or (tty and fd != 0), write_through=not buffered and fd != 0))
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made  # type: ignore[misc]


def _die_with_parent(server: int) -> None:
    """SIGKILL for this copy when the server dies (checked after asking: it may already have)."""
    if _LIBC is None or _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != server:
        os._exit(1)


def _send(conn: socket.socket, line: str) -> bool:
    try:
        conn.sendall(line.encode("ascii") + b"\n")
        return True
    except OSError:
        return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except OSError:
        pass


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)
