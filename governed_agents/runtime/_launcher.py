"""The first code that runs in the child: limits in, then the user's code.

Run by ``python -I -S -c`` from its code object, compiled once by the parent and handed over marshalled
in the first argument (see ``_run._LAUNCH``: nothing of the runtime's own directory needs to exist in
the sandbox); CONFIG, the second argument, is a hex-encoded ``marshal`` of a dict. It imports nothing
beyond the interpreter's built-ins and _ctypes (for setrlimit and prctl), so it starts fast. It is
PID 1 of the sandbox (``bwrap --as-pid-1``: no bubblewrap init runs beside it, unfiltered and outside
the cgroups). In order: rlimits, the seccomp filter (compiled to BPF once by the parent; the kernel
says no to sockets/exec/fork the policy does not grant, and to ptrace always), the wait for the
parent's go (it has put this process in the run's cgroups, and written the receipt for a held start)
and the check that the cgroups hold it, the PEP 578 audit hook (readable refusals and the record of
what the code did — not the boundary), then the user's code, read from a file descriptor — or an
exec of the shell on that descriptor for shell blocks (rlimits and seccomp survive exec).
"""

import marshal
import os
import sys

_C: dict = {}  # the _ctypes types the launcher builds, once


def _c_types():
    """Int, Pointer, Function (a C function returning int, keeping errno), Libc (the running program)
    and a cache of char arrays by length, from _ctypes: the ctypes package would add ~3 ms a run."""
    if not _C:
        import _ctypes

        class Int(_ctypes._SimpleCData):
            _type_ = "i"

        class Pointer(_ctypes._SimpleCData):
            _type_ = "P"

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = Int

        class Libc:
            _handle = _ctypes.dlopen(None, 0)  # type: ignore[arg-type]  # None: the running program

        _C.update(module=_ctypes, Pointer=Pointer, Function=Function, Libc=Libc, arrays={},
                  Char=type("Char", (_ctypes._SimpleCData,), {"_type_": "c"}))
    return _C


def _libc(name):
    c = _c_types()
    return c["Function"]((name, c["Libc"]))  # what CDLL passes: (name, an object with _handle)


def _pointer_to(data):
    """A pointer argument to a copy of ``data`` (kept alive with it: the pair is returned)."""
    c = _c_types()
    array = c["arrays"].get(len(data))
    if array is None:
        array = c["arrays"][len(data)] = type("Bytes", (c["module"].Array,), {"_type_": c["Char"], "_length_": len(data)})
    buffer = array.from_buffer_copy(data)
    return c["Pointer"](c["module"].addressof(buffer)), buffer


def _rlimits(config):
    """The policy's rlimits (the parent's numbering: ``(resource, soft, hard)``), set here, after
    bubblewrap's set-up — an RLIMIT_FSIZE on the sandbox from outside would stop bubblewrap copying
    /etc in — through libc: the resource module is one more shared library to load."""
    wanted = config.get("rlimits", ())
    if not wanted:
        return
    setrlimit = _libc("setrlimit")
    for which, soft, hard in wanted:
        # struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }: two unsigned 64-bit integers
        limit, _kept = _pointer_to(soft.to_bytes(8, sys.byteorder) + hard.to_bytes(8, sys.byteorder))
        if setrlimit(which, limit) != 0:
            raise OSError(_c_types()["module"].get_errno(), "governed-agents: could not set the run's rlimits")


