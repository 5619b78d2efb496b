"""Shell blocks → SovereignIR, through bashlex.

Why bashlex: it is a port of GNU bash's own parser to pure Python (no compiled grammar, no wheel
per platform, nothing fetched at run time), and it gives every node its character span, so each
operation gets a line and column. It does not implement every construct (``case``, arithmetic
``((…))`` and ``$((…))``, the ``time`` keyword, ``coproc``): such text becomes ``unresolved`` with
the parser's reason — never an empty, clean IR.

Each simple command is a ``process_spawn``; redirections are file reads/writes; a catalogue
(data, below) adds what well-known commands do: ``rm`` deletes, ``curl`` is network, ``kill`` is
process control; ``bash -c``/``python -c`` and command substitutions are analysed recursively.
``code_signature`` is ``sha256:`` over the words of the parsed commands joined by single spaces,
so comments and spacing do not change it.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from governed_agents.analysis._values import host_port, normalise_path
from governed_agents.ir import (
    DynamicCode,
    EnvironmentAccess,
    FileOperation,
    FunctionCall,
    NetworkCall,
    ProcessSpawn,
    SovereignIR,
    Unresolved,
)

__all__ = ["analyze_argv", "analyze_shell"]

_MAX_DEPTH = 8

# command → (file operation for its non-option arguments, …). Data, not if-chains.
_FILE_ARGS: dict[str, str] = {
    **dict.fromkeys(("rm", "rmdir", "shred", "unlink"), "delete"),
    **dict.fromkeys(("cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "wc", "sort",
                     "uniq", "cut", "awk", "sed", "diff", "md5sum", "sha256sum", "base64", "xxd",
                     "strings", "file", "stat", "ls", "find", "du", "tar", "zip", "unzip", "gzip",
                     "gunzip", "source", "."), "read"),
    **dict.fromkeys(("touch", "mkdir", "tee", "truncate", "install"), "write"),
}
_COPY = frozenset({"cp", "rsync_local", "ln"})
_MOVE = frozenset({"mv"})
_NETWORK = frozenset({"curl", "wget", "nc", "ncat", "netcat", "ssh", "scp", "sftp", "rsync", "ftp", "telnet",
                      "socat", "ping", "dig", "nslookup", "host", "git", "pip", "pip3", "apt-get", "apt"})
# Tools whose first word names what they do: these subcommands stay on this machine (`git status`);
# anything else — another subcommand, a global option first (`git -C . clone …`) — may reach the network.
_LOCAL_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "git": frozenset({"status", "log", "diff", "show", "add", "commit", "branch", "checkout", "switch", "restore",
                      "merge", "rebase", "reset", "stash", "tag", "init", "rev-parse", "config", "blame", "grep",
                      "ls-files", "mv", "rm", "describe", "shortlog", "reflog", "clean", "cherry-pick", "revert",
                      "bisect", "worktree", "notes", "help", "version"}),
    **dict.fromkeys(("pip", "pip3"), frozenset({"list", "show", "freeze", "check", "uninstall", "help", "cache",
                                                "config", "inspect", "hash", "--version", "-V"})),
    **dict.fromkeys(("apt-get", "apt"), frozenset({"remove", "purge", "autoremove", "clean", "autoclean", "check",
                                                   "list", "show", "search", "policy"})),
}
_EFFECTS: dict[str, str] = {
    **dict.fromkeys(("kill", "pkill", "killall", "shutdown", "reboot", "halt", "systemctl", "service"),
                    "process_control"),
    **dict.fromkeys(("chmod", "chown", "chgrp", "chattr", "sudo", "su", "doas", "chroot", "setcap", "useradd",
                     "usermod", "passwd", "visudo", "mount", "umount"), "privilege"),
    **dict.fromkeys(("ps", "top", "htop", "uname", "whoami", "id", "hostname", "df", "free", "uptime",
                     "lsof", "netstat", "ss", "ifconfig", "ip", "env", "printenv", "crontab"), "system_info"),
}
# Commands that run another command; the options of theirs that take a value (so that the value
# is not taken for the command), and how many leading operands are theirs (`timeout 5 cmd`).
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset({"-u", "-g", "-C", "-h", "-p", "-U"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "nohup": (frozenset(), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "xargs": (frozenset({"-I", "-n", "-P", "-d", "-L", "-a", "-E", "-s", "--max-args", "--max-procs"}), 0),
    "env": (frozenset({"-u", "-C", "-S", "--unset", "--chdir"}), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "setsid": (frozenset(), 0),
    "chroot": (frozenset({"--userspec", "--groups"}), 1),
    "watch": (frozenset({"-n", "-d"}), 0),
    "busybox": (frozenset(), 0),
}
# Options that take a value, per command: the value is no file operand, or is a file the option
# reads or writes (`sort -o OUT`, `grep -f PATTERNS`).
_OPTION_VALUES: dict[str, dict[str, str]] = {
    "truncate": {"-s": "value", "--size": "value", "-r": "read", "--reference": "read"},
    "head": dict.fromkeys(("-n", "-c", "--lines", "--bytes"), "value"),
    "tail": dict.fromkeys(("-n", "-c", "--lines", "--bytes", "--pid", "-s"), "value"),
    "grep": {**dict.fromkeys(("-e", "-m", "-A", "-B", "-C", "--regexp", "--max-count"), "value"),
             "-f": "read", "--file": "read"},
    "sort": {**dict.fromkeys(("-k", "-t", "-S", "--key", "--field-separator"), "value"),
             "-o": "write", "--output": "write"},
    "cut": dict.fromkeys(("-d", "-f", "-c", "-b", "--delimiter", "--fields"), "value"),
    "uniq": dict.fromkeys(("-f", "-s", "-w"), "value"),
    "sed": {"-e": "value", "--expression": "value", "-f": "read", "--file": "read"},
    "awk": {"-F": "value", "-v": "value", "-f": "read"},
    "touch": {"-d": "value", "-t": "value", "--date": "value", "-r": "read", "--reference": "read"},
    "mkdir": {"-m": "value", "--mode": "value"},
    "install": dict.fromkeys(("-m", "-o", "-g", "--mode", "--owner", "--group"), "value"),
    "du": {"-d": "value", "--max-depth": "value"},
    "ls": {"-I": "value", "--ignore": "value", "-w": "value"},
    "xxd": dict.fromkeys(("-l", "-s", "-c", "-g"), "value"),
    "split": {"-l": "value", "-b": "value", "-n": "value"},
    "zip": {"-P": "value"},
    "unzip": {"-d": "write", "-P": "value"},
    "gzip": {"-S": "value"},
    "cp": {"-t": "write", "--target-directory": "write", "-S": "value"},
    "mv": {"-t": "write", "--target-directory": "write", "-S": "value"},
    "ln": {"-t": "write", "--target-directory": "write", "-S": "value"},
}
# With one of these, grep/sed/awk take their program from the option, not the first operand.
_PATTERN_OPTIONS = frozenset({"-e", "-f", "--regexp", "--file", "--expression"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_PYTHONS = frozenset({"python", "python3", "python2", "py"})
# Interpreters of languages this analyser does not read: their inline code (`perl -e '…'`) and
# their scripts are dynamic code.
_OTHER_INTERPRETERS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("perl", "ruby"), frozenset({"-e", "-E"})),
    **dict.fromkeys(("node", "nodejs", "deno"), frozenset({"-e", "--eval", "-p", "--print"})),
    "php": frozenset({"-r"}),
    "lua": frozenset({"-e"}),
    "Rscript": frozenset({"-e"}),
    "osascript": frozenset({"-e"}),
}
_DYNAMIC = {"eval": "eval", "exec": "exec", "source": "exec", ".": "exec"}
_ENVIRONMENT_WRITERS = frozenset({"export", "declare", "typeset", "readonly", "unset", "local"})


def analyze_shell(code: str, language: str = "bash", work_dir: str | None = None) -> SovereignIR:
    import bashlex  # ~100 ms to import: loaded only when there is shell to read

    walker = _ShellWalker(code, work_dir)
    try:
        trees = bashlex.parse(_for_bashlex(code)) if code.strip() else []
    except Exception as exc:  # bashlex raises ParsingError, NotImplementedError, IndexError, …
        line, column = walker.where(getattr(exc, "position", 0) or 0)
        problem = Unresolved(reason=f"shell parse error: {exc}", kind="parse_error", line=line, column=column)
        return SovereignIR(language=language, code_signature=_raw_signature(code), unresolved=(problem,))
    try:
        for tree in trees:
            walker.visit(tree, 0)
    except RecursionError:
        walker.unresolved.append(Unresolved(reason="shell code nested too deeply", kind="limit"))
    return SovereignIR(
        language=language,
        code_signature="sha256:" + hashlib.sha256(" ".join(walker.words).encode()).hexdigest(),
        operations=tuple(walker.ops),
        unresolved=tuple(walker.unresolved),
    )


class _Argv:
    """Stands for the command node of a program started with an argument vector: no text, no
    redirections, position 0 (the caller places the operations)."""

    kind = "command"
    pos = (0, 0)
    parts: tuple[Any, ...] = ()


def analyze_argv(argv: Sequence[str], work_dir: str | None = None, via: str = "exec") -> SovereignIR:
    """A program started with an argument vector (``subprocess.run(["rm", "-rf", p])``): no shell
    between, so no expansion; what the program does comes from the same catalogue. Its operations
    are named ``exec:PROGRAM`` (``via="bash"`` for a command line the shell would run unchanged)."""
    walker = _ShellWalker(" ".join(argv), work_dir)
    walker.via = via
    node = _Argv()
    walker.simple_command(node, [(node, word) for word in argv], 0)
    return SovereignIR(language="bash", operations=tuple(walker.ops), unresolved=tuple(walker.unresolved))


def _raw_signature(code: str) -> str:
    return "sha256:" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


class _ShellWalker:
    def __init__(self, code: str, work_dir: str | None, base: tuple[int, int] = (0, 0)) -> None:
        self.code = code
        self.work_dir = work_dir
        self.ops: list[Any] = []
        self.unresolved: list[Unresolved] = []
        self.words: list[str] = []
        self.base = base  # line/column offset when this text is embedded (bash -c '…')
        self.via = "bash"  # how a program is started, in operation names: bash:rm, exec:rm (argv)
        self._starts = [0, *(i + 1 for i, ch in enumerate(code) if ch == "\n")]

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        column = offset - self._starts[line - 1] + 1
        if self.base != (0, 0):
            return self.base
        return line, column

    def emit(self, node: Any, op_type: Callable[..., Any], **fields: Any) -> None:
        line, column = self.where(node.pos[0])
        self.ops.append(op_type(line=line, column=column, **fields))

    # -- traversal ----------------------------------------------------------------------------

    def visit(self, node: Any, depth: int) -> None:
        kind = node.kind
        if kind == "command":
            self.command(node, depth)
            return
        if kind == "commandsubstitution" or kind == "processsubstitution":
            self.visit(node.command, depth)
            return
        if kind == "function":
            self.visit(node.body, depth)
            return
        for attr in ("parts", "list"):
            for child in getattr(node, attr, None) or ():
                self.visit(child, depth)

    def word_value(self, node: Any) -> str | None:
        """A word's literal value, or None when it expands at run time ($VAR, $(…), globs kept)."""
        parts = getattr(node, "parts", None) or []
        for part in parts:
            if part.kind == "parameter" and not _special_parameter(part.value):
                self.emit(part, EnvironmentAccess, names=(part.value,), access="read", api="bash:$")
            elif part.kind in ("commandsubstitution", "processsubstitution"):
                self.visit(part.command, 0)
        if any(p.kind in ("parameter", "commandsubstitution", "processsubstitution", "tilde") for p in parts):
            return None
        return str(node.word)

    def command(self, node: Any, depth: int) -> None:
        words: list[tuple[Any, str | None]] = []
        for part in node.parts:
            if part.kind == "word":
                value = self.word_value(part)
                if value is not None and "{" in value and ("," in value or ".." in value):
                    # {rm,-rf,/data} is `rm -rf /data`. Bash expands braces before it removes quotes;
                    # with quotes in the word this analyser cannot tell which braces are quoted: unknown
                    raw = self.code[part.pos[0]:part.pos[1]]
                    expanded = None if any(q in raw for q in "'\"\\") else _brace_expand(value)
                    words.extend([(part, e) for e in expanded if e] if expanded is not None else [(part, None)])
                else:
                    words.append((part, value))
                    if value is not None and "/" in value and _globbed(self.code[part.pos[0]:part.pos[1]]):
                        # bash lists the directories a pattern names to expand it (`echo /etc/*`)
                        self.emit(part, FileOperation, operation="read", paths=(self.path(value),), api="bash:glob")
            elif part.kind == "assignment":
                name = str(part.word).split("=", 1)[0]
                self.emit(part, EnvironmentAccess, names=(name,), access="write", api="bash:assignment")
                for sub in getattr(part, "parts", None) or ():
                    if sub.kind in ("commandsubstitution", "processsubstitution"):
                        self.visit(sub.command, depth)
            elif part.kind == "redirect":
                self.redirect(part)
        self.words.extend(w or "?" for _, w in words)
        if not words:
            return
        self.simple_command(node, words, depth)

    def redirect(self, node: Any) -> None:
        target = node.output
        if isinstance(target, int) or target is None:
            return  # 2>&1
        value = self.word_value(target)
        if value == "/dev/null":
            return
        if node.type in ("<<", "<<-", "<<<"):  # here-documents and here-strings are data, not files,
            body = getattr(getattr(node, "heredoc", None), "value", "") or ""
            if "$(" in body or "`" in body:  # … but an unquoted one runs its command substitutions
                self.emit(node, DynamicCode, kind="exec", detail="here-document with command substitution",
                          api="bash:<<")
            return
        operation = "read" if node.type == "<" else "write"
        path = normalise_path(value, self.work_dir) if value is not None else None
        self.emit(node, FileOperation, operation=operation, paths=(path,), api=f"bash:{node.type}")

    def simple_command(self, node: Any, words: list[tuple[Any, str | None]], depth: int,
                       from_stdin: bool = False) -> None:
        _first_node, first = words[0]
        program = posixpath.basename(first) if first else None
        literal = all(w is not None for _, w in words)
        command = " ".join(w for _, w in words if w is not None) if literal else None
        self.emit(node, ProcessSpawn, command=command, program=program, api=f"{self.via}:{program or '?'}")
        if program is None:
            return
        args = words[1:]
        api = f"{self.via}:{program}"
        operands = self.operands(program, args, api)
        if program in _EFFECTS:
            self.emit(node, FunctionCall, function=program, effect=_EFFECTS[program], api=api)
        if program == "printenv" or (program == "env" and all("=" in (w or "") or (w or "").startswith("-")
                                                             for _, w in args)):  # env alone prints them all
            names = tuple(w for _, w in operands if w) if program == "printenv" and operands else (None,)
            self.emit(node, EnvironmentAccess, names=names, access="read", api=api)
        if program in _WRAPPERS:
            inner = _wrapped(program, args)
            if inner:
                self.simple_command(node, inner, depth, from_stdin=program == "xargs")
            return
        if program in _DYNAMIC:
            self.emit(node, DynamicCode, kind=_DYNAMIC[program], detail=command, api=api)
        if program in _ENVIRONMENT_WRITERS:
            for n, w in operands:
                name = (w or "").split("=", 1)[0]
                self.emit(n, EnvironmentAccess, names=(name or None,), access="write", api=api)
        if program in _OTHER_INTERPRETERS:
            self.other_interpreter(node, program, args, api)
        if program in ("test", "["):  # test -r /etc/shadow: the file is looked at
            for (_, flag), (n, w) in itertools.pairwise(args):
                if flag in _FILE_TESTS or flag in ("-nt", "-ot", "-ef"):
                    self.emit(n, FileOperation, operation="read", paths=(self.path(w),), api=api)
            for (n, left), (_, flag) in itertools.pairwise(args):
                if flag in ("-nt", "-ot", "-ef"):
                    self.emit(n, FileOperation, operation="read", paths=(self.path(left),), api=api)
        if program == "printf":  # printf -v NAME sets a variable
            for (_, flag), (n, w) in itertools.pairwise(args):
                if flag == "-v":
                    self.emit(n, EnvironmentAccess, names=(w,), access="write", api=api)
        if program == "find":
            self.find(node, args, depth, api)
        elif program == "tar":
            self.tar(node, args, api)
        elif program == "dd":
            for n, w in operands:
                key, _, value = (w or "").partition("=")
                if key in ("if", "of") and value:
                    self.emit(n, FileOperation, operation="read" if key == "if" else "write",
                              paths=(self.path(value),), api=api)
        elif program in _FILE_ARGS:
            op = _FILE_ARGS[program]
            pattern_given = bool(self.options & _PATTERN_OPTIONS)
            targets = operands[1:] if program in ("grep", "egrep", "fgrep", "awk", "sed") and not pattern_given \
                else operands
            in_place = program == "sed" and any(w is not None and (w == "-i" or w.startswith(("-i", "--in-place")))
                                                for _, w in args)
            for n, w in targets:
                self.emit(n, FileOperation, operation=op, paths=(self.path(w),), api=api)
                if in_place:
                    self.emit(n, FileOperation, operation="write", paths=(self.path(w),), api=api)
            if from_stdin:  # `xargs rm`: the paths arrive on standard input
                self.emit(node, FileOperation, operation=op, paths=(None,), api=api)
            if program in ("awk", "gawk") and operands and _awk_runs_commands(operands[0][1]):
                self.emit(node, DynamicCode, kind="exec", detail="awk program that runs commands", api=api)
        elif program in _COPY or program in _MOVE:
            target_given = bool(self.options & {"-t", "--target-directory"})
            for n, w in operands if target_given else operands[:-1]:
                self.emit(n, FileOperation, operation="delete" if program in _MOVE else "read",
                          paths=(self.path(w),), api=api)
            if operands and not target_given:
                n, w = operands[-1]
                self.emit(n, FileOperation, operation="write", paths=(self.path(w),), api=api)
        if program in _NETWORK and not (program in _LOCAL_SUBCOMMANDS and args
                                        and args[0][1] in _LOCAL_SUBCOMMANDS[program]):
            self.network(node, program, args, api)
        if program in _SHELLS or program in _PYTHONS:
            self.interpreter(node, program, args, depth, api)

    def operands(self, program: str, args: list[tuple[Any, str | None]], api: str) -> list[tuple[Any, str | None]]:
        """The non-option words; an option's value is skipped, or reported as the file it names.
        Values may be joined (``--output=F``, ``-oF``) or follow a cluster (``-uo F``). The options
        seen are kept in ``self.options`` for the caller."""
        takes = _OPTION_VALUES.get(program, {})
        found: list[tuple[Any, str | None]] = []
        self.options: set[str] = set()
        i = 0
        while i < len(args):
            n, w = args[i]
            text = w or ""
            option, value_word, joined = _option(text, takes)
            if option is not None:
                self.options.add(option)
                value_node: Any = n
                if not joined:
                    if i + 1 < len(args):  # -o FILE
                        i += 1
                        value_node, value_word = args[i]
                    else:
                        value_word = None
                if takes[option] != "value":
                    self.emit(value_node, FileOperation, operation=takes[option], paths=(self.path(value_word),),
                              api=api)
            elif text.startswith("-"):
                name, joined_value, value = text.partition("=")
                self.options.add(name)
                if joined_value and text.startswith("--") and _names_a_file(value):
                    # an option this catalogue does not know, set to a path (wc --files0-from=/etc/passwd)
                    operation = "write" if any(k in name for k in _WRITING_OPTION_WORDS) else "read"
                    self.emit(n, FileOperation, operation=operation, paths=(self.path(value),), api=api)
            else:
                found.append((n, w))
            i += 1
        return found

    def find(self, node: Any, args: list[tuple[Any, str | None]], depth: int, api: str) -> None:
        """`find ROOTS… EXPRESSION`: the roots are read; `-delete` deletes under them; `-exec CMD … ;`
        runs CMD (analysed as a command of its own)."""
        roots: list[tuple[Any, str | None]] = []
        for n, w in args:
            if w is not None and (w.startswith(("-", "(", "!")) or w == ")"):
                break
            roots.append((n, w))
        roots = roots or [(node, ".")]
        words = [w for _, w in args]
        for n, w in roots:
            self.emit(n, FileOperation, operation="read", paths=(self.path(w),), api=api)
            if "-delete" in words:
                self.emit(n, FileOperation, operation="delete", paths=(self.path(w),), api=api)
        for i, w in enumerate(words):
            if w in ("-exec", "-execdir", "-ok", "-okdir"):
                end = next((j for j in range(i + 1, len(words)) if words[j] in (";", "+", "\\;")), len(words))
                if end > i + 1:
                    self.simple_command(node, args[i + 1:end], depth, from_stdin=True)

    def tar(self, node: Any, args: list[tuple[Any, str | None]], api: str) -> None:
        """`tar`: the archive (after `f`) is read, or written with `c`; `x` writes into `-C DIR` (or `.`)."""
        words = [w or "" for _, w in args]
        cluster = words[0].lstrip("-") if words and words[0].lstrip("-").isalpha() else ""
        modes = set(cluster) | {w.lstrip("-")[0] for w in words if w.startswith("-") and not w.startswith("--")
                                and len(w) > 1}
        long = {w for w in words if w.startswith("--")}
        extract = "x" in modes or "--extract" in long or "--get" in long
        create = "c" in modes or "--create" in long or "r" in modes or "u" in modes
        archive: tuple[Any, str | None] | None = None
        destination: tuple[Any, str | None] | None = None
        rest: list[tuple[Any, str | None]] = []
        skip = 0
        for i, (n, w) in enumerate(args):
            if skip:
                skip -= 1
                continue
            text = w or ""
            if i == 0 and cluster:
                if "f" in cluster and i + 1 < len(args):
                    archive, skip = args[i + 1], 1
                continue
            if text in ("-f", "--file") and i + 1 < len(args):
                archive, skip = args[i + 1], 1
            elif text.startswith("--file="):
                archive = (n, text.split("=", 1)[1])
            elif text in ("-C", "--directory") and i + 1 < len(args):
                destination, skip = args[i + 1], 1
            elif text.startswith("--directory="):
                destination = (n, text.split("=", 1)[1])
            elif not text.startswith("-") or w is None:
                rest.append((n, w))
        if archive is not None:
            self.emit(archive[0], FileOperation, operation="write" if create else "read",
                      paths=(self.path(archive[1]),), api=api)
        if extract:
            where = destination or (node, ".")
            self.emit(where[0], FileOperation, operation="write", paths=(self.path(where[1]),), api=api)
        elif create:
            for n, w in rest:
                self.emit(n, FileOperation, operation="read", paths=(self.path(w),), api=api)

    def other_interpreter(self, node: Any, program: str, args: list[tuple[Any, str | None]], api: str) -> None:
        flags = _OTHER_INTERPRETERS[program]
        if any(w in flags for _, w in args):
            self.emit(node, DynamicCode, kind="exec", detail=f"{program} code given inline", api=api)
            return
        operands = [(n, w) for n, w in args if not (w or "").startswith("-")]
        if operands:
            n, w = operands[0]
            self.emit(n, FileOperation, operation="read", paths=(self.path(w),), api=api)
        self.emit(node, DynamicCode, kind="exec", detail=f"{program} runs a program this analyser cannot read",
                  api=api)

    def path(self, word: str | None) -> str | None:
        return normalise_path(word, self.work_dir) if word is not None else None

    def network(self, node: Any, program: str, args: list[tuple[Any, str | None]], api: str) -> None:
        hosts: list[tuple[str | None, int | None, str | None]] = []
        skip_next = False
        for i, (_n, w) in enumerate(args):
            if skip_next:
                skip_next = False
                continue
            if w is None:
                continue
            if w in ("-o", "-O", "--output", "--output-document") and i + 1 < len(args):
                out = args[i + 1][1]
                self.emit(args[i + 1][0], FileOperation, operation="write", paths=(self.path(out),), api=api)
                skip_next = True
                continue
            if w.startswith("-"):
                continue
            if "://" in w:
                hosts.append(host_port(w))
            elif (program in ("ssh", "scp", "sftp", "rsync") and "@" in w) or (program in ("scp", "rsync") and ":" in w):
                user_host = w.split("@", 1)[-1].split(":", 1)[0]
                hosts.append((user_host or None, None, None))
            elif program in ("nc", "ncat", "netcat", "telnet", "ping", "ssh", "dig", "nslookup", "host", "socat"):
                if not hosts and not w.isdigit() and "/" not in w:
                    hosts.append((w, None, None))
                elif hosts and w.isdigit() and hosts[-1][1] is None:
                    hosts[-1] = (hosts[-1][0], int(w), None)
        if not hosts:
            hosts.append((None, None, None))
        for host, port, url in hosts:
            self.emit(node, NetworkCall, destination=host, port=port, url=url, api=api)

    def interpreter(self, node: Any, program: str, args: list[tuple[Any, str | None]], depth: int,
                    api: str) -> None:
        for i, (_, w) in enumerate(args):
            if w == "-c" and i + 1 < len(args):
                inner_node, inner = args[i + 1]
                if inner is None:
                    self.emit(inner_node, DynamicCode, kind="exec", detail=f"{program} -c of a computed string",
                              api=api)
                    return
                if depth >= _MAX_DEPTH:
                    self.unresolved.append(Unresolved(reason="shell commands nested too deeply", kind="limit"))
                    return
                self.embedded(inner_node, inner, "python" if program in _PYTHONS else "bash", depth + 1)
                return
        operands = [(n, w) for n, w in args if not (w or "").startswith("-")]
        if operands:  # `bash script.sh`, `python x.py`: reads and runs a file
            n, w = operands[0]
            self.emit(n, FileOperation, operation="read", paths=(self.path(w),), api=api)
            self.emit(n, DynamicCode, kind="exec", detail=f"{program} runs {w or 'a computed file'}", api=api)
        elif (body := _heredoc(node)) is not None:  # `python - <<EOF … EOF`: the program is right here
            if depth >= _MAX_DEPTH:
                self.unresolved.append(Unresolved(reason="shell commands nested too deeply", kind="limit"))
                return
            self.embedded(node, body, "python" if program in _PYTHONS else "bash", depth + 1)
        # `curl … | bash`: a shell reading its program from stdin is code we cannot see
        else:
            self.emit(node, DynamicCode, kind="exec", detail=f"{program} reads its program from standard input",
                      api=api)

    def embedded(self, node: Any, text: str, language: str, depth: int) -> None:
        position = self.where(node.pos[0])
        if language == "python":
            from governed_agents.analysis._python import analyze_python

            ir = analyze_python(text, work_dir=self.work_dir)
        else:
            import bashlex

            inner = _ShellWalker(text, self.work_dir, base=position)
            try:
                for tree in bashlex.parse(text):
                    inner.visit(tree, depth)
                ir = SovereignIR(language="bash", operations=tuple(inner.ops), unresolved=tuple(inner.unresolved))
            except Exception as exc:
                ir = SovereignIR(language="bash", unresolved=(Unresolved(
                    reason=f"shell parse error in -c string: {exc}", kind="parse_error"),))
        line, column = position
        for op in ir.operations:
            self.ops.append(op.model_copy(update={"line": line, "column": column}))
        for problem in ir.unresolved:
            self.unresolved.append(problem.model_copy(update={"line": line, "column": column}))


