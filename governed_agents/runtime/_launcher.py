"""The first code that runs in the child: limits in, then the user's code.

Imported from its directory by ``python -I -S -c`` (see ``_run._LAUNCH``; CONFIG, the first argument,
is a hex-encoded ``marshal`` of a dict); it imports nothing beyond the interpreter's built-ins (and _ctypes when a seccomp filter is
to be loaded), so it starts fast. In order: rlimits, the seccomp filter (compiled to BPF once by the
parent; the kernel says no to sockets/exec/fork the policy does not grant), the PEP 578 audit hook
(readable refusals, not the boundary), the wait for the parent's go when it is still writing the
receipt, then the user's code — or an exec of the shell for shell
blocks (rlimits and seccomp survive exec).
"""

import marshal
import os
import resource
import sys


def _rlimits(config):
    limits = (("as", resource.RLIMIT_AS), ("cpu", resource.RLIMIT_CPU), ("fsize", resource.RLIMIT_FSIZE))
    for key, which in limits:
        value = config.get(key)
        if value is None:
            continue
        value = int(value)
        if key == "cpu":  # SIGXCPU at the soft limit, SIGKILL one second later
            resource.setrlimit(which, (value, value + 1))
        else:
            resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _seccomp(config):
    """Load the parent's BPF with prctl, through _ctypes: the ctypes package would add ~3 ms a run."""
    bpf = config.get("bpf")
    if not bpf:
        return
    import _ctypes

    class Int(_ctypes._SimpleCData):
        _type_ = "i"

    class Pointer(_ctypes._SimpleCData):
        _type_ = "P"

    class Bytes(_ctypes.Array):
        _type_ = type("Char", (_ctypes._SimpleCData,), {"_type_": "c"})
        _length_ = len(bpf)

    class Prctl(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = Int

    class Libc:
        _handle = _ctypes.dlopen(None, 0)  # type: ignore[arg-type]  # None: the running program

    prctl = Prctl(("prctl", Libc))  # type: ignore[arg-type]  # what CDLL would pass: (name, obj with _handle)
    program = Bytes.from_buffer_copy(bpf)
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    fprog = (len(bpf) // 8).to_bytes(2, sys.byteorder) + bytes(6) + _ctypes.addressof(program).to_bytes(8, sys.byteorder)

    class Fprog(_ctypes.Array):
        _type_ = Bytes._type_
        _length_ = 16

    fprog_buffer = Fprog.from_buffer_copy(fprog)
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0 or \
            prctl(pr_set_seccomp, seccomp_mode_filter, Pointer(_ctypes.addressof(fprog_buffer)), 0, 0) != 0:
        raise OSError(_ctypes.get_errno(), "governed-agents: could not load the seccomp filter")


def _audit_hook(config):
    audit = config.get("audit")
    if not audit:
        return
    network = audit.get("network", False)
    writable = tuple(os.path.realpath(p) for p in audit.get("writable", ()))
    commands = audit.get("commands", ())
    blocked = []

    def writable_path(path):
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(p == "/" or real == p or real.startswith(p.rstrip("/") + "/") for p in writable)

    def refuse(what):
        message = "governed-agents: blocked " + what
        if message not in blocked:
            blocked.append(message)
            sys.stderr.write(message + "\n")
        raise PermissionError(message)

    def hook(event, args):
        if event == "open":
            path, mode, flags = args[0], args[1], args[2]
            writes = (mode and any(c in str(mode) for c in "wax+")) or (flags and flags & (os.O_WRONLY | os.O_RDWR))
            if writes and isinstance(path, (str, bytes)) and not writable_path(path):
                refuse("a write to " + os.fsdecode(path) + " (outside the writable paths)")
        elif event in ("socket.connect", "socket.bind", "socket.sendto") and not network:
            refuse("network access (" + event + " " + str(args[1]) + "): the policy grants no network")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn") and "*" not in commands:
            program = args[0]
            if isinstance(program, (list, tuple)):
                program = program[0] if program else ""
            name = os.path.basename(os.fsdecode(program).split()[0]) if program else ""
            if name not in commands:
                refuse("starting a process (" + event + " " + name + "): not in allowed_commands")
        elif event in ("os.remove", "os.rmdir", "shutil.rmtree", "os.rename") and not writable_path(args[0]):
            refuse(event + " of " + os.fsdecode(args[0]) + " (outside the writable paths)")

    sys.addaudithook(hook)


def _run_python(path):
    """Run the file as __main__ (what runpy does, without importing pkgutil and typing)."""
    import types

    with open(path, "rb") as handle:
        source = handle.read()
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    try:
        exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # the traceback a plain `python file.py` prints: no launcher frames
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        tb = tb if tb is not None else exc.__traceback__
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        sys.exit(1)


def _join_cgroup(config):
    """Enter the run's pids cgroup from inside the sandbox, after bubblewrap's own forks.

    Moving a task waits for an RCU grace period (measured 8-16 ms). Where seccomp already refuses
    every fork/exec, only threads can be created, and a move takes the whole thread group along, so
    the write happens in the background while the user's code starts: threads made before it lands
    are moved (and counted) with the rest. Where processes may start, the code waits for the move —
    a fork before it would escape pids.max.
    """
    procs = config.get("cgroup")
    if not procs:
        return
    fd = os.open(procs, os.O_WRONLY)  # opened now, before the audit hook would refuse it
    pid = str(os.getpid()).encode()
    if config.get("cgroup_in_background"):
        import _thread

        _thread.start_new_thread(_join_or_die, (fd, pid))
    else:
        _join_or_die(fd, pid)


def _join_or_die(fd, pid):
    """Outside its cgroup the run would not be held: a failed move ends it (in the background
    thread too, where an exception would only print)."""
    try:
        os.write(fd, pid)
        os.close(fd)
    except OSError as exc:
        os.write(2, f"governed-agents: stopped: could not join the run's cgroup ({exc})\n".encode())
        os._exit(126)


def main():
    config = marshal.loads(bytes.fromhex(sys.argv[1]))
    _join_cgroup(config)
    # started with -S (no site: no .pth processing, no editable-install finders): the parent's
    # package directories are added explicitly
    sys.path.extend(config.get("path", ()))
    _rlimits(config)
    _seccomp(config)
    if config.get("hold") and os.read(0, 1) != b"\x01":  # the parent is still recording the decision
        os._exit(125)
    if config["language"] == "python":
        _audit_hook(config)
        _run_python(config["code"])
    else:
        os.execv(config["shell"], [config["shell"], config["code"]])


if __name__ == "__main__":
    main()
