"""The server half of the warm server (see ``_warm_client``): import everything once, then fork a
copy per command that becomes the client's process in all but its pid.

One server per socket: a lock file beside the socket (holding the server's pid) makes a second
server for the same key exit at once. A server that retires (stale, or hourly) removes its
socket's name and releases the lock at once, so the next command starts its successor while it
finishes the commands it runs; it never removes a name that is no longer its own socket
(``_Place``). The server serves one configuration: its own ``server_key()`` is the socket's
name and must be the key each request carries, and every peer must be its own user
(``SO_PEERCRED``) confined exactly as the server is (``_confinement``, read through the peer's
pidfd so that a pid reused meanwhile is not taken for it): a process in a governed sandbox, or
under ``unshare``, that reaches the socket is refused, and so runs cold in its own confinement.
It exits when idle for ``IDLE_SECONDS``, when the world it imported changes ("stale") and the
commands it runs have ended, or on SIGTERM. It inherits no descriptor from the client that
started it.

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

from governed_agents._cli._confinement import confinement, peer
from governed_agents._cli._warm_client import COMMANDS, IDLE_SECONDS, NONCE, opened, server_key

_MAX_REQUEST = 4 << 20
_MAX_SERVERS = 8  # per directory: a ninth configuration runs cold until one of these ends
_UNUSED_SECONDS = 120  # a server no command has used by then exits
_LIFETIME_SECONDS = 3600  # however busy, a server is replaced hourly (libraries updated on disk, say)
# what a client may forward: the terminal's signals, and Ctrl-Z's stop and continue
_FORWARDABLE = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                          signal.SIGUSR2, signal.SIGSTOP, signal.SIGCONT})
_RECEIVE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
_LIBC: Any = None  # the C library, opened once by the warm-up (prctl for each copy)


def main(path: str) -> None:
    """Serve ``path`` until idle, stale or told to stop. Never raises: a server that cannot start
    leaves no socket, so clients go on running cold."""
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # nothing of the starting client's: a pipe held
    with contextlib.suppress(BaseException):   # open here would keep its reader waiting for EOF
        _serve(path)  # a detached process has no one to tell
    os._exit(0)


def _serve(path: str) -> None:
    nonce = os.environ.pop(NONCE, "")
    if confinement() is None:
        return  # no /proc: no peer could be checked
    key = server_key()
    name = os.path.basename(path)
    if name != key + ".sock" or len(nonce) < 32:
        return  # started by a client whose configuration this process does not share
    import fcntl

    directory = opened(os.path.dirname(path))  # private, this user's, and held: a path swapped
    if directory is None:                      # meanwhile changes nothing below
        return
    if _live_servers(directory) >= _MAX_SERVERS:
        return
    lock = os.open(name + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory)
    st = os.fstat(lock)
    if (st.st_mode & 0o170000) != 0o100000 or st.st_uid != os.getuid() or st.st_nlink != 1:
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server has this key
    _warm_up()
    world = _World()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=directory)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"/proc/self/fd/{directory}/{name}")
    place = _Place(directory, name, lock)
    if not place.bound():
        return
    listener.listen(64)
    try:
        _Loop(listener, world, place, key, nonce).run()
    finally:
        place.give_up()


class _Place:
    """The socket's name in the server directory, and the lock that makes that name this
    server's. Only the lock's holder binds or removes the name (a starting server unlinks and
    binds only once it holds the lock; ``_live_servers`` unlinks a name only while it holds the
    lock itself), so while this server holds it, no other server can have put a socket there.

    ``give_up`` (at retirement, and again, doing nothing, at exit) removes the name if it is
    still the socket this server bound, and only then releases the lock: the next command finds
    no socket, starts a new server, and that server can take the lock and bind at once, while
    this one finishes the commands it runs. The name's identity is its inode (st_dev, st_ino) as
    ``os.stat`` of the name shows it just after the bind: fstat of the listener would give the
    socket's inode in sockfs, not the directory entry's."""

    def __init__(self, directory: int, name: str, lock: int) -> None:
        self._directory = directory
        self._name = name
        self._lock = lock
        self._bound: tuple[int, int] | None = None
        try:
            st = os.stat(name, dir_fd=directory, follow_symlinks=False)
        except OSError:
            return
        # what remains (no unlink-if-inode exists): another process of this user that writes this
        # private directory without the lock could swap the name between the bind and this stat
        # (this server then takes that socket for its own), or between the stat and the unlink in
        # give_up (that socket is removed). No server can: it binds and unlinks under the lock.
        if (st.st_mode & 0o170000) == 0o140000 and st.st_uid == os.getuid():
            self._bound = st.st_dev, st.st_ino

    def bound(self) -> bool:
        return self._bound is not None

    @property
    def lock(self) -> int:
        """The lock's descriptor, -1 once given up."""
        return self._lock

    def give_up(self) -> None:
        """Remove the name if it is still this server's socket, then release the lock."""
        import fcntl

        lock, self._lock = self._lock, -1  # once only, even if SIGTERM's SystemExit cuts this short
        if lock < 0:
            return
        try:
            st = os.stat(self._name, dir_fd=self._directory, follow_symlinks=False)
            if (st.st_dev, st.st_ino) == self._bound:
                os.unlink(self._name, dir_fd=self._directory)
        except OSError:
            pass  # gone already (or replaced: not this server's to remove)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(lock, fcntl.LOCK_UN)  # the description's lock, whatever copy of it a copy holds
            os.close(lock)


