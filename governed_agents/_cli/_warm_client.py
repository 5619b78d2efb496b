"""The client half of the warm server: hand a command to a server that has already imported
everything, or start one for next time and let the caller run the command itself (cold).

A one-file ``check`` spends most of its life importing libcst, pydantic and the analyser before it
looks at the file; a server that did that once forks a copy of itself per command, and the copy
runs ``cli.main`` with the client's argv, environment, working directory, umask and standard
streams (passed as file descriptors), so what it prints and how it exits is what a cold run gives.
The client waits, forwards the signals a terminal sends (Ctrl-C reaches the command) and exits as
the command did. This module imports only what the interpreter has already loaded or builds in
(``_socket``, ``_signal``, ``_blake2``): the client's own start-up is the floor of the whole path.

A server serves exactly one configuration, named by ``server_key()``: the interpreter, its flags,
``sys.path``, the user and groups, the resource limits and CPU set, the confinement (namespaces,
cgroups, seccomp, capabilities: ``_confinement``) and the environment. Any difference reaches a
different server; the server checks the key a client sends and every peer's confinement itself.
The server notices when a module it imported, or a file that would now shadow one, changes on
disk, and then answers "stale": the client runs cold, the server gives up its socket at once (it
exits once the commands it runs end), and the next command starts a fresh one.

No server yet (or not usable: a directory not private to this user, a flag the key cannot see):
``served`` returns None and the caller runs cold; it never changes what a command decides.
``GOVERNED_AGENTS_SERVER=0`` turns the server off.
"""

from __future__ import annotations

import os
import sys

COMMANDS = frozenset({"analyze", "check", "run"})
IDLE_SECONDS = 600  # a server with nothing to do for this long exits
_FIRST_REPLY_SECONDS = 60.0
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
NONCE = "GOVERNED_AGENTS_SERVER_NONCE"  # in a server's initial environment: who can read it may use it
# where the shell was, which terminal, which command line: not what runs (each request carries them)
_KEY_IGNORES = frozenset({"PWD", "OLDPWD", "_", "SHLVL", NONCE, "TMUX_PANE", "WINDOWID", "TERM_SESSION_ID",
                          "SUDO_COMMAND"})
_OFF = frozenset({"0", "off", "no", "false"})
UNKNOWN = 2


def enabled() -> bool:
    """Whether this process may use a server: Linux, the switch not off, and an interpreter whose
    whole configuration the key sees (no ``-X`` options, no command-line flags, no relative
    ``sys.path`` entry whose meaning depends on the working directory)."""
    if os.environ.get("GOVERNED_AGENTS_SERVER", "").strip().lower() in _OFF or not sys.platform.startswith("linux"):
        return False
    if sys._xoptions or "" in sys.path or not all(os.path.isabs(p) for p in sys.path):
        return False
    options = sys.orig_argv[1:2]
    return not options or options[0] == "-m" or not options[0].startswith("-")


