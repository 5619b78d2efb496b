"""Operations from catalogue specs: one emitter per ``Spec.kind``, in a table.

``emit_call`` reports a call whose callee has a spec, with the value its arguments carry;
``emit_unknown`` reports an API handed on as a value (``map(os.remove, paths)``): whatever later
calls it does so with arguments out of sight. Kinds that perform nothing (``ctor``, ``path_join``,
``pure``) have no emitter.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from governed_agents.analysis._build import construct
from governed_agents.analysis._catalogue import CATALOGUED_ATTRIBUTES, Spec
from governed_agents.analysis._shell import analyze_argv, analyze_shell
from governed_agents.analysis._sql import sql_files, sql_operations, sql_reach
from governed_agents.analysis._values import (
    MEMORY,
    UNKNOWN,
    Choice,
    Const,
    Mod,
    Obj,
    host_port,
    normalise_path,
)
from governed_agents.ir import (
    DatabaseOperation,
    DynamicCode,
    EnvironmentAccess,
    FileOperation,
    FunctionCall,
    NetworkCall,
    ProcessSpawn,
    SovereignIR,
    Unresolved,
)

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["DUNDER_ESCAPES", "EMITTERS", "INERT_KINDS", "UNKNOWN_EMITTERS", "emit_call", "emit_unknown"]

Emitter = Callable[["Walker", cst.Call, str, Spec, Any], None]
UnknownEmitter = Callable[["Walker", Any, str, Spec, Any], None]

INERT_KINDS = frozenset({"ctor", "path_join", "pure"})
DUNDER_ESCAPES = frozenset(
    {"__subclasses__", "__globals__", "__builtins__", "__dict__", "__code__", "__mro__", "__base__",
     "__bases__", "__class__", "__closure__", "__func__", "__self__", "__getattribute__", "__reduce__",
     "__reduce_ex__", "__loader__", "__spec__", "__init_subclass__"}
)
_STANDARD_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})
# A command line the shell would only split into words: no quoting, expansion, redirection,
# operators or keywords (bashlex costs a third of a whole snippet's analysis; this skips it).
_PLAIN_COMMAND = re.compile(r"[ \t]*(?!(?:time|if|for|while|until|case|select|function|coproc)(?:[ \t]|$))"
                            r"[A-Za-z0-9_./:=,@%+-]+(?:[ \t]+[A-Za-z0-9_./:=,@%+-]+)*[ \t]*")


def emit_call(w: Walker, call: cst.Call, api: str, spec: Spec, receiver: Any) -> None:
    emitter = EMITTERS.get(spec.kind)
    if emitter is None:
        return
    if spec.optional:  # without the argument the call touches nothing (df.to_json() returns text)
        positional, keywords, _ = w.args(call)
        if spec.kw not in keywords and (spec.arg is None or spec.arg >= len(positional)):
            return
    if spec.value_from == "handle" and spec.kind == "file":  # print(file=…), json.load(fh), csv.reader(fh)
        positional, keywords, _ = w.args(call)
        if spec.kw not in keywords and (spec.arg is None or spec.arg >= len(positional)):
            return  # print() to stdout
        handle = w.arg(call, spec)
        if (isinstance(handle, Obj) and handle.type == "builtins.file") or (
                isinstance(handle, Mod) and handle.name in _STANDARD_STREAMS):
            return  # a handle opened here was reported where it was opened; the console is no file
    if spec.kind in _FILE_KINDS and spec.value_from != "self" and _in_memory(w, call, spec):
        return  # pd.read_csv(io.StringIO(s)), csv.reader(["a,b"]), gzip.GzipFile(fileobj=io.BytesIO(b))
    carried = _carried(w, call, spec, receiver) if spec.arg is not None or spec.kw or spec.value_from else UNKNOWN
    if type(carried) is Choice:  # a name that may hold either string (a branch, a loop): each is reported
        for one in carried.values:
            emitter(w, call, api, spec, one)
        return
    emitter(w, call, api, spec, carried)


_FILE_KINDS = frozenset({"file", "open"})


def _in_memory(w: Walker, call: cst.Call, spec: Spec) -> bool:
    """The argument that would name the file is an in-memory buffer (or, for a reader of lines,
    a literal list of lines); or there is none and ``fileobj=`` is such a buffer or a file opened here."""
    positional, keywords, _ = w.args(call)
    if (spec.kw is not None and spec.kw in keywords) or (spec.arg is not None and spec.arg < len(positional)):
        value = w.arg(call, spec)
        if isinstance(value, Obj) and value.type == MEMORY:
            return True
        return spec.value_from == "handle" and isinstance(value, Const) and isinstance(value.value, tuple)
    if "fileobj" in keywords:
        handle = w.value(keywords["fileobj"])
        return isinstance(handle, Obj) and handle.type in (MEMORY, "builtins.file")
    return False


def _carried(w: Walker, call: cst.Call, spec: Spec, receiver: Any) -> Any:
    if spec.value_from == "self":
        return receiver.value if isinstance(receiver, Obj) else UNKNOWN
    if spec.value_from == "handle":
        handle = w.arg(call, spec)
        return handle.value if isinstance(handle, Obj) else (UNKNOWN if handle is not UNKNOWN else None)
    v = w.arg(call, spec)
    if isinstance(v, Obj):
        return v.value
    if type(v) is Choice:
        return v
    return v.value if isinstance(v, Const) else UNKNOWN


def _file(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    if isinstance(carried, str) and carried in spec.safe_with:
        return  # sqlite3.connect(":memory:")
    if isinstance(carried, str) and "://" in carried:
        host, port, url = host_port(carried)
        w.emit(call, NetworkCall, destination=host, port=port, url=url, api=api)
        return
    path = normalise_path(carried, w.work_dir) if carried is not UNKNOWN else None
    if spec.kind == "file":
        w.emit(call, FileOperation, operation=spec.op, paths=(path,), api=api)
        return
    positional, keywords, _ = w.args(call)
    offset = 0 if spec.value_from == "self" else 1
    mode_node = keywords.get("mode") or (positional[offset] if len(positional) > offset else None)
    mode = w.value(mode_node) if mode_node is not None else Const("r")
    if isinstance(mode, Const) and isinstance(mode.value, str):
        writes = any(ch in mode.value for ch in "wax+")
        reads = "r" in mode.value or "+" in mode.value or not writes
    else:  # unknown or numeric flags (os.open): assume the worst
        writes, reads = True, True
    if reads:
        w.emit(call, FileOperation, operation="read", paths=(path,), api=api)
    if writes:
        w.emit(call, FileOperation, operation="write", paths=(path,), api=api)


def _net(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    if isinstance(carried, (str, tuple)) or carried is UNKNOWN:
        host, port, url = host_port(carried)
    else:
        host, port, url = None, None, None
    w.emit(call, NetworkCall, destination=host, port=port, url=url, api=api)


def _command(carried: Any) -> tuple[str | None, str | None]:
    if isinstance(carried, (str, bytes)):
        text = carried.decode("utf-8", "replace") if isinstance(carried, bytes) else carried
        words = text.split()
        return text, (words[0].rsplit("/", 1)[-1] if words else None)
    if isinstance(carried, tuple) and carried and all(isinstance(p, str) for p in carried):
        return shlex.join(carried), carried[0].rsplit("/", 1)[-1]
    if isinstance(carried, tuple) and carried and isinstance(carried[0], str):
        return None, carried[0].rsplit("/", 1)[-1]
    return None, None


def _proc(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    carried = _as_run(w, call, carried)
    command, program = _command(carried)
    if command is None or not _emit_shell(w, call, api, carried):
        w.emit(call, ProcessSpawn, command=command, program=program, api=api)


def _as_run(w: Walker, call: cst.Call, command: Any) -> Any:
    """The command as subprocess runs it: ``executable=`` replaces the program the argument
    vector names, and ``shell=`` (unless literally False) makes a list's first item the command
    line the shell reads."""
    _, keywords, _ = w.args(call)
    if "executable" in keywords:
        executable = w.value(keywords["executable"])
        if not (isinstance(executable, Const) and isinstance(executable.value, str)):
            return UNKNOWN
        command = (executable.value, *command[1:]) if isinstance(command, tuple) and command else UNKNOWN
    if "shell" in keywords and w.value(keywords["shell"]) != Const(False) and isinstance(command, tuple):
        return command[0] if command else UNKNOWN
    return command


def _emit_shell(w: Walker, call: cst.Call, api: str, command: Any) -> bool:
    """A literal command is read as the shell would run it: a command line as the shell reads
    it (``os.system("ls; rm -rf /")`` runs two programs), an argument vector word for word
    (``["bash", "-c", …]`` runs what its string says). Its operations stand for the call's, at
    the call's position. False when there is nothing literal to read."""
    if isinstance(command, bytes):
        command = command.decode("utf-8", "replace")
    if not (isinstance(command, str) or (isinstance(command, tuple) and command
                                         and all(isinstance(word, str) for word in command))):
        return False
    size = len(command) if isinstance(command, str) else sum(map(len, command))
    ir = (_shell_ir if size <= _CACHED_COMMAND else _read_shell)(command, w.work_dir)
    if not ir.operations and not ir.unresolved:
        return False
    line, column = w.locator.position(call)
    w.ops.extend(construct(type(op), {**op.__dict__, "line": line, "column": column, "api": f"{api} → {op.api}"})
                 for op in ir.operations)
    w.unresolved.extend(construct(Unresolved, {**u.__dict__, "line": line, "column": column}) for u in ir.unresolved)
    return True