def _live_servers(directory: int) -> int:
    """Servers up in ``directory`` (their lock held); the socket of one that died unannounced
    (SIGKILL) is removed. A retiring server is not counted: it has given up its socket's name
    and its lock, takes no command, and ends with the last of those it runs (each one a client
    waiting for it), so a new server for its key, or for another, is not held back by it."""
    import fcntl

    live = 0
    for name in os.listdir(directory):
        if not name.endswith(".sock"):
            continue
        try:
            lock = os.open(name + ".lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            live += 1
        else:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=directory)
        finally:
            os.close(lock)
    return live


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
    """What the server's imports were resolved from: every loaded module's file (size and mtime);
    in each ``sys.path`` directory, the entries that are, or could shadow, an imported top-level
    module, its ``.pth`` files and ``sitecustomize``/``usercustomize``; and the modification time
    of each imported package's directories (an entry added there could shadow a submodule). Any
    difference means a cold run could import something else."""

    _HOOKS = frozenset({"sitecustomize", "usercustomize"})

    def __init__(self) -> None:
        self._tops = {name.partition(".")[0] for name in sys.modules} | self._HOOKS
        self._packages = sorted({d for m in list(sys.modules.values()) for d in (getattr(m, "__path__", None) or ())
                                 if isinstance(d, str)})
        self._binaries = sorted({sys.executable, *_mapped_files()})  # the interpreter and its shared libraries
        self._state = self._read()

    def _read(self) -> tuple[Any, ...]:
        files = []
        for module in list(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if filename:
                files.append((filename, *_stamp(filename)))
        entries: list[tuple[str, tuple[Any, ...] | None]] = []
        for directory in sys.path:
            try:
                names = os.listdir(directory)
            except OSError:
                entries.append((directory, None))
                continue
            entries.append((directory, tuple(sorted(
                (n, *(_stamp(os.path.join(directory, n)) if n.endswith(".pth") else ()))
                for n in names if n.endswith(".pth") or n.partition(".")[0] in self._tops))))
        packages = [(directory, *_stamp(directory)) for directory in self._packages]
        binaries = [(path, *_stamp(path)) for path in self._binaries]
        return tuple(sorted(files)), tuple(entries), tuple(packages), tuple(binaries)

    def changed(self) -> bool:
        return self._read() != self._state


def _mapped_files() -> set[str]:
    try:
        with open("/proc/self/maps") as handle:
            return {line.split(None, 5)[5].strip() for line in handle
                    if len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith("/")}
    except OSError:
        return set()


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1
    return st.st_size, st.st_mtime_ns


class _Loop:
    """Accept commands, fork a copy per command, report each copy's end to its client."""

    def __init__(self, listener: socket.socket, world: _World, place: _Place, key: str, nonce: str) -> None:
        self._nonce = nonce
        self._born = time.monotonic()
        self._listener = listener
        self._world = world
        self._place = place
        self._key = key
        self._confinement = confinement()
        self._served = 0
        self._note()
        self._running: dict[int, socket.socket] = {}  # pid -> its client's connection
        self._by_fd: dict[int, int] = {}  # a client connection's fd -> its copy's pid
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
        self._poller = poller = select.poll()
        listening = self._listener.fileno()
        poller.register(listening, select.POLLIN)
        poller.register(wake_read, select.POLLIN)
        self._fds = (listening, wake_read, wake_write, self._place.lock)
        try:
            while True:
                self._reap()
                now = time.monotonic()
                if not self._running and (self._stale or now - self._last > IDLE_SECONDS
                                          or (self._served == 0 and now - self._last > _UNUSED_SECONDS)):
                    return
                if now - self._born > _LIFETIME_SECONDS and not self._stale:
                    self._retire()
                # one event at a time, each checked against what is registered now: handling one
                # (a reaped copy's connection closed, a new one accepted) can recycle an fd number
                for fd, _ in poller.poll(1000 * min(IDLE_SECONDS, 60)):
                    if fd == wake_read:
                        _drain(wake_read)
                        self._reap()
                    elif fd == self._listener.fileno():  # -1 once closed (stale)
                        self._accept()
                    elif fd in self._by_fd:
                        self._from_client(fd)
        finally:
            for pid in self._running:
                _kill_group(pid)

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            time.sleep(0.05)  # out of descriptors, say: poll would report the listener again at once
            return
        self._last = time.monotonic()
        try:
            request = _receive(conn) if self._peer_allowed(conn) else None
        except (OSError, ValueError):
            request = None
        import hmac

        if request is None or request.key != self._key or not hmac.compare_digest(
                request.nonce.encode("utf-8", "surrogateescape"), self._nonce.encode()):
            if request is not None:
                request.close()
            conn.close()  # closed without a pid: the client knows nothing ran, and runs cold
            return
        if self._world.changed():
            request.close()
            _send(conn, "stale")
            conn.close()
            self._retire()
            return
        # the copy starts only once its client knows its pid ("go" on a pipe): a client that hears
        # nothing, or only the connection closing, knows nothing ran and may run the command cold
        try:
            go_read, go_write = os.pipe()
        except OSError:
            request.close()
            conn.close()  # no pid: the client runs cold
            return
        server = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # out of processes: the same
            for fd in (go_read, go_write):
                os.close(fd)
            request.close()
            conn.close()
            return
        if pid == 0:
            os.close(go_write)
            _child(request, [conn, self._listener, *self._running.values()], self._fds, server, go_read)
        os.close(go_read)
        request.close()
        self._running[pid] = conn
        self._by_fd[conn.fileno()] = pid
        self._poller.register(conn.fileno(), 1)  # POLLIN: a forwarded signal, or the client going away
        if _send(conn, f"pid {pid}"):
            os.write(go_write, b"g")
            self._served += 1
            self._note()
        os.close(go_write)  # without "g" the copy ends at once

    def _peer_allowed(self, conn: socket.socket) -> bool:
        """The peer is this user, confined as this server is, and still the process it was when
        it connected (its pidfd is checked after its /proc entries were read)."""
        found = peer(conn) if self._confinement is not None else None
        if found is None:
            return False
        pid, pidfd = found
        try:
            if confinement(pid) != self._confinement:
                return False
            answer = _answer_challenge(conn, pid)
            signal.pidfd_send_signal(pidfd, 0)  # raises if that process is gone (its pid free for reuse)
            return answer is not None and _send(conn, answer)
        except (OSError, ValueError):
            return False
        finally:
            os.close(pidfd)

    def _retire(self) -> None:
        """Take no more commands, and give up the socket's name and the lock at once: the next
        command (cold) starts a new server, which serves the ones after it while this one
        finishes those it runs, then exits."""
        self._stale = True
        self._poller.unregister(self._listener.fileno())
        self._listener.close()
        self._place.give_up()

    def _note(self) -> None:
        """The lock file says who serves and how many commands it has started: "PID COUNT"."""
        if self._place.lock >= 0:  # given up: the file is the next server's to write
            os.pwrite(self._place.lock, f"{os.getpid()} {self._served}\n".ljust(32).encode(), 0)

    def _from_client(self, fd: int) -> None:
        pid = self._by_fd[fd]
        conn = self._running[pid]
        try:
            data = conn.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the client is gone: so is its command
            self._forget(fd)
            _kill_group(pid)
            return
        for signum in data:
            if signum in _FORWARDABLE:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signum)

    def _forget(self, fd: int) -> None:
        """Stop watching a client's connection (before it is closed and its number reused)."""
        if self._by_fd.pop(fd, None) is not None:
            self._poller.unregister(fd)

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
            self._forget(conn.fileno())
            self._last = time.monotonic()
            if os.WIFSIGNALED(status):
                _send(conn, f"signal {os.WTERMSIG(status)}")
            else:
                _send(conn, f"exit {os.waitstatus_to_exitcode(status)}")
            conn.close()