def server_dir() -> str | None:
    """The directory of this user's sockets, created private; None when it exists and is not
    (another owner, group or world access, not a directory), or when its parent is another
    user's (root with a user's XDG_RUNTIME_DIR: that user could swap the directory): never talk
    through a shared place. Used through a descriptor opened with O_NOFOLLOW (``_opened``)."""
    path = os.environ.get("GOVERNED_AGENTS_SERVER_DIR") or (
        os.path.join(os.environ["XDG_RUNTIME_DIR"], "governed-agents") if os.environ.get("XDG_RUNTIME_DIR")
        else f"/tmp/governed-agents-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if (st.st_mode & 0o170000) != 0o040000 or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    try:
        parent = os.stat(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return None
    if parent.st_uid not in (0, os.getuid()) or (parent.st_mode & 0o002 and not parent.st_mode & 0o1000):
        return None
    return path


def opened(directory: str) -> int | None:
    """``directory`` opened without following a symlink, still a private directory of this
    user's: names under ``/proc/self/fd/N/`` then reach this very directory, however its path is
    changed meanwhile."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    st = os.fstat(fd)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        os.close(fd)
        return None
    return fd


def server_key() -> str:
    """What a server must share with this process for a forked copy of it to behave as this
    process would: a hash of the interpreter, flags, path, identity, limits, confinement and
    environment."""
    import _blake2
    import resource

    parts = [
        repr(_own_confinement()),
        os.path.realpath(sys.executable), sys.version, repr(sys.flags), repr(sorted(sys._xoptions.items())), repr(sys.path),
        repr((os.getuid(), os.geteuid(), os.getgid(), os.getegid(), sorted(os.getgroups()))),
        repr([resource.getrlimit(getattr(resource, name)) for name in sorted(dir(resource)) if name.startswith("RLIMIT_")]),
        repr(sorted(os.sched_getaffinity(0))),
        repr(sorted((k, v) for k, v in os.environ.items() if k not in _KEY_IGNORES)),
    ]
    return _blake2.blake2b("\0".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def served(argv: list[str]) -> int | None:
    """The exit code of ``argv`` run by a warm server, or None: run it here (no server was
    usable; one is started for the next command where it can be)."""
    if not argv or argv[0] not in COMMANDS or not enabled() or not _job_control_allows(argv):
        return None
    try:
        for fd in (0, 1, 2):  # checked before any descriptor is made here: a closed stream's number
            os.fstat(fd)      # would go to the socket, and the command's output with it
    except OSError:
        return None
    if _own_confinement() is None:  # no /proc to read: no server could be checked, so none is started
        return None
    directory = server_dir()
    dir_fd = None if directory is None else opened(directory)
    if directory is None or dir_fd is None:
        return None
    key = server_key()
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            sock.connect(f"/proc/self/fd/{dir_fd}/{key}.sock")
        except OSError:
            sock.close()
            _start_server(os.path.join(directory, key + ".sock"))
            return None
        try:
            return _converse(sock, argv, key)
        finally:
            sock.close()
    finally:
        os.close(dir_fd)


def _converse(sock: object, argv: list[str], key: str) -> int | None:
    import _signal
    import _socket
    import _struct

    assert isinstance(sock, _socket.socket)
    nonce = _server_nonce(sock)
    if nonce is None:
        return None
    replies = _Replies(sock)
    if not _challenge(sock, replies):
        return None
    fds = [0, 1, 2]
    try:
        cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # an unreadable working directory: cold keeps it as it is
        return None
    ignored = []
    for signum in sorted(_signal.valid_signals()):
        try:
            if _signal.getsignal(signum) == _signal.SIG_IGN:
                ignored.append(str(signum))
        except (OSError, ValueError):
            pass
    env = [f"{k}={v}" for k, v in os.environ.items()]
    fields = ["v1", key, nonce, f"{os.umask(0o022):o}", sys.argv[0], ",".join(ignored), str(len(argv)), *argv, *env]
    os.umask(int(fields[3], 8))
    payload = b"\0".join(os.fsencode(f) for f in fields)
    request = _struct.pack("!Q", len(payload)) + payload
    try:
        sent = sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, _struct.pack("4i", *fds, cwd))])
        if sent < len(request):
            sock.sendall(request[sent:])
    except OSError:
        return None  # the server is gone before it saw anything: nothing ran
    finally:
        os.close(cwd)
    sock.settimeout(_FIRST_REPLY_SECONDS)
    try:
        first = replies.next()
    except TimeoutError:
        _say(f"no answer from the warm server in {_FIRST_REPLY_SECONDS:.0f} s; the command's outcome is unknown")
        return UNKNOWN
    if not first.startswith("pid "):  # "stale", or closed: the server started nothing (its copies wait for
        return None                    # the go it gives after telling the pid), so run cold
    child = int(first[4:])
    sock.settimeout(None)

    def forward(signum: int, frame: object) -> None:
        try:  # noqa: SIM105 - contextlib is not loaded here, and the client loads nothing it can avoid
            sock.send(bytes([signum]))
        except OSError:
            pass

    def suspend(signum: int, frame: object) -> None:
        """Ctrl-Z: stop the command's processes, then this one; continued, continue them."""
        forward(_signal.SIGSTOP, frame)
        _signal.signal(_signal.SIGTSTP, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGTSTP)
        _signal.signal(_signal.SIGTSTP, suspend)
        forward(_signal.SIGCONT, frame)

    for name in _FORWARDED:
        signum = getattr(_signal, name)
        if _signal.getsignal(signum) != _signal.SIG_IGN:
            _signal.signal(signum, forward)
    if _signal.getsignal(_signal.SIGTSTP) != _signal.SIG_IGN:
        _signal.signal(_signal.SIGTSTP, suspend)
    last = replies.next()
    if last.startswith("exit "):
        return int(last[5:])
    if last.startswith("signal "):
        signum = int(last[7:])
        for name in _FORWARDED:
            _signal.signal(getattr(_signal, name), _signal.SIG_DFL)
        _signal.signal(signum, _signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    # the server died under the command: end what it left running (its process group) and say so
    try:  # noqa: SIM105 - as above
        os.killpg(child, 9)
    except OSError:
        pass
    _say("the warm server ended before the command did; its outcome is unknown")
    return UNKNOWN


def _server_nonce(sock: object) -> str | None:
    """The listener's nonce (from its initial environment, which only a process allowed to
    inspect it can read: Landlock, for one, forbids it across domains), if what listens is a
    process of this user confined as this one is: checked before it sees a descriptor or a byte,
    since a socket put in the server's place from a sandbox could otherwise print an approval and
    report "exit 0" for code that never ran. The peer is read through /proc while its pidfd (the
    socket's own, SO_PEERPIDFD, where the kernel has it) shows it is still that process."""
    import _signal

    from governed_agents._cli._confinement import confinement, peer

    own = _own_confinement()
    try:
        found_peer = peer(sock) if own is not None else None
        if found_peer is None:
            return None
        pid, pidfd = found_peer
        try:
            same = confinement(pid) == own
            with open(f"/proc/{pid}/environ", "rb") as handle:
                found = [item[len(NONCE) + 1:] for item in handle.read().split(b"\0")
                         if item.startswith(NONCE.encode() + b"=")]
            _signal.pidfd_send_signal(pidfd, 0)
        finally:
            os.close(pidfd)
    except OSError:
        return None
    return found[0].decode("ascii", "replace") if same and len(found) == 1 and found[0] else None


_OWN: list[tuple[object, ...] | None] = []


def _own_confinement() -> tuple[object, ...] | None:
    """This process's confinement, read once."""
    if not _OWN:
        from governed_agents._cli._confinement import confinement

        _OWN.append(confinement())
    return _OWN[0]


def _challenge(sock: object, replies: _Replies) -> bool:
    """Whether the listener can inspect this process: it must read 16 random bytes from a pipe
    only this process holds, through /proc/<this pid>/fd/N, before it sees anything else. A
    listener inside a Landlock domain this process is not in cannot (Landlock denies inspecting a
    process outside its domain), though this process can read its /proc entries and its nonce."""
    secret = os.urandom(16)
    read, write = os.pipe()
    try:
        os.write(write, secret)
        os.close(write)
        sock.settimeout(_FIRST_REPLY_SECONDS)  # type: ignore[attr-defined]
        sock.sendall(f"challenge {read}\n".encode())  # type: ignore[attr-defined]
        answer = replies.next()
    except OSError:
        return False
    finally:
        os.close(read)
    return answer == secret.hex()


def _job_control_allows(argv: list[str]) -> bool:
    """A copy of the server is in no terminal's session, so the terminal's job control (SIGTTIN
    for a background reader, the shell taking the terminal back) cannot reach it: a command that
    would read a terminal (``-`` with the terminal as standard input), or any command started in
    the background of a terminal, runs cold, where job control works as it always has."""
    try:
        if not os.isatty(0):
            return True
        return "-" not in argv[1:] and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


class _Replies:
    """Lines from the server, one at a time; "" once it has closed."""

    def __init__(self, sock: object) -> None:
        self._sock = sock
        self._buffer = b""

    def next(self) -> str:
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(256)  # type: ignore[attr-defined]
            except (ConnectionError, InterruptedError):
                chunk = b""
            if not chunk:
                return ""
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("ascii", "replace")


def _say(message: str) -> None:
    sys.stderr.write(f"governed-agents: {message}\n")
    sys.stderr.flush()


_SERVER_MAIN = "import sys; path = sys.argv[1]; sys.path[:] = sys.argv[2:]; " \
               "from governed_agents._cli import _warm_server; _warm_server.main(path)"


def _start_server(path: str) -> None:
    """Start a server for ``path`` in its own session, detached from this terminal; it binds the
    socket once its imports are done, so this command runs cold and the next one is warm."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    import _signal

    env = dict(os.environ, **{NONCE: os.urandom(16).hex()})
    try:  # no signal blocked and none ignored: the server's copies must not inherit this process's
        os.posix_spawn(sys.executable, [sys.executable, "-c", _SERVER_MAIN, path, *sys.path], env,
                       file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                                     (os.POSIX_SPAWN_DUP2, null, 2)], setsid=True, setsigmask=(),
                       setsigdef=_signal.valid_signals() - {_signal.SIGKILL, _signal.SIGSTOP})
    except OSError:
        pass
    finally:
        os.close(null)
