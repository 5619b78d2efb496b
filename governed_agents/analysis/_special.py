"""APIs whose effect depends on more than one argument's value, registered here in one place.

The catalogue says what a call does from one argument; the few APIs it cannot describe that way
have a handler here, keyed by qualified name, the way bandit registers one check per plugin:

* ``CALL_HOOKS``: run after a call's catalogued operations (``numpy.load(allow_pickle=True)``);
* ``SUBSCRIPT_HOOKS``: ``base[key]`` read (``os.environ["HOME"]``, ``sys.modules["os"]``);
* ``STORE_HOOKS``: ``base[key] = …`` (``os.environ["PATH"] = …``);
* ``BARE_HOOKS``: the object used whole (``dict(os.environ)``);
* ``SUBSCRIPT_VALUES``: what ``base[key]`` is (``sys.modules["os"]`` is the module ``os``);
* ``ITERATION_VALUES``: what iterating a call's result yields (``psutil.process_iter()``);
* ``RESULT_HOOKS``: what a call returns, computed (pathlib's constructors, ``joinpath``, ``with_name``…);
* ``PACKAGE_HOOKS``: run for every call into a package the catalogue judged pure, by the package's
  name (sympy's functions parse a string argument with eval).
"""

from __future__ import annotations

import pathlib
import posixpath
import re
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from governed_agents.analysis._fold import join_path, path_text
from governed_agents.analysis._forward import forward_reference
from governed_agents.analysis._sql import sqlite_database_files
from governed_agents.analysis._values import UNKNOWN, Choice, Const, Mod, Obj, host_port, normalise_path
from governed_agents.ir import (
    DynamicCode,
    EnvironmentAccess,
    FileOperation,
    ModuleImport,
    NetworkCall,
    ProcessSpawn,
)

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["BARE_HOOKS", "CALL_HOOKS", "ITERATION_VALUES", "PACKAGE_HOOKS", "RESULT_HOOKS", "STORE_HOOKS",
           "SUBSCRIPT_HOOKS", "SUBSCRIPT_VALUES"]

CallHook = Callable[["Walker", cst.Call, str], None]
NodeHook = Callable[["Walker", Any, str], None]

CALL_HOOKS: dict[str, CallHook] = {}
SUBSCRIPT_HOOKS: dict[str, NodeHook] = {}
STORE_HOOKS: dict[str, Callable[[Walker, Any, str, Any], None]] = {}  # (walker, target, api, value stored)
BARE_HOOKS: dict[str, NodeHook] = {}
SUBSCRIPT_VALUES: dict[str, Callable[[Walker, cst.Subscript], Any]] = {}
ITERATION_VALUES: dict[str, Any] = {"psutil.process_iter": Obj("psutil.Process")}
RESULT_HOOKS: dict[str, Callable[[Walker, cst.Call, Any], Any]] = {}
PACKAGE_HOOKS: dict[str, CallHook] = {}


def _register(table: dict[str, Any], *names: str) -> Callable[[Any], Any]:
    def register(handler: Any) -> Any:
        for name in names:
            table[name] = handler
        return handler
    return register


@_register(CALL_HOOKS, "numpy.load", "numpy.lib.npyio.load", "numpy.lib._npyio_impl.load")
def _numpy_allow_pickle(w: Walker, call: cst.Call, api: str) -> None:
    """``numpy.load(file, mmap_mode=None, allow_pickle=False, …)``: a pickle when ``allow_pickle``
    is not False, by keyword or by position; a write of the file when mapped ``r+`` or ``w+``."""
    positional, keywords, _ = w.args(call)
    pickle = keywords.get("allow_pickle") or (positional[2] if len(positional) > 2 else None)
    flag = w.value(pickle) if pickle is not None else Const(False)
    if not (isinstance(flag, Const) and flag.value is False):
        w.emit(call, DynamicCode, kind="deserialization", detail=f"{api}(allow_pickle=True)", api=api)
    mapped = keywords.get("mmap_mode") or (positional[1] if len(positional) > 1 else None)
    mode = w.value(mapped) if mapped is not None else Const(None)
    if not (isinstance(mode, Const) and mode.value in (None, "r", "c")):
        where = keywords.get("file") or (positional[0] if positional else None)
        path = w.value(where) if where is not None else UNKNOWN
        text = path.value if isinstance(path, Const) and isinstance(path.value, str) else None
        w.emit_files(call, [(text, ("write",))], f"{api}(mmap_mode=…)")