def _answer_challenge(conn: socket.socket, pid: int) -> str | None:
    """The client's "challenge N": the 16 bytes it left in the pipe at its descriptor N, read
    through /proc/<pid>/fd/N (hex), which proves to the client that this server may inspect it."""
    conn.settimeout(_RECEIVE_SECONDS)
    line = b""
    while not line.endswith(b"\n") and len(line) < 64:
        chunk = conn.recv(64 - len(line))
        if not chunk:
            return None
        line += chunk
    words = line.split()
    if len(words) != 2 or words[0] != b"challenge" or not words[1].isdigit():
        return None
    fd = os.open(f"/proc/{pid}/fd/{int(words[1])}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        secret = os.read(fd, 16)
    finally:
        os.close(fd)
    return secret.hex() if len(secret) == 16 else None


class _Request:
    def __init__(self, key: str, nonce: str, umask: int, argv0: str, ignored: list[int], argv: list[str],
                 env: dict[str, str], fds: list[int]) -> None:
        self.key, self.nonce, self.umask, self.argv0, self.ignored, self.argv, self.env, self.fds = (
            key, nonce, umask, argv0, ignored, argv, env, fds)

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _receive(conn: socket.socket) -> _Request | None:
    """One request: its length (8 bytes, big-endian), then NUL-separated fields, with four
    descriptors (stdin, stdout, stderr, working directory) beside the first bytes. None for
    anything else, its descriptors closed."""
    deadline = time.monotonic() + _RECEIVE_SECONDS  # for the whole request: a slow client stalls no one long
    data = b""
    fds: list[int] = []
    size = None
    while size is None or len(data) < size + 8:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conn.settimeout(left)
        chunk, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * struct.calcsize("i")))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(struct.unpack(f"{len(payload) // 4}i", payload[: len(payload) - len(payload) % 4]))
        data += chunk
        if size is None and len(data) >= 8:
            size = struct.unpack("!Q", data[:8])[0]
        if not chunk or (size is not None and size > _MAX_REQUEST):
            break
    fields = [os.fsdecode(f) for f in data[8:].split(b"\0")] if size is not None and len(data) == size + 8 else []
    request = None
    if len(fds) == 4 and len(fields) >= 7 and fields[0] == "v1" and fields[6].isdigit():
        argc = int(fields[6])
        argv, env_items = fields[7:7 + argc], fields[7 + argc:]
        if len(argv) == argc and argv and argv[0] in COMMANDS:
            env = dict(item.split("=", 1) for item in env_items if "=" in item)
            ignored = [int(s) for s in fields[5].split(",") if s]
            request = _Request(fields[1], fields[2], int(fields[3], 8), fields[4], ignored, argv, env, fds)
    if request is None:
        for fd in fds:
            os.close(fd)
        return None
    conn.settimeout(None)
    return request


