"""The first code that runs in the child: limits in, then the user's code.

Run as a script (``python -I _launcher.py CONFIG_JSON``); standard library and pyseccomp only, so
it starts fast. In order: rlimits, the PEP 578 audit hook (readable refusals, not the boundary),
the seccomp filter (the kernel says no to sockets/exec/fork the policy does not grant), then the
user's code via runpy — or an exec of the shell for shell blocks (rlimits and seccomp survive exec).
"""

import json
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
    rules = config.get("seccomp") or {}
    if not rules:
        return
    import ctypes
    import errno
    import types

    # The parent resolved the library paths once; ctypes.util would spawn ldconfig and gcc (and
    # costs 14 ms to import), so pyseccomp gets a stand-in that answers from that table.
    util = types.ModuleType("ctypes.util")
    util.find_library = (rules.get("libraries") or {}).get  # type: ignore[attr-defined]
    sys.modules["ctypes.util"] = util
    ctypes.util = util  # type: ignore[attr-defined]
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EACCES)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(sc.ERRNO(errno.ENOSYS), name)
    if rules.get("deny_network"):
        # every socket family but AF_UNIX (1)
        f.add_rule(deny, "socket", sc.Arg(0, sc.NE, 1))
        f.add_rule(deny, "socketpair", sc.Arg(0, sc.NE, 1))
    if rules.get("deny_exec"):
        for name in ("execve", "execveat", "fork", "vfork"):
            f.add_rule(deny, name)
        clone_thread = 0x00010000
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, clone_thread, 0))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone, which is filtered
    f.load()


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


def main():
    config = json.loads(sys.argv[1])
    # started with -S (no site: no .pth processing, no editable-install finders): the parent's
    # package directories are added explicitly
    sys.path.extend(config.get("path", ()))
    _rlimits(config)
    if config["language"] == "python":
        _audit_hook(config)
        _seccomp(config)
        import runpy

        sys.argv = [config["code"]]
        sys.path.insert(0, os.path.dirname(config["code"]))
        runpy.run_path(config["code"], run_name="__main__")
    else:
        _seccomp(config)
        os.execv(config["shell"], [config["shell"], config["code"]])


if __name__ == "__main__":
    main()