_SQLITE_URI_POSITION = 7  # connect(database, timeout, detect_types, isolation_level, check_same_thread,
# factory, cached_statements, uri)


def _database_name(w: Walker, call: cst.Call, absent: Any) -> Any:
    """The ``database`` argument of a connect call as text (a path object's too), or UNKNOWN."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("database") or (positional[0] if positional else None)
    value = w.value(node) if node is not None else absent
    text = value.value if isinstance(value, (Const, Obj)) else UNKNOWN
    return text.decode("utf-8", "surrogateescape") if isinstance(text, bytes) else text


@_register(CALL_HOOKS, "sqlite3.connect", "sqlite3.dbapi2.connect")
def _sqlite_connect(w: Walker, call: cst.Call, api: str) -> None:
    """``sqlite3.connect(path)`` opens the file read-write and creates it when it is missing: a read
    and a write of the path. Nothing for a database in memory (``":memory:"``, ``""``, a URI with
    ``mode=memory``); a read only for a URI (``uri=True``) with ``mode=ro`` or ``immutable=1``. When
    ``uri`` is not a constant, both readings of the text are reported."""
    positional, keywords, _ = w.args(call)
    text = _database_name(w, call, UNKNOWN)
    uri_node = keywords.get("uri") or (positional[_SQLITE_URI_POSITION] if len(positional) > _SQLITE_URI_POSITION
                                       else None)
    uri = w.value(uri_node) if uri_node is not None else Const(False)
    flag = uri.value if isinstance(uri, Const) else None
    w.emit_files(call, sqlite_database_files(text if isinstance(text, str) else None,
                                             uri=None if flag is None else bool(flag)), api)


@_register(CALL_HOOKS, *(f"{m}.{f}" for m in ("matplotlib.style", "matplotlib.pyplot.style", "matplotlib.style.core")
                         for f in ("use", "context")))
def _style_files(w: Walker, call: cst.Call, api: str) -> None:
    """``plt.style.use('ggplot')`` names a style matplotlib ships; a name with a slash or a
    ``.mplstyle`` suffix is a file it reads, a URL one it fetches, a dotted name a package's
    resource; a dict is rc settings. A name not known as text is read from an unknown path."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("style") or (positional[0] if positional else None)
    if node is None or isinstance(node, cst.Dict):
        return
    value = w.value(node)
    names = value.value if isinstance(value, Const) and isinstance(value.value, tuple) else (
        value.value if isinstance(value, Const) else UNKNOWN,)
    for name in names:
        if isinstance(name, str) and "://" in name:
            host, port, url = host_port(name)
            w.emit(call, NetworkCall, destination=host, port=port, url=url, api=api)
        elif isinstance(name, str) and "/" not in name and "." not in name and name != "":
            continue  # a style matplotlib ships (or none: an unknown name fails)
        else:
            path = normalise_path(name, w.work_dir) if isinstance(name, str) and ("/" in name or name.endswith(
                ".mplstyle")) else None
            w.emit(call, FileOperation, operation="read", paths=(path,), api=api)


# what pandas.eval lets an expression call (pandas.core.computation.ops.MATHOPS, and the reductions)
_PANDAS_FUNCTIONS = frozenset((
    "sin", "cos", "exp", "log", "expm1", "log1p", "sqrt", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
    "arccosh", "arcsinh", "arctanh", "abs", "arctan2", "where"))
_EXPRESSION_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_LOCAL_REACH = re.compile(r"@\s*[A-Za-z_]\w*\s*[.(\[]")  # @df.x, @f(…), @d[…]: more than a local's value