_CACHED_COMMAND = 2048  # longer command lines (or argument vectors) are read each time, not kept


def _read_shell(command: str | tuple[str, ...], work_dir: str | None) -> SovereignIR:
    if isinstance(command, str) and _PLAIN_COMMAND.fullmatch(command) and "=" not in command.split(None, 1)[0]:
        return analyze_argv(command.split(), work_dir=work_dir, via="bash")  # words the shell keeps
    if isinstance(command, str):
        return analyze_shell(command, work_dir=work_dir)
    return analyze_argv(command, work_dir=work_dir)


# What a literal command does is a function of its text: read once however often a file runs it
# (the IR is immutable; each call site gets its own positioned copy).
_shell_ir = functools.lru_cache(maxsize=512)(_read_shell)


def _env(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    name = carried if isinstance(carried, str) else None
    w.emit(call, EnvironmentAccess, names=(name,), access=spec.op, api=api)


def _db(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    if spec.op == "select_table":
        tables: tuple[str, ...] = (carried,) if isinstance(carried, str) else ()
        w.emit(call, DatabaseOperation, verb="select", tables=tables, api=api)
        return
    if spec.op == "insert":
        w.emit(call, DatabaseOperation, verb="insert", api=api)
        return
    if not isinstance(carried, str):
        w.emit(call, DatabaseOperation, verb=None, api=api)
        return
    for verb, tables in sql_operations(carried) or [("other", ())]:
        w.emit(call, DatabaseOperation, verb=verb, tables=tables, api=api)
    files, urls, runs = sql_reach(carried)  # COPY … TO '/x', read_csv('/etc/passwd'), INSTALL httpfs
    w.emit_files(call, [*sql_files(carried), *files], api)  # and ATTACH DATABASE '/etc/x.db', VACUUM INTO '…'
    for url in urls:
        host, port, full = host_port(url)
        w.emit(call, NetworkCall, destination=host, port=port, url=full, api=api)
    if runs is not None:
        w.emit(call, DynamicCode, kind="native_code", detail=runs, api=api)


def _dyn(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    named = w.arg(call, spec) if spec.safe_with else None
    if isinstance(named, Mod) and named.name in spec.safe_with:
        return  # yaml.load(f, Loader=yaml.SafeLoader)
    w.emit(call, DynamicCode, kind=spec.op, detail=api, api=api)


def _effect(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    w.emit(call, FunctionCall, function=api, effect=spec.op, api=api)


def _effect_unknown(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    w.emit(call, FunctionCall, function=api, effect="unknown", api=api)


def _import(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    if isinstance(carried, str):  # importing runs the module: one nobody judged is unknown, as a statement's
        w.imports(call, carried, api=api)
    else:
        w.emit(call, DynamicCode, kind="dynamic_import", detail=f"{api} of a module name computed at run time",
               api=api)


def _getattr(w: Walker, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
    positional, _, _ = w.args(call)
    if api != "getattr":  # operator.attrgetter("a", "b.c"), methodcaller("m")
        names = [w.value(a) for a in (positional[:1] if api.endswith("methodcaller") else positional)]
        for name in names:
            if not (isinstance(name, Const) and isinstance(name.value, str)):
                w.emit(call, DynamicCode, kind="introspection", detail=f"{api} with a computed name", api=api)
                return
            risky = [part for part in name.value.split(".") if part in CATALOGUED_ATTRIBUTES or part in
                     DUNDER_ESCAPES]
            if risky:
                w.emit(call, DynamicCode, kind="introspection", detail=f"{api} of {risky[0]!r}", api=api)
                return
        return
    attr = w.value(positional[1]) if len(positional) >= 2 else UNKNOWN
    if isinstance(attr, Choice):  # for name in ["mean", "sum"]: getattr(df, name)(): each name resolved
        base = w.value(positional[0])
        for name in attr.values:
            if name in DUNDER_ESCAPES:
                w.emit(call, DynamicCode, kind="introspection", detail=name, api=api)
            else:
                w.escape(call, w.attribute(base, name))
        return
    if not (isinstance(attr, Const) and isinstance(attr.value, str)):
        w.emit(call, DynamicCode, kind="introspection", detail="getattr with a computed name", api=api)
    elif attr.value in DUNDER_ESCAPES:
        w.emit(call, DynamicCode, kind="introspection", detail=attr.value, api=api)
    elif id(call) not in w.consumed:  # getattr(os, "remove") handed on, not called here
        w.escape(call, w.value(call))


EMITTERS: dict[str, Emitter] = {
    "file": _file,
    "open": _file,
    "net": _net,
    "proc": _proc,
    "env": _env,
    "db": _db,
    "dyn": _dyn,
    "effect": _effect,
    "import": _import,
    "getattr": _getattr,
    "unknown": _effect_unknown,
}


# -- an API handed on as a value -------------------------------------------------------------

def _unknown_file(w: Walker, node: Any, api: str, spec: Spec, receiver: Any) -> None:
    carried = receiver.value if spec.value_from == "self" and isinstance(receiver, Obj) else UNKNOWN
    path = normalise_path(carried, w.work_dir) if carried is not UNKNOWN else None
    for operation in ((spec.op,) if spec.kind == "file" else ("read", "write")):
        w.emit(node, FileOperation, operation=operation, paths=(path,), api=api)


def _unknown_dyn(kind: str | None) -> UnknownEmitter:
    def emit(w: Walker, node: Any, api: str, spec: Spec, receiver: Any) -> None:
        w.emit(node, DynamicCode, kind=kind or spec.op, detail=f"{api} passed on as a value", api=api)
    return emit


UNKNOWN_EMITTERS: dict[str, UnknownEmitter] = {
    "file": _unknown_file,
    "open": _unknown_file,
    "net": lambda w, node, api, spec, receiver: w.emit(node, NetworkCall, api=api),
    "proc": lambda w, node, api, spec, receiver: w.emit(node, ProcessSpawn, api=api),
    "env": lambda w, node, api, spec, receiver: w.emit(node, EnvironmentAccess, names=(None,), access=spec.op,
                                                       api=api),
    "db": lambda w, node, api, spec, receiver: w.emit(node, DatabaseOperation,
                                                      verb="insert" if spec.op == "insert" else None, api=api),
    "dyn": _unknown_dyn(None),
    "effect": lambda w, node, api, spec, receiver: w.emit(node, FunctionCall, function=api, effect=spec.op,
                                                          api=api),
    "import": _unknown_dyn("dynamic_import"),
    "getattr": _unknown_dyn("introspection"),
    "unknown": lambda w, node, api, spec, receiver: w.emit(node, FunctionCall, function=api, effect="unknown",
                                                           api=api),
}


def emit_unknown(w: Walker, node: Any, api: str, spec: Spec, receiver: Any) -> None:
    emitter = UNKNOWN_EMITTERS.get(spec.kind)
    if emitter is not None:
        emitter(w, node, api, spec, receiver)