def _child(request: _Request, sockets: list[socket.socket], fds: tuple[int, ...], server: int, go: int) -> None:
    """Become the client's command: its streams, directory, umask, environment and argv, and no
    descriptor of the server's (its listener, lock, wake-up pipe, other clients' connections);
    then run ``cli.main`` and end as a cold interpreter would."""
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
        for sock in sockets:
            sock.detach()  # closed below with the rest; a socket object would close a reused number later
        stdin, stdout, stderr, cwd = request.fds
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
        os.fchdir(cwd)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the request's own, and every one of the server's
        os.umask(request.umask)
        os.environ.clear()
        os.environ.update(request.env)
        _reopen_streams()
        sys.argv[:] = [request.argv0, *request.argv]
        from governed_agents.cli import main

        code = _exit_code(main, request.argv)
    except BaseException:  # whatever happens, the copy never returns into the server loop
        code = 1
    finally:
        os._exit(code)


def _exit_code(main: Any, argv: list[str]) -> int:
    """What a cold ``sys.exit(main())`` would end with, exit handlers and stream flushes included;
    a traceback starts at ``main`` (this module's frames are not the command's)."""
    import atexit
    import traceback

    try:
        code = _status(main(argv))
    except SystemExit as exc:
        code = _status(exc.code)
    except BaseException as exc:  # as the interpreter would: traceback, status 1 (or death by SIGINT)
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        code = -signal.SIGINT if isinstance(exc, KeyboardInterrupt) else 1
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