@_register(CALL_HOOKS, "pandas.eval", "pandas.DataFrame.eval", "pandas.DataFrame.query")
def _pandas_expression(w: Walker, call: cst.Call, api: str) -> None:
    """``df.query('A < @limit')``, ``pd.eval('df1 + df2')``: arithmetic over columns and locals,
    judged pure. Text that reaches further — a dunder, an attribute, call or item of a local (``@``),
    a call of anything but pandas' own math functions — or text not known here is dynamic code."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("expr") or (positional[0] if positional else None)
    text = w.value(node) if node is not None else Const("")
    if isinstance(text, Const) and isinstance(text.value, str):
        expression = text.value
        calls = {name.rsplit(".", 1)[-1] for name in _EXPRESSION_CALL.findall(expression)}
        if "__" not in expression and not _LOCAL_REACH.search(expression) and calls <= _PANDAS_FUNCTIONS:
            return
        detail = f"{api} of {expression[:60]!r}"
    else:
        detail = f"{api} of text not known before the run"
    w.emit(call, DynamicCode, kind="eval", detail=detail, api=api)


@_register(CALL_HOOKS, "typing.ForwardRef", "typing.TypeVar", "typing_extensions.TypeVar",
           "typing_extensions.ForwardRef")
def _forward_text(w: Walker, call: cst.Call, api: str) -> None:
    """``TypeVar("T", bound="Node")``, ``ForwardRef("Node")``: text evaluated as a type (_forward)."""
    positional, keywords, _ = w.args(call)
    for node in (positional[1:] if api.endswith("TypeVar") else positional[:1]) + list(keywords.values()):
        if type(node) is cst.SimpleString or type(node) is cst.ConcatenatedString:
            forward_reference(w, node, f"a {api} argument")
        elif not isinstance(w.value(node), Const) and api.endswith("ForwardRef"):
            w.emit(call, DynamicCode, kind="eval", detail=f"{api} of text not known before the run", api=api)


@_register(CALL_HOOKS, "spacy.load")
def _spacy_load(w: Walker, call: cst.Call, api: str) -> None:
    """``spacy.load("en_core_web_sm")`` imports the package of that name; ``spacy.load("./model")``
    reads the directory; a name not known here may be either."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("name") or (positional[0] if positional else None)
    name = w.value(node) if node is not None else UNKNOWN
    if not (isinstance(name, Const) and isinstance(name.value, str)):
        w.emit(call, DynamicCode, kind="dynamic_import", detail=f"{api} of a model named at run time", api=api)
    elif "/" in name.value or name.value.startswith(".") or not name.value.isidentifier():
        w.emit_files(call, [(name.value, ("read",))], api)
    else:
        w.imports(call, name.value, api=api)


@_register(CALL_HOOKS, "matplotlib.use", "matplotlib.pyplot.switch_backend")
def _matplotlib_backend(w: Walker, call: cst.Call, api: str) -> None:
    """``matplotlib.use("module://name")`` imports the module ``name`` (any module on the path, the
    work directory's too); a backend not known here may be one."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("backend") or keywords.get("newbackend") or (positional[0] if positional else None)
    if node is None:
        return
    backend = w.value(node)
    if isinstance(backend, Const) and isinstance(backend.value, str):
        _backend_module(w, call, backend.value, api)
        return
    w.emit(call, DynamicCode, kind="dynamic_import", detail=f"{api} of a backend computed at run time", api=api)


def _backend_module(w: Walker, node: Any, backend: str, api: str) -> None:
    """A matplotlib backend named ``module://name`` is the module ``name``, imported."""
    if backend.startswith("module://"):
        w.imports(node, backend[len("module://"):], api=api)