_WRITING_OPTION_WORDS = ("out", "log", "dump", "save", "write", "dest", "target")


# test's operators that look at a file (test -e PATH, [ -r PATH ]; -a is left out: it is also "and");
# -nt/-ot/-ef compare two
_FILE_TESTS = frozenset({"-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-p", "-r", "-s", "-u", "-w", "-x",
                         "-G", "-L", "-N", "-O", "-S"})


def _special_parameter(name: str) -> bool:
    """$1, $@, $#, $?, $$, $!, $0, $-, $_: the shell's own values, not the environment."""
    return name.isdigit() or name in ("@", "*", "#", "?", "$", "!", "-", "_")


def _globbed(raw: str) -> bool:
    """Whether a word's source text has a pattern character outside quotes (bash expands it)."""
    quote, escaped = "", False
    for ch in raw:
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "*?[":
            return True
    return False


def _names_a_file(value: str) -> bool:
    return value.startswith(("/", "~", "./", "../")) or ("/" in value.strip("/") and " " not in value)


def _option(text: str, takes: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """(option, its joined value, whether the value was joined) when ``text`` sets one of ``takes``:
    ``--output=F``, ``--output``, ``-o``, ``-oF`` or a cluster ending in it (``-uo``, ``-uoF``)."""
    if not text.startswith("-") or text == "-":
        return None, None, False
    if text.startswith("--"):
        name, joined, value = text.partition("=")
        return (name, value if joined else None, bool(joined)) if name in takes else (None, None, False)
    for k, letter in enumerate(text[1:], start=1):
        if "-" + letter in takes:
            rest = text[k + 1:]
            return "-" + letter, (rest or None), bool(rest)
    return None, None, False


def _wrapped(program: str, args: list[tuple[Any, str | None]]) -> list[tuple[Any, str | None]]:
    """The command a wrapper runs: its words after the wrapper's own options, option values,
    assignments (`env X=1 cmd`) and leading operands (`timeout 5 cmd`)."""
    takes_value, own_operands = _WRAPPERS[program]
    i = 0
    while i < len(args):
        word = args[i][1]
        if word is not None and word.startswith("-") and word != "-":
            i += 2 if word in takes_value else 1
        elif word is not None and "=" in word.split("/", 1)[0] and program == "env":
            i += 1
        elif own_operands:
            own_operands -= 1
            i += 1
        else:
            return args[i:]
    return []


def _awk_runs_commands(program_text: str | None) -> bool:
    if program_text is None:
        return True
    return "system(" in program_text or "| getline" in program_text or '|"' in program_text or "print |" in program_text


def _depths(text: str, start: int, stop: int, opening: str, closing: str) -> Iterator[tuple[int, int]]:
    """Each index from ``start`` (an opening bracket) up to ``stop``, with the nesting depth there."""
    depth = 0
    for j in range(start, stop):
        depth += (text[j] == opening) - (text[j] == closing)
        yield j, depth


def _closing(text: str, start: int, opening: str, closing: str) -> int:
    """The index of the bracket that closes the one at ``start``; -1 when none does."""
    return next((j for j, depth in _depths(text, start, len(text), opening, closing) if depth == 0), -1)


_BRACE_SEQUENCE = re.compile(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?|([A-Za-z])\.\.([A-Za-z])")
_MAX_BRACE_WORDS = 256
_MAX_BRACE_WORD = 1024


def _brace_expand(word: str) -> list[str] | None:
    """Bash's brace expansion of an unquoted word (`a{b,c}d`, `{1..3}`); None past 256 words or for
    a word too long to follow (the expansion is quadratic in nesting)."""
    if len(word) > _MAX_BRACE_WORD:
        return None
    for start in (i for i, ch in enumerate(word) if ch == "{" and (i == 0 or word[i - 1] != "$")):
        end = _closing(word, start, "{", "}")
        if end < 0:
            return [word]
        commas = [j for j, depth in _depths(word, start, end, "{", "}") if depth == 1 and word[j] == ","]
        inner = word[start + 1:end]
        sequence = _BRACE_SEQUENCE.fullmatch(inner)
        if commas:
            cuts = [start, *commas, end]
            alternatives = [word[a + 1:b] for a, b in itertools.pairwise(cuts)]
        elif sequence and sequence[1] is not None:
            first, last, step = int(sequence[1]), int(sequence[2]), abs(int(sequence[3] or 1)) or 1
            if abs(last - first) // step >= _MAX_BRACE_WORDS:
                return None
            alternatives = [str(v) for v in range(first, last + (1 if last >= first else -1),
                                                  step if last >= first else -step)]
        elif sequence:
            a, b = ord(sequence[4]), ord(sequence[5])
            alternatives = [chr(v) for v in range(a, b + (1 if b >= a else -1), 1 if b >= a else -1)]
        else:
            continue
        out: list[str] = []
        for alternative in alternatives:
            expanded = _brace_expand(word[:start] + alternative + word[end + 1:])
            if expanded is None or len(out) + len(expanded) > _MAX_BRACE_WORDS:
                return None
            out.extend(expanded)
        return out
    return [word]


def _for_bashlex(code: str) -> str:
    """The text with what bashlex cannot read made readable, every offset unchanged. Only quoted
    here-document delimiters: blanking anything else (`time`, `$((…))`) cannot be done safely
    without a full quote-aware lexer, so such text stays for the parser to refuse."""
    return _unquote_heredoc_delimiters(code)


_QUOTED_DELIMITER = re.compile(r"""<<(-?)(\s*)(['"])(\w+)\3""")


def _unquote_heredoc_delimiters(code: str) -> str:
    """bashlex cannot end a here-document whose delimiter is quoted (`<<'EOF'`): the quotes become
    spaces (same length, so positions hold). Quoting only stops expansion inside the body, which
    the analysis then reads as if it expanded: more environment reads, never fewer."""
    return _QUOTED_DELIMITER.sub(lambda m: f"<<{m[1]}{m[2]} {m[4]} ", code)


def _heredoc(node: Any) -> str | None:
    """The body of a command's here-document (without its closing delimiter), if it has one."""
    for part in node.parts:
        heredoc = getattr(part, "heredoc", None) if part.kind == "redirect" else None
        if heredoc is not None:
            body = heredoc.value
            return body.rsplit("\n", 1)[0] if "\n" in body else ""
    return None
