"""The first code that runs in the child: limits in, then the user's code.

Run as a script (``python -I -S _launcher.py CONFIG``, CONFIG a hex-encoded ``marshal`` of a
dict); it imports nothing beyond the interpreter's built-ins (and ctypes when a seccomp filter is
to be loaded), so it starts fast. In order: rlimits, the seccomp filter (compiled to BPF once by the
parent; the kernel says no to sockets/exec/fork the policy does not grant), the PEP 578 audit hook
(readable refusals, not the boundary), then the user's code — or an exec of the shell for shell
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
    bpf = config.get("bpf")
    if not bpf:
        return
    import ctypes

    class SockFprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    libc = ctypes.CDLL(None, use_errno=True)
    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = SockFprog(len(bpf) // 8, ctypes.cast(program, ctypes.c_void_p))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0 or \
            libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "governed-agents: could not load the seccomp filter")


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
    exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)


def _join_cgroup(config):
    """Enter the run's pids cgroup from inside the sandbox, after bubblewrap's own forks: a task
    that migrates makes the next forks wait for an RCU grace period (measured: +12 ms when bwrap
    forked after the move, +0.2 ms this way)."""
    procs = config.get("cgroup")
    if procs:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))


def main():
    config = marshal.loads(bytes.fromhex(sys.argv[1]))
    _join_cgroup(config)
    # started with -S (no site: no .pth processing, no editable-install finders): the parent's
    # package directories are added explicitly
    sys.path.extend(config.get("path", ()))
    _rlimits(config)
    _seccomp(config)
    if config["language"] == "python":
        _audit_hook(config)
        _run_python(config["code"])
    else:
        os.execv(config["shell"], [config["shell"], config["code"]])


if __name__ == "__main__":
    main()