@_register(STORE_HOOKS, "matplotlib.rcParams", "matplotlib.pyplot.rcParams")
def _matplotlib_backend_store(w: Walker, target: Any, api: str, value: Any) -> None:
    """``rcParams["backend"] = "module://name"`` imports ``name`` when pyplot next needs a backend;
    ``rcParams["text.usetex"] = True`` has every text drawn run latex (and dvipng or ghostscript)."""
    if type(target) is not cst.Subscript:
        return
    key = w.subscript_key(target)
    if key == "text.usetex":
        if not (isinstance(value, Const) and not value.value):
            w.emit(target, ProcessSpawn, command="latex", program="latex", api=f"{api}['text.usetex']")
        return
    if key is not None and key != "backend":
        return
    if key is None and len(target.slice) == 1 and type(target.slice[0].slice) is cst.Index:
        keys = w.value(target.slice[0].slice.value)  # for k, v in {"lines.linewidth": 2}.items(): …
        if type(keys) is Choice and "backend" not in keys.values:
            return
    if isinstance(value, Const):  # a number, or a backend's name
        if isinstance(value.value, str):
            _backend_module(w, target, value.value, f"{api}['backend']")
        return
    w.emit(target, DynamicCode, kind="dynamic_import", api=api,
           detail=f"{api}[{key!r}] set to a backend computed at run time" if key else f"{api} set by a computed key")


# sympy's callables that read a string as a name or a number, not as an expression
_SYMPY_NAMES = frozenset(("Symbol", "symbols", "Dummy", "Wild", "var", "Function", "IndexedBase", "Idx",
                          "MatrixSymbol", "Integer", "Rational", "Float"))


@_register(PACKAGE_HOOKS, "sympy")
def _sympy_text(w: Walker, call: cst.Call, api: str) -> None:
    """``sympy.expand("(x + 1)**2")``: sympy turns a string argument into an expression with
    ``sympify``, which evals it (``sympy.simplify("__import__('os').system('id')")`` runs the
    command). A positional argument known to be text is eval; one whose value is not known here is
    judged an expression, as sympy code passes one."""
    if api.rsplit(".", 1)[-1] in _SYMPY_NAMES:
        return
    for argument in call.args:
        if argument.keyword is not None or argument.star:
            continue
        text = _text_within(w, argument.value)
        if text is not None:
            w.emit(call, DynamicCode, kind="eval", detail=f"{api} parses {text[:60]!r} with eval (sympify)",
                   api=api)
            return


def _text_within(w: Walker, node: Any) -> str | None:
    """A string ``node`` holds, itself or inside the literal lists, tuples and sets it is made of
    (``Matrix([["x + 1"]])`` sympifies each entry)."""
    node_type = type(node)
    if node_type is cst.List or node_type is cst.Tuple or node_type is cst.Set:
        for element in node.elements:
            text = _text_within(w, element.value)
            if text is not None:
                return text
        return None
    value = w.value(node)
    text = value.values[0] if type(value) is Choice else value.value if type(value) is Const else None
    return text if isinstance(text, str) else None


@_register(CALL_HOOKS, "pydantic.create_model")
def _pydantic_fields(w: Walker, call: cst.Call, api: str) -> None:
    """``create_model("M", x=("Node", ...))``: a field's type given as text is a forward reference."""
    _, keywords, _ = w.args(call)
    for name, node in keywords.items():
        if name.startswith("__"):
            continue
        first = node.elements[0].value if type(node) is cst.Tuple and node.elements else node
        if type(first) is cst.SimpleString or type(first) is cst.ConcatenatedString:
            forward_reference(w, first, f"the type of {api}'s field {name!r}")


@_register(CALL_HOOKS, "fileinput.input", "fileinput.FileInput")
def _fileinput_inplace(w: Walker, call: cst.Call, api: str) -> None:
    """``fileinput.input(files, inplace=True)`` rewrites each file it reads: a write of each too."""
    positional, keywords, _ = w.args(call)
    flag_node = keywords.get("inplace") or (positional[1] if len(positional) > 1 else None)
    if flag_node is None:
        return
    flag = w.value(flag_node)
    if isinstance(flag, Const) and not flag.value:
        return
    node = keywords.get("files") or (positional[0] if positional else None)
    value = w.value(node) if node is not None else UNKNOWN
    names = value.value if isinstance(value, Const) else UNKNOWN
    items = (names,) if isinstance(names, str) else names if isinstance(names, tuple) else ()
    w.emit_files(call, [(n if isinstance(n, str) else None, ("write",)) for n in items or (None,)], api)