def _seccomp(config):
    """Load the parent's BPF with prctl."""
    bpf = config.get("bpf")
    if not bpf:
        return
    prctl = _libc("prctl")
    program, _kept = _pointer_to(bpf)
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    fprog, _kept_too = _pointer_to((len(bpf) // 8).to_bytes(2, sys.byteorder) + bytes(6)
                                   + program.value.to_bytes(8, sys.byteorder))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0 or prctl(pr_set_seccomp, seccomp_mode_filter, fprog, 0, 0) != 0:
        raise OSError(_c_types()["module"].get_errno(), "governed-agents: could not load the seccomp filter")


CODE_NAME = "<governed code>"  # the code's frames; exec'd strings are "<string>"
LAUNCHER_NAME = "<governed launcher>"  # this module's frames (the name the parent compiles it under)
_OWN = (CODE_NAME, "<string>")
_IMPORT_MACHINERY = ("<frozen ", )


def _caller_is_code(depth=2, past_imports=True):
    """Whether the Python frame that caused the event is the run's own code (or a string it exec'd),
    past the import machinery: library code opening its own files is not the code's doing."""
    frame = sys._getframe(depth)
    while past_imports and frame is not None and (frame.f_code.co_filename.startswith(_IMPORT_MACHINERY)
                                                  or frame.f_code.co_filename.endswith("importlib/__init__.py")):
        frame = frame.f_back  # type: ignore[assignment]  # None ends the walk
    return frame is not None and frame.f_code.co_filename in _OWN


class _Observed:
    """What the code did or attempted, as the audit hook saw it: bounded, deduplicated, written as it
    happens (hex-encoded, tab-separated lines) to a memfd the parent reads after the run — so a run
    killed at its time limit still reports what it did until then."""

    def __init__(self, fd, limit):
        self.fd, self.limit, self.seen, self.full = fd, limit, set(), False

    def add(self, kind, *fields):
        if self.fd is None:
            return
        record = (kind, *fields)
        if record in self.seen:
            return
        if len(self.seen) >= self.limit:
            if not self.full:
                self.full = True
                self._write(("truncated",))
            return
        self.seen.add(record)
        self._write(record)

    def _write(self, record):
        line = record[0] + "".join("\t" + str(f).encode("utf-8", "surrogateescape").hex() for f in record[1:])
        try:
            os.write(self.fd, (line + "\n").encode())
        except OSError:
            self.fd = None


def _audit_hook(config, observed):
    audit = config.get("audit")
    if not audit:
        return
    network = audit.get("network", False)
    writable = tuple(os.path.realpath(p) for p in audit.get("writable", ()))
    commands = audit.get("commands", ())
    # a program is allowed by an entry's first word, a glob on its name, as the view binds it
    programs = tuple(os.path.basename(entry.split()[0]) for entry in commands if entry.split())
    globbed = tuple(p for p in programs if "*" in p or "?" in p or "[" in p)
    if globbed:
        import fnmatch  # here, not in the hook: an import there is an event of its own

        def program_allowed(name: str) -> bool:
            return name in programs or any(fnmatch.fnmatchcase(name, p) for p in globbed)
    else:
        def program_allowed(name: str) -> bool:
            return name in programs
    # the filesystem view: what exists inside the sandbox. A path outside it does not exist there;
    # the hook says which constraint made it so (the view, not the hook, is what refuses it)
    visible = tuple(audit.get("visible", ()))  # () = the whole root is visible (read-only)
    system = tuple(p.rstrip("/") + "/" for p in audit.get("system", ()))
    read_rule = audit.get("read_rule", "allowed_file_paths")
    write_rule = audit.get("write_rule", "allowed_file_paths")
    blocked = []
    _FileNotFound, _Permission, fsdecode, normpath, getcwd = (FileNotFoundError, PermissionError, os.fsdecode,
                                                              os.path.normpath, os.getcwd)

    def absolute(path):
        text = fsdecode(path)
        if not text.startswith("/"):
            text = getcwd() + "/" + text
        if "/." in text or "//" in text:
            text = normpath(text)
        return text

    def in_view(path):
        if not visible:
            return True
        if any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in visible):
            return True
        # the private /tmp holds the code's own files, never the host's
        return path.startswith("/tmp/") and os.path.lexists(path)

    def writable_path(path):
        try:
            real = os.path.realpath(fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(p == "/" or real == p or real.startswith(p.rstrip("/") + "/") for p in writable)

    def refuse(what, error=_Permission, path=None, shout=True):
        message = "governed-agents: blocked " + what
        if shout and message not in blocked:
            blocked.append(message)
            sys.stderr.write(message + "\n")
        if error is _FileNotFound:
            raise _FileNotFound(2, message, path)
        raise error(message)

    def read_check(event, path):
        if not visible or not isinstance(path, (str, bytes)):
            return
        where = absolute(path)
        if in_view(where):
            if not where.startswith(system):
                observed.add("file", "read", where)
            return
        observed.add("file", "read", where, read_rule)
        refuse(f"a read of {where}: outside {read_rule}" + audit.get("read_detail", ""), _FileNotFound, where,
               shout=_caller_is_code(3))

    def hook(event, args):
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            writes = (mode and any(c in str(mode) for c in "wax+")) or (flags and flags & (os.O_WRONLY | os.O_RDWR))
            if not isinstance(path, (str, bytes)):
                return
            if writes:
                where = absolute(path)
                if not writable_path(path):
                    observed.add("file", "write", where, write_rule)
                    refuse(f"a write to {where}: outside {write_rule}" + audit.get("write_detail", ""))
                if not where.startswith(system):
                    observed.add("file", "write", where)
            else:
                read_check(event, path)
        elif event == "import":
            if _caller_is_code():
                observed.add("import", args[0])
        elif event in ("os.listdir", "os.scandir", "glob.glob"):
            read_check(event, args[0] if args[0] is not None else ".")
        elif event in ("socket.connect", "socket.bind", "socket.sendto"):
            destination = args[1]
            if isinstance(destination, tuple):
                destination = ":".join(str(x) for x in destination[:2])
            if not network:
                observed.add("network", str(destination), "allowed_network_destinations")
                refuse("network access (" + event + " " + str(args[1]) + "): the policy grants no network")
            observed.add("network", str(destination))
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            program = args[0]
            if isinstance(program, (list, tuple)):
                program = program[0] if program else ""
            command = fsdecode(program) if isinstance(program, (str, bytes)) else str(program)
            name = os.path.basename(command.split()[0]) if command.split() else ""
            if not program_allowed(name):
                observed.add("process", command, "allowed_commands")
                refuse("starting a process (" + event + " " + name + "): not in allowed_commands")
            observed.add("process", command)
        elif event in ("os.remove", "os.rmdir", "shutil.rmtree", "os.rename"):
            where = absolute(args[0]) if isinstance(args[0], (str, bytes)) else str(args[0])
            if not writable_path(args[0]):
                observed.add("file", "delete", where, write_rule)
                refuse(event + " of " + where + ": outside " + write_rule + audit.get("write_detail", ""))
            observed.add("file", "delete", where)
        elif event in ("exec", "compile") or event == "ctypes.dlopen":
            if event == "ctypes.dlopen":
                observed.add("dynamic", "ctypes")
            elif _caller_is_code(past_imports=False):  # not a module body the import system runs
                observed.add("dynamic", "exec" if event == "exec" else "compile")

    sys.addaudithook(hook)


def _run_python(config):
    """Run the code as __main__ (what runpy does, without importing pkgutil and typing). It comes
    from a file descriptor the parent filled (the host writes nothing into the work dir): the source
    and its code object, compiled by the parent with this same interpreter (a first compile costs a
    fresh interpreter ~1 ms); None when the parent left the compiling to this process."""
    fd = config["code_fd"]
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    source, code = marshal.loads(b"".join(chunks))
    main = type(sys)("__main__")
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    sys.argv = [CODE_NAME]
    try:
        if code is None:
            code = compile(source, CODE_NAME, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # the traceback a plain `python file.py` prints: no launcher frames
        import linecache

        text = source.decode("utf-8", "replace")
        linecache.cache[CODE_NAME] = (len(text), None, text.splitlines(True), CODE_NAME)
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != CODE_NAME:
            tb = tb.tb_next
        last = tb  # None for a SyntaxError: plain python prints no frames for it either
        while last is not None and last.tb_next is not None:  # a refusal raised in the audit hook: no hook frames
            if last.tb_next.tb_frame.f_code.co_filename == LAUNCHER_NAME:
                last.tb_next = None
                break
            last = last.tb_next
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        sys.exit(1)


def _wait_for_go(config):
    """Wait for the parent's go: it comes once the parent has put this process in the run's cgroups
    (and made the decision durable, for a held start). EOF instead of the go byte: the code never runs.
    Then check, from inside, that the process is in each of its cgroups — the code never starts
    outside them, whatever the parent did."""
    go_fd = config.get("go_fd")
    if go_fd is None:
        return
    go = os.read(go_fd, 1)
    os.close(go_fd)
    if go != b"\x01":
        os._exit(125)
    expected = config.get("cgroup")
    if not expected:
        return
    with open("/proc/self/cgroup", "rb") as handle:
        lines = handle.read().decode().splitlines()
    joined = {}
    for line in lines:  # "4:memory:/../../governed-…": paths are relative to the cgroup namespace's root
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            joined[controller] = path.rsplit("/", 1)[-1]
    missing = [c or "unified" for c, name in expected if joined.get(c) != name]
    if missing:
        os.write(2, ("governed-agents: stopped: not inside the run's cgroup (" + ", ".join(missing) + ")\n").encode())
        os._exit(126)


def main():
    config = marshal.loads(bytes.fromhex(sys.argv[2]))
    # started with -S (no site: no .pth processing, no editable-install finders): the parent's
    # package directories are added explicitly, and the work dir (the stock executor's functions=
    # module) last, so that nothing planted there shadows the standard library or a package
    sys.path.extend(config.get("path", ()))
    sys.path.append(os.getcwd())
    _rlimits(config)
    _seccomp(config)
    observed = _Observed(config.get("report_fd"), config.get("report_limit", 256))
    _wait_for_go(config)
    if config["language"] == "python":
        _limit_signals()
        _audit_hook(config, observed)
        _run_python(config)
    else:
        _run_shell(config)


def _limit_signals():
    """As the sandbox's PID 1 the launcher would never see SIGXCPU (the kernel drops a signal its
    init has no handler for): die of it as a plain process would — exit status 128 + the signal."""
    import _signal  # signal itself would import enum, functools and collections (~1.5 ms)

    _signal.signal(_signal.SIGXCPU, lambda number, frame: os._exit(128 + number))


def _run_shell(config):
    """The shell runs as a child: PID 1 stays the launcher (filtered, in the cgroups), which reaps
    every orphan and ends the sandbox with the shell's own status."""
    fd = config["code_fd"]
    child = os.fork()
    if child == 0:
        os.execv(config["shell"], [config["shell"], f"/dev/fd/{fd}"])
    os.close(fd)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == child:
            os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