@_register(CALL_HOOKS, "duckdb.connect")
def _duckdb_connect(w: Walker, call: cst.Call, api: str) -> None:
    """``duckdb.connect(path)`` opens (and creates) a database file, as ``sqlite3.connect`` does;
    ``md:``/``motherduck:`` names a database in MotherDuck's cloud."""
    text = _database_name(w, call, Const(":memory:"))
    if isinstance(text, str) and text.startswith(("md:", "motherduck:")):
        w.emit(call, NetworkCall, destination=None, port=None, url=text, api=api)
        return
    w.emit_files(call, sqlite_database_files(text if isinstance(text, str) else None, uri=False), api)


@_register(CALL_HOOKS, "sqlalchemy.create_engine")
def _engine_url(w: Walker, call: cst.Call, api: str) -> None:
    """``create_engine("sqlite:////data/x.db")`` opens a file; any other dialect reaches a server."""
    positional, keywords, _ = w.args(call)
    node = keywords.get("url") or (positional[0] if positional else None)
    value = w.value(node) if node is not None else UNKNOWN
    url = value.value if isinstance(value, Const) and isinstance(value.value, str) else None
    if url is not None and url.split(":", 1)[0].split("+", 1)[0] == "sqlite":
        rest = url.split(":", 1)[1] if ":" in url else ""
        path = rest[3:].split("?", 1)[0] if rest.startswith("///") else None
        w.emit_files(call, sqlite_database_files(path if path else ":memory:", uri=False), api)
        return
    if url is None:  # a URL not known here may name a sqlite file as well as a server
        w.emit_files(call, sqlite_database_files(None, uri=False), api)
    host, port, full = host_port(url) if url is not None else (None, None, None)
    w.emit(call, NetworkCall, destination=host, port=port, url=full, api=api)


@_register(CALL_HOOKS, "builtins.str.format", "builtins.str.format_map")
def _format_fields(w: Walker, call: cst.Call, api: str) -> None:
    """``"{0.__globals__}".format(f)``: a replacement field is an attribute and item lookup."""
    func = w.value(call.func)
    template = getattr(getattr(func, "receiver", None), "value", None)
    if not isinstance(template, str) or "{" not in template:
        return
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    except ValueError:
        return
    for field in fields:
        parts = field.replace("[", ".").replace("]", "").split(".")
        risky = [p for p in parts[1:] if p.startswith("__")]
        if risky:
            w.emit(call, DynamicCode, kind="introspection", detail=f"format field {field!r}", api=api)
            return


@_register(SUBSCRIPT_HOOKS, "sys.modules")
def _sys_modules(w: Walker, node: cst.Subscript, api: str) -> None:
    key = w.subscript_key(node)
    if key is not None:  # sys.modules['os'] is a use of os
        w.emit(node, ModuleImport, module=key, api=api)
    else:
        w.emit(node, DynamicCode, kind="introspection", detail="sys.modules with a computed name", api=api)


def _module_key(w: Walker, call: cst.Call) -> str | None:
    """The module name ``sys.modules.get(name)`` and its kin are asked for, when it is a literal."""
    positional, _, _ = w.args(call)
    key = w.value(positional[0]) if positional else UNKNOWN
    return key.value if isinstance(key, Const) and isinstance(key.value, str) else None


@_register(CALL_HOOKS, "sys.modules.get", "sys.modules.__getitem__", "sys.modules.pop", "sys.modules.setdefault")
def _sys_modules_get(w: Walker, call: cst.Call, api: str) -> None:
    key = _module_key(w, call)
    if key is not None:
        w.emit(call, ModuleImport, module=key, api=api)
    else:
        w.emit(call, DynamicCode, kind="introspection", detail="sys.modules with a computed name", api=api)


@_register(RESULT_HOOKS, "sys.modules.get", "sys.modules.__getitem__", "sys.modules.pop", "sys.modules.setdefault")
def _sys_modules_get_value(w: Walker, call: cst.Call, receiver: Any) -> Any:
    key = _module_key(w, call)
    return Mod(key) if key is not None else UNKNOWN


@_register(SUBSCRIPT_VALUES, "sys.modules")
def _sys_modules_value(w: Walker, node: cst.Subscript) -> Any:
    key = w.subscript_key(node)
    return Mod(key) if key is not None else UNKNOWN


_ENVIRONS = ("os.environ", "os.environb", "posix.environ", "nt.environ")


@_register(SUBSCRIPT_HOOKS, *_ENVIRONS)
def _environ_read(w: Walker, node: cst.Subscript, api: str) -> None:
    if id(node) in w.consumed:
        return
    w.consumed.add(id(node.value))
    w.emit(node, EnvironmentAccess, names=(w.subscript_key(node),), access="read", api=api)


@_register(STORE_HOOKS, *_ENVIRONS)
def _environ_write(w: Walker, target: cst.Subscript, api: str, value: Any) -> None:
    w.consumed.add(id(target))
    w.consumed.add(id(target.value))
    w.emit(target, EnvironmentAccess, names=(w.subscript_key(target),), access="write", api=api)


@_register(BARE_HOOKS, *_ENVIRONS)
def _environ_whole(w: Walker, node: Any, api: str) -> None:
    if id(node) not in w.consumed:
        w.emit(node, EnvironmentAccess, names=(None,), access="read", api=api)


@_register(STORE_HOOKS, "sys.path")
def _import_path_store(w: Walker, target: Any, api: str, value: Any) -> None:
    """``sys.path = […]``, ``sys.path += […]``, ``sys.path[0:0] = […]``: directories put on the import
    path, from which the next import reads (and runs) code. Which ones is not followed here: a read
    of an unknown path (``sys.path.append(p)`` names its path: the catalogue)."""
    w.consumed.add(id(target))
    w.emit_files(target, [(None, ("read",))], api)


# -- pathlib, as pathlib computes it ---------------------------------------------------------

_PATH = "pathlib.Path"


def _joined(w: Walker, start: str | None, call: cst.Call) -> Any:
    """``start`` joined with every positional argument, each absolute one replacing what is left of it."""
    positional, _, starred = w.args(call)
    if start is None or starred:
        return Obj(_PATH)
    path = start
    for node in positional:
        part = path_text(w.value(node))
        if part is None:
            return Obj(_PATH)
        path = join_path(path, part)
    return Obj(_PATH, path)


@_register(RESULT_HOOKS, "pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "pathlib.PurePosixPath",
           "pathlib.WindowsPath", "pathlib.PureWindowsPath")
def _path_constructor(w: Walker, call: cst.Call, receiver: Any) -> Any:
    return _joined(w, ".", call) if call.args else Obj(_PATH, ".")


@_register(RESULT_HOOKS, "pathlib.Path.joinpath")
def _joinpath(w: Walker, call: cst.Call, receiver: Any) -> Any:
    return _joined(w, path_text(receiver), call)


def _pure_method(name: str) -> Callable[[Walker, cst.Call, Any], Any]:
    def compute(w: Walker, call: cst.Call, receiver: Any) -> Any:
        base = path_text(receiver)
        positional, _, _ = w.args(call)
        argument = path_text(w.value(positional[0])) if positional else None
        if base is None or argument is None:
            return Obj(_PATH)
        try:
            return Obj(_PATH, str(getattr(pathlib.PurePosixPath(base), name)(argument)))
        except ValueError:
            return Obj(_PATH)
    return compute


for _name in ("with_name", "with_suffix", "with_stem"):
    RESULT_HOOKS[f"pathlib.Path.{_name}"] = _pure_method(_name)


@_register(RESULT_HOOKS, "pathlib.Path.expanduser")
def _expanduser(w: Walker, call: cst.Call, receiver: Any) -> Any:
    base = path_text(receiver)
    return Obj(_PATH) if base is None or base.startswith("~") else Obj(_PATH, base)


@_register(RESULT_HOOKS, "pathlib.Path.absolute", "pathlib.Path.resolve")
def _absolute(w: Walker, call: cst.Call, receiver: Any) -> Any:
    base = path_text(receiver)
    if base is None or base.startswith("~"):
        return Obj(_PATH)
    return Obj(_PATH, base if posixpath.isabs(base) or w.work_dir is None else posixpath.join(w.work_dir, base))
