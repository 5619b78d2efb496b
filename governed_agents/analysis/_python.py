"""Python code → SovereignIR in one libcst pass with light alias tracking.

The walk is a plain pre-order traversal over libcst's dataclass fields (measured at about a fifth
of the cost of ``CSTVisitor`` dispatch, and far below ScopeProvider/QualifiedNameProvider). Names are
tracked flow-insensitively per function scope: ``import os as o; f = o.system; f("ls")`` resolves to
``os.system``. Positions are found lazily, only for nodes that produce an operation, by locating the
node's own source text at or after the previous operation's position.

``code_signature`` is ``sha256:`` over the canonical form the walk produces as it goes: the syntax
tree's node types with their names, literals (strings by value) and operators, in source order —
no whitespace, no comments, no punctuation, no parentheses. So blank lines, spacing, indentation
width, comments, trailing commas and quote style (``'ls'`` or ``"ls"``) do not change it; renaming
a variable or changing a literal's value does. When the text does not parse,
the signature is over the raw text (and the IR is unresolved).
"""

from __future__ import annotations

import ast
import bisect
import builtins
import hashlib
import operator
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from governed_agents.analysis._catalogue import (
    CATALOGUED_ATTRIBUTES,
    DUCK_METHODS,
    KNOWN_MODULES,
    MODULE_ESCAPES,
    Spec,
    lookup,
)
from governed_agents.analysis._shell import analyze_argv, analyze_shell
from governed_agents.analysis._sql import sql_operations
from governed_agents.analysis._values import (
    UNKNOWN,
    Const,
    Method,
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
    ModuleImport,
    NetworkCall,
    ProcessSpawn,
    SovereignIR,
    Unresolved,
)

__all__ = ["analyze_python", "code_signature"]

_BUILTINS = frozenset(dir(builtins))
_DUNDER_ESCAPES = frozenset(
    {"__subclasses__", "__globals__", "__builtins__", "__dict__", "__code__", "__mro__", "__base__",
     "__bases__", "__class__", "__closure__", "__func__", "__self__", "__getattribute__", "__reduce__",
     "__reduce_ex__", "__loader__", "__spec__", "__init_subclass__"}
)
# Fields that never hold a node that matters: whitespace, punctuation, formatting.
_SKIP_FIELD = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "dot", "equal", "newline",
               "leading_lines", "lines_after", "header", "footer", "lbracket", "rbracket", "lbrace",
               "rbrace", "operator", "star", "arrow", "asynchronous")
_CHILD_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_LEAVE = object()
_OUTER = object()  # in a scope: the name is declared global/nonlocal there
_NONE = Const(None)


class _ClassScope(dict[str, Any]):
    """A class body's names: attributes, invisible to the methods defined in it."""


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in base.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


# Every concrete libcst node class: a set lookup, since isinstance on libcst's ABCs is slow.
_NODE_TYPES: frozenset[type] = frozenset(_subclasses(cst.CSTNode))


def _child_fields(node_type: type) -> Callable[[Any], tuple[Any, ...]]:
    """For a node type, one C call that returns its fields that may hold nodes, last field first
    (the walk pushes them on a stack)."""
    getter = _CHILD_FIELDS.get(node_type)
    if getter is None:
        names = tuple(
            f for f in node_type.__dataclass_fields__  # type: ignore[attr-defined]
            if not any(s in f for s in _SKIP_FIELD)
        )[::-1]
        if not names:
            getter = _no_fields
        elif len(names) == 1:
            one = operator.attrgetter(names[0])
            getter = lambda node: (one(node),)  # noqa: E731
        else:
            getter = operator.attrgetter(*names)
        _CHILD_FIELDS[node_type] = getter
    return getter


_KINDS: dict[type, tuple[str, Any, Any, Callable[[Any], tuple[Any, ...]]]] = {}


def _kind(node_type: type) -> tuple[str, Any, Any, Callable[[Any], tuple[Any, ...]]]:
    """Everything the walk needs about a node type, in one lookup: its name (for the signature),
    the detail it adds, its handler and its child fields."""
    kind = (node_type.__name__, _DETAIL.get(node_type), _HANDLERS.get(node_type), _child_fields(node_type))
    _KINDS[node_type] = kind
    return kind


def _no_fields(node: Any) -> tuple[Any, ...]:
    return ()


def code_signature(code: str) -> str:
    return analyze_python(code).code_signature


def _syntax_error(code: str, fallback: cst.ParserSyntaxError) -> Unresolved:
    """Python's own message and position for text that does not parse (only on this error path)."""
    return _refused_by_python(code) or Unresolved(
        reason=f"syntax the analyser cannot read: {fallback.message}", kind="parse_error",
        line=fallback.raw_line, column=fallback.raw_column + 1)


def _raw(code: str) -> str:
    return "sha256:" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


# libcst's native parser overflows the C stack (the process dies) on nesting Python itself refuses
# (about 1,400 brackets, 4,500 subscripts, 10,000 unary operators); CPython's parser refuses it
# cleanly. Checked only where it could happen: 200+ opening brackets, or text long enough to chain.
_DEEP_ENOUGH_TO_CHECK = 200
_LONG_ENOUGH_TO_CHECK = 3000


def _refused_by_python(code: str) -> Unresolved | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        kind = "limit" if "too many nested" in (exc.msg or "") else "parse_error"
        return Unresolved(reason=f"Python syntax error: {exc.msg}", kind=kind, line=exc.lineno or 0,
                          column=exc.offset or 0)
    except (RecursionError, MemoryError):
        return Unresolved(reason="code nested too deeply for Python to compile", kind="limit")
    except ValueError as exc:
        return Unresolved(reason=f"Python cannot read this text: {exc}", kind="parse_error")
    return None


def analyze_python(code: str, work_dir: str | None = None) -> SovereignIR:
    if len(code) >= _LONG_ENOUGH_TO_CHECK or code.count("(") + code.count("[") + code.count("{") >= _DEEP_ENOUGH_TO_CHECK:
        refused = _refused_by_python(code)
        if refused is not None:
            return SovereignIR(language="python", code_signature=_raw(code), unresolved=(refused,))
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(_syntax_error(code, exc),))
    except (RecursionError, MemoryError, ValueError) as exc:
        problem = Unresolved(reason=f"code the analyser cannot read ({type(exc).__name__})",
                             kind="limit" if not isinstance(exc, ValueError) else "parse_error")
        return SovereignIR(language="python", code_signature=_raw(code), unresolved=(problem,))
    walker = _Walker(module, code, str(work_dir) if work_dir is not None else None)
    try:
        walker.walk()
    except RecursionError:
        walker.unresolved.append(Unresolved(reason="expression nested too deeply to analyse", kind="limit"))
    signature = "sha256:" + hashlib.sha256("\x1f".join(walker.tokens).encode("utf-8", "surrogatepass")).hexdigest()
    return SovereignIR.model_construct(
        language="python",
        code_signature=signature,
        operations=tuple(walker.ops),
        unresolved=tuple(walker.unresolved),
    )


class _Walker:
    def __init__(self, module: cst.Module, source: str, work_dir: str | None) -> None:
        self.module = module
        self.source = source
        self.work_dir = work_dir
        self.ops: list[Any] = []
        self.tokens: list[str] = []  # the canonical form: node types and values, no layout or comments
        self.unresolved: list[Unresolved] = []
        self.scopes: list[dict[str, Any]] = [{}]
        self.star_modules: list[str] = []
        self.cache: dict[int, Any] = {}
        self.consumed: set[int] = set()  # nodes already accounted for (assignment targets, call funcs)
        self.no_escape: set[int] = set()  # API references that go nowhere: plain local aliases, annotations
        self.unbound: set[str] = set()  # names read from outside their scope (a later alias there is no alias)
        self.aliases: dict[str, Any] = {}  # name → the value node of its alias binding (f = os.remove)
        self._line_starts: list[int] | None = None
        self._cursor = 0
        self._statement: Any = None  # the innermost simple statement, located only when it holds an op
        self._positions: dict[int, tuple[int, int]] = {}
        self._last: tuple[str | None, int] = (None, -1)  # the text and index of the last node located

    # -- traversal -------------------------------------------------------------------------

    def prebind_imports(self) -> None:
        """Module-level imports bind for the whole module: a function body may use a name that
        is imported below it. Operations are emitted later, in source order, by the walk."""
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted(alias.name)
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            self.bind(alias.asname.name.value, Mod(dotted))
                        else:
                            self.bind(dotted.split(".")[0], Mod(dotted.split(".")[0]))
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    base = "." * len(small.relative) + (_dotted(small.module) if small.module else "")
                    for alias in small.names:
                        name = _dotted(alias.name)
                        local = alias.asname.name.value if alias.asname is not None and isinstance(
                            alias.asname.name, cst.Name) else name
                        self.bind(local, Mod(f"{base}.{name}" if base and not base.endswith(".") else base + name))

    def walk(self) -> None:
        self.prebind_imports()
        stack: list[Any] = [self.module]
        node_types = _NODE_TYPES
        tokens = self.tokens
        kinds = _KINDS
        push = stack.append
        while stack:
            node = stack.pop()
            node_type = type(node)
            if node_type not in node_types:  # the end of a scope, or an item of a sequence that is no node
                if node is _LEAVE:
                    self.scopes.pop()
                continue
            name, detail, handler, getter = kinds.get(node_type) or _kind(node_type)
            tokens.append(name)
            if detail is not None:
                tokens.append(detail(node))
            if handler is not None and handler(self, node, stack) is _SKIP_CHILDREN:
                continue
            for value in getter(node):
                value_type = type(value)
                if value_type in node_types:
                    push(value)
                elif value_type is tuple or value_type is list:
                    stack.extend(value[::-1])  # each item is checked when it comes off the stack

    def _push_scope(self, names: Iterator[str], stack: list[Any], *, is_class: bool = False) -> None:
        # The scope is popped when the marker, pushed below the children, comes off the stack.
        stack.append(_LEAVE)
        self.scopes.append((_ClassScope if is_class else dict).fromkeys(names, UNKNOWN))

    # -- names and values ------------------------------------------------------------------

    def bind(self, name: str, value: Any) -> None:
        scope = self.scopes[-1]
        if scope.get(name) is _OUTER:  # `global f` / `nonlocal f`: the binding is the outer scope's
            scope = next((outer for outer in reversed(self.scopes[:-1]) if outer.get(name) is not _OUTER
                          and (name in outer or outer is self.scopes[0])), scope)
        if type(scope.get(name)) is Mod and value == _NONE:
            return  # bindings are flow-insensitive: `except ImportError: subprocess = None` leaves a may-be module
        scope[name] = value

    def lookup_name(self, name: str) -> Any:
        scopes = self.scopes
        innermost = scopes[-1]
        for scope in reversed(scopes):
            if name in scope:
                value = scope[name]
                # a class body's names are not visible inside its methods
                if value is not _OUTER and (type(scope) is not _ClassScope or scope is innermost):
                    if scope is not innermost:
                        self.unbound.add(name)  # read from outside: an alias made later is no alias
                    return value
        self.unbound.add(name)
        for module in reversed(self.star_modules):
            if lookup(f"{module}.{name}") is not None:
                return Mod(f"{module}.{name}")
        if name in _BUILTINS:
            return Mod(name)
        if name in KNOWN_MODULES:  # imported in an earlier block (Jupyter keeps state): assume so
            return Mod(name)
        return UNKNOWN

    def value(self, node: Any) -> Any:
        key = id(node)
        if key in self.cache:
            return self.cache[key]
        result = self._value(node)
        self.cache[key] = result
        return result

    def _value(self, node: Any) -> Any:
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Const({"True": True, "False": False, "None": None}[node.value])
            return self.lookup_name(node.value)
        if isinstance(node, cst.SimpleString):
            value = _string_value(node.value)
            return UNKNOWN if value is UNKNOWN else Const(value)
        if isinstance(node, (cst.ConcatenatedString, cst.Integer, cst.Float)):
            try:
                value = node.evaluated_value
            except Exception:
                return UNKNOWN
            return Const(value) if value is not None else UNKNOWN
        if isinstance(node, cst.FormattedString):
            return self._fstring(node)
        if isinstance(node, cst.Attribute):
            return self._attribute(self.value(node.value), node.attr.value)
        if isinstance(node, cst.Call):
            return self._call_result(node)
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node)
        if isinstance(node, (cst.Tuple, cst.List)):
            items = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN
                v = self.value(element.value)
                items.append(v.value if isinstance(v, Const) else UNKNOWN)
            return Const(tuple(items))
        if isinstance(node, (cst.IfExp, cst.BooleanOperation)):  # `sp = subprocess if ok else None`, `os or None`
            either = (self.value(node.body), self.value(node.orelse)) if isinstance(node, cst.IfExp) else (
                self.value(node.left), self.value(node.right))
            return next((v for v in either if type(v) is Mod), either[0] if either[0] == either[1] else UNKNOWN)
        if isinstance(node, (cst.Await, cst.NamedExpr)):
            return self.value(node.expression if isinstance(node, cst.Await) else node.value)
        if isinstance(node, cst.Subscript):
            base = self.value(node.value)
            if isinstance(base, Mod) and base.name == "sys.modules":
                key = self._subscript_key(node)
                return Mod(key) if key is not None else UNKNOWN
        return UNKNOWN

    def _attribute(self, base: Any, attr: str) -> Any:
        if attr == "__call__" and isinstance(base, (Mod, Method)):
            return base  # os.system.__call__ is os.system
        if isinstance(base, Mod):
            if base.name == "builtins":
                return Mod(attr)  # builtins.exec is exec
            if attr == "ctypeslib":
                return Mod("numpy.ctypeslib")
            qualified = f"{base.name}.{attr}"
            if attr in MODULE_ESCAPES and base.name != attr and lookup(qualified) is None:
                return Mod(attr)  # np.os, pd.io.common.os: the module itself
            return Mod(qualified)
        if isinstance(base, Obj):
            return Method(base.type, attr, base)
        if isinstance(base, Const):
            return Method(f"builtins.{type(base.value).__name__}", attr, base)
        return Method(None, attr, base)

    def _fstring(self, node: cst.FormattedString) -> Any:
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
                continue
            if not isinstance(part, cst.FormattedStringExpression) or part.format_spec or part.conversion:
                return UNKNOWN
            v = self.value(part.expression)
            if not isinstance(v, Const) or not isinstance(v.value, (str, int, float)):
                return UNKNOWN
            out.append(str(v.value))
        return Const("".join(out))

    def _binary(self, node: cst.BinaryOperation) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.operator, cst.Add) and isinstance(left, Const) and isinstance(right, Const):
            try:
                return Const(left.value + right.value)
            except TypeError:
                return UNKNOWN
        if isinstance(node.operator, cst.Modulo) and isinstance(left, Const) and isinstance(right, Const):
            try:
                return Const(left.value % right.value)
            except (TypeError, ValueError):
                return UNKNOWN
        if isinstance(node.operator, cst.Divide) and isinstance(left, Obj) and left.type == "pathlib.Path":
            if isinstance(left.value, str) and isinstance(right, Const) and isinstance(right.value, str):
                return Obj("pathlib.Path", left.value.rstrip("/") + "/" + right.value)
            return Obj("pathlib.Path")
        return UNKNOWN

    def _args(self, call: cst.Call) -> tuple[list[Any], dict[str, Any], bool]:
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        starred = False
        for arg in call.args:
            if arg.star:
                starred = True
                continue
            if arg.keyword is not None:
                keywords[arg.keyword.value] = arg.value
            else:
                positional.append(arg.value)
        return positional, keywords, starred

    def _arg(self, call: cst.Call, spec: Spec) -> Any:
        """The value of the argument a spec names (a node's value, or UNKNOWN)."""
        positional, keywords, _ = self._args(call)
        if spec.kw is not None and spec.kw in keywords:
            return self.value(keywords[spec.kw])
        if spec.arg is not None and spec.arg < len(positional):
            return self.value(positional[spec.arg])
        return Const(spec.default) if spec.default is not None else UNKNOWN

    def _callee(self, call: cst.Call) -> tuple[str | None, Spec | None, Any]:
        """(qualified name, spec, receiver) of what a call invokes."""
        func = self.value(call.func)
        if isinstance(func, Mod):
            return func.name, lookup(func.name), None
        if isinstance(func, Method):
            if func.type is not None:
                qualified = f"{func.type}.{func.name}"
                spec = lookup(qualified)
                if spec is not None:
                    return qualified, spec, func.receiver
            spec = DUCK_METHODS.get(func.name)
            if (spec is not None and not (func.type or "").startswith("builtins.")) or (
                spec is not None and func.type == "builtins.file"
            ):
                return f"{func.type or '?'}.{func.name}", spec, func.receiver
            return None, None, func.receiver
        return None, None, None

    def _call_result(self, call: cst.Call) -> Any:
        func = self.value(call.func)
        qualified, spec, receiver = self._callee(call)
        if isinstance(func, Method) and isinstance(func.receiver, Const):
            return _fold_str_method(func.name, func.receiver.value, [self.value(a.value) for a in call.args])
        if qualified in ("chr", "str") and len(call.args) == 1:
            v = self.value(call.args[0].value)
            if isinstance(v, Const):
                try:
                    return Const(chr(v.value) if qualified == "chr" else str(v.value))
                except (TypeError, ValueError, OverflowError):
                    return UNKNOWN
        if spec is None:
            return UNKNOWN
        if spec.kind == "import":
            name = self._arg(call, spec)
            return Mod(name.value) if isinstance(name, Const) and isinstance(name.value, str) else UNKNOWN
        if spec.kind == "getattr":
            positional, _, _ = self._args(call)
            if len(positional) >= 2:
                attr = self.value(positional[1])
                if isinstance(attr, Const) and isinstance(attr.value, str):
                    return self._attribute(self.value(positional[0]), attr.value)
            return UNKNOWN
        if spec.kind == "path_join":
            parts = [self.value(a.value) for a in call.args]
            if parts and all(isinstance(p, Const) and isinstance(p.value, str) for p in parts):
                import posixpath

                if qualified == "os.path.expanduser" and parts[0].value.startswith("~"):
                    return UNKNOWN
                return Const(posixpath.join(*(p.value for p in parts)))
            return UNKNOWN
        if spec.returns is not None:
            carried = self._arg(call, spec) if spec.arg is not None or spec.kw else UNKNOWN
            if spec.value_from == "self" and isinstance(receiver, Obj):
                carried = receiver.value
            inner = carried.value if isinstance(carried, Const) else (
                carried.value if isinstance(carried, Obj) else UNKNOWN)
            return Obj(spec.returns, inner)
        return UNKNOWN

    # -- emission ----------------------------------------------------------------------------

    def _find(self, node: Any) -> int:
        try:
            text = self.module.code_for_node(node).strip()
        except Exception:
            return -1
        if not text:
            return -1
        index = self.source.find(text, self._cursor)
        return index if index >= 0 else self.source.find(text)

    def _text(self, node: Any) -> str:
        """The text to look for: a call starts where its callee does, and ``callee(`` is far shorter
        to write out than the whole call (whose arguments may span lines)."""
        if type(node) is cst.Call and type(node.whitespace_after_func) is cst.SimpleWhitespace \
                and not node.whitespace_after_func.value:
            return self.module.code_for_node(node.func).strip() + "("
        return self.module.code_for_node(node).strip()

    def _alias_index(self, alias: cst.ImportAlias) -> int:
        """An imported name, searched after the next ``import`` keyword (``from socket import socket``).
        Statements come in order after the cursor; writing the statement out to find it costs more
        than the rest of the analysis of an import."""
        keyword = _IMPORT_KEYWORD.search(self.source, self._cursor)
        return self._search(_dotted(alias.name), keyword.end()) if keyword is not None else -1

    def _after_same(self, text: str) -> str:
        """A second node written like the last one located (``open(`` twice in one ``with``) stands
        after it: an inner node starts at or after its outer one, a sibling after the first."""
        if self._last[0] == text:
            self._cursor = self._last[1] + 1
        return text

    def _index_of(self, text: str, statement: Any) -> int:
        index = self._search(text, self._cursor)
        if index < 0:
            index = self._search(text, 0)
        if index >= 0 and statement is not None and self._search(text, index + 1) >= 0:
            # the same text stands more than once: anchor on the enclosing statement first
            anchor = self._find(statement)
            if anchor >= 0:
                self._cursor = anchor
                index = self._search(text, anchor)
        return index

    def _search(self, text: str, start: int) -> int:
        """``text`` in the source from ``start``, not as the tail of a longer name (``myopen(``)."""
        source = self.source
        index = source.find(text, start)
        if text[:1].isidentifier():
            while index > 0 and (source[index - 1].isalnum() or source[index - 1] == "_"):
                index = source.find(text, index + 1)
        return index

    def position(self, node: Any) -> tuple[int, int]:
        known = self._positions.get(id(node))
        if known is None:
            known = self._positions[id(node)] = self._locate(node)
        return known

    def _locate(self, node: Any) -> tuple[int, int]:
        statement, self._statement = self._statement, None
        index = -1
        text = _plain_text(node)  # most operations sit on a dotted name: no need to write code out
        if text:
            index = self._index_of(self._after_same(text), statement)
        elif type(node) is cst.ImportAlias and statement is not None:
            index = self._alias_index(node)
        if index < 0:
            try:
                text = self._text(node)
            except Exception:
                return 0, 0
            index = self._index_of(self._after_same(text), statement) if text else -1
        if index < 0:
            return 0, 0
        self._cursor = index
        self._last = (text, index)
        if self._line_starts is None:
            starts = [0]
            at = self.source.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = self.source.find("\n", at + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, index)
        return line, index - self._line_starts[line - 1] + 1

    def emit(self, node: Any, op_type: Any, **fields: Any) -> None:
        line, column = self.position(node)
        # built by this module with the right types: skip pydantic's validation on the hot path
        self.ops.append(op_type.model_construct(line=line, column=column, **fields))

    def on_call(self, call: cst.Call) -> None:
        qualified, spec, receiver = self._callee(call)
        if spec is None:
            return
        self._emit_spec(call, qualified or "?", spec, receiver)
        for extra in spec.also:
            self._emit_spec(call, qualified or "?", extra, receiver)
        if qualified == "numpy.load":
            _, keywords, _ = self._args(call)
            flag = self.value(keywords["allow_pickle"]) if "allow_pickle" in keywords else Const(False)
            if not (isinstance(flag, Const) and flag.value is False):
                self.emit(call, DynamicCode, kind="deserialization", detail="numpy.load(allow_pickle=True)",
                          api=qualified)

    def _carried(self, call: cst.Call, spec: Spec, receiver: Any) -> Any:
        if spec.value_from == "self":
            return receiver.value if isinstance(receiver, Obj) else UNKNOWN
        if spec.value_from == "handle":
            handle = self._arg(call, spec)
            return handle.value if isinstance(handle, Obj) else (UNKNOWN if handle is not UNKNOWN else None)
        v = self._arg(call, spec)
        if isinstance(v, Obj):
            return v.value
        return v.value if isinstance(v, Const) else UNKNOWN

    def _emit_spec(self, call: cst.Call, api: str, spec: Spec, receiver: Any) -> None:
        kind = spec.kind
        if kind in ("ctor", "path_join", "pure"):
            return
        if spec.optional:
            positional, keywords, _ = self._args(call)
            if not positional and spec.kw not in keywords:
                return
        if kind == "file" and spec.value_from == "handle":  # print(file=…), json.load(fh), csv.reader(fh)
            positional, keywords, _ = self._args(call)
            if spec.kw not in keywords and (spec.arg is None or spec.arg >= len(positional)):
                return  # print() to stdout
            handle = self._arg(call, spec)
            if (isinstance(handle, Obj) and handle.type == "builtins.file") or (
                    isinstance(handle, Mod) and handle.name in _STANDARD_STREAMS):
                return  # a handle opened here was reported where it was opened; the console is no file
        carried = self._carried(call, spec, receiver) if spec.arg is not None or spec.kw or spec.value_from else UNKNOWN
        if kind in ("file", "open"):
            self._emit_file(call, api, spec, carried)
        elif kind == "net":
            if isinstance(carried, (str, tuple)) or carried is UNKNOWN:
                host, port, url = host_port(carried)
            else:
                host, port, url = None, None, None
            self.emit(call, NetworkCall, destination=host, port=port, url=url, api=api)
        elif kind == "proc":
            carried = self._as_run(call, carried)
            command, program = _command(carried)
            if command is None or not self._emit_shell(call, api, carried):
                self.emit(call, ProcessSpawn, command=command, program=program, api=api)
        elif kind == "env":
            name = carried if isinstance(carried, str) else None
            self.emit(call, EnvironmentAccess, names=(name,), access=spec.op, api=api)
        elif kind == "db":
            self._emit_sql(call, api, carried, spec)
        elif kind == "dyn":
            named = self._arg(call, spec) if spec.safe_with else None
            if isinstance(named, Mod) and named.name in spec.safe_with:
                return  # yaml.load(f, Loader=yaml.SafeLoader)
            self.emit(call, DynamicCode, kind=spec.op, detail=api, api=api)
        elif kind == "effect":
            self.emit(call, FunctionCall, function=api, effect=spec.op, api=api)
        elif kind == "import":
            if isinstance(carried, str):
                self.emit(call, ModuleImport, module=carried, api=api)
            else:
                self.emit(call, DynamicCode, kind="dynamic_import",
                          detail=f"{api} of a module name computed at run time", api=api)
        elif kind == "getattr" and api != "getattr":  # operator.attrgetter("a", "b.c"), methodcaller("m")
            positional, _, _ = self._args(call)
            names = [self.value(a) for a in (positional[:1] if api.endswith("methodcaller") else positional)]
            for name in names:
                if not (isinstance(name, Const) and isinstance(name.value, str)):
                    self.emit(call, DynamicCode, kind="introspection", detail=f"{api} with a computed name", api=api)
                    return
                risky = [part for part in name.value.split(".") if part in CATALOGUED_ATTRIBUTES or part in
                         _DUNDER_ESCAPES]
                if risky:
                    self.emit(call, DynamicCode, kind="introspection", detail=f"{api} of {risky[0]!r}", api=api)
                    return
        elif kind == "getattr":
            positional, _, _ = self._args(call)
            attr = self.value(positional[1]) if len(positional) >= 2 else UNKNOWN
            if not (isinstance(attr, Const) and isinstance(attr.value, str)):
                self.emit(call, DynamicCode, kind="introspection", detail="getattr with a computed name", api=api)
            elif attr.value in _DUNDER_ESCAPES:
                self.emit(call, DynamicCode, kind="introspection", detail=attr.value, api=api)
            elif id(call) not in self.consumed:  # getattr(os, "remove") handed on, not called here
                self.escape(call, self.value(call))

    def _as_run(self, call: cst.Call, command: Any) -> Any:
        """The command as subprocess runs it: ``executable=`` replaces the program the argument
        vector names, and ``shell=`` (unless literally False) makes a list's first item the command
        line the shell reads."""
        _, keywords, _ = self._args(call)
        if "executable" in keywords:
            executable = self.value(keywords["executable"])
            if not (isinstance(executable, Const) and isinstance(executable.value, str)):
                return UNKNOWN
            command = (executable.value, *command[1:]) if isinstance(command, tuple) and command else UNKNOWN
        if "shell" in keywords and self.value(keywords["shell"]) != Const(False) and isinstance(command, tuple):
            return command[0] if command else UNKNOWN
        return command

    def _emit_shell(self, call: cst.Call, api: str, command: Any) -> bool:
        """A literal command is read as the shell would run it: a command line as the shell reads
        it (``os.system("ls; rm -rf /")`` runs two programs), an argument vector word for word
        (``["bash", "-c", …]`` runs what its string says). Its operations stand for the call's, at
        the call's position. False when there is nothing literal to read."""
        if isinstance(command, bytes):
            command = command.decode("utf-8", "replace")
        if isinstance(command, str) and _PLAIN_COMMAND.fullmatch(command) and "=" not in command.split(None, 1)[0]:
            ir = analyze_argv(command.split(), work_dir=self.work_dir)  # words the shell would not change
        elif isinstance(command, str):
            ir = analyze_shell(command, work_dir=self.work_dir)
        elif isinstance(command, tuple) and command and all(isinstance(w, str) for w in command):
            ir = analyze_argv(command, work_dir=self.work_dir)
        else:
            return False
        if not ir.operations and not ir.unresolved:
            return False
        line, column = self.position(call)
        self.ops.extend(op.model_copy(update={"line": line, "column": column, "api": f"{api} → {op.api}"})
                        for op in ir.operations)
        self.unresolved.extend(u.model_copy(update={"line": line, "column": column}) for u in ir.unresolved)
        return True

    def _emit_file(self, call: cst.Call, api: str, spec: Spec, carried: Any) -> None:
        if isinstance(carried, str) and carried in spec.safe_with:
            return  # sqlite3.connect(":memory:")
        if isinstance(carried, str) and "://" in carried:
            host, port, url = host_port(carried)
            self.emit(call, NetworkCall, destination=host, port=port, url=url, api=api)
            return
        path = normalise_path(carried, self.work_dir) if carried is not UNKNOWN else None
        if spec.kind == "file":
            self.emit(call, FileOperation, operation=spec.op, paths=(path,), api=api)
            return
        positional, keywords, _ = self._args(call)
        offset = 0 if spec.value_from == "self" else 1
        mode_node = keywords.get("mode") or (positional[offset] if len(positional) > offset else None)
        mode = self.value(mode_node) if mode_node is not None else Const("r")
        if isinstance(mode, Const) and isinstance(mode.value, str):
            writes = any(ch in mode.value for ch in "wax+")
            reads = "r" in mode.value or "+" in mode.value or not writes
        else:  # unknown or numeric flags (os.open): assume the worst
            writes, reads = True, True
        if reads:
            self.emit(call, FileOperation, operation="read", paths=(path,), api=api)
        if writes:
            self.emit(call, FileOperation, operation="write", paths=(path,), api=api)

    def _emit_sql(self, call: cst.Call, api: str, carried: Any, spec: Spec) -> None:
        if spec.op == "select_table":
            tables: tuple[str, ...] = (carried,) if isinstance(carried, str) else ()
            self.emit(call, DatabaseOperation, verb="select", tables=tables, api=api)
            return
        if spec.op == "insert":
            self.emit(call, DatabaseOperation, verb="insert", api=api)
            return
        if not isinstance(carried, str):
            self.emit(call, DatabaseOperation, verb=None, api=api)
            return
        statements = sql_operations(carried) or [("other", ())]
        for verb, tables in statements:
            self.emit(call, DatabaseOperation, verb=verb, tables=tables, api=api)

    def escape(self, node: Any, value: Any) -> None:
        """A catalogued API used as a value rather than called here (``map(os.remove, paths)``,
        ``Thread(target=os.system)``, ``{"k": os.remove}``): whatever later calls it is out of sight,
        so it counts as a call with unknown arguments. A plain local alias (``f = os.remove``) is
        reported where it is called instead."""
        value_type = type(value)
        if value_type is Mod:
            api, receiver = value.name, None
        elif value_type is Method and value.type is not None:
            api, receiver = f"{value.type}.{value.name}", value.receiver
        else:
            return
        if id(node) in self.no_escape:
            return
        spec = lookup(api)
        if spec is None and receiver is None and api in MODULE_ESCAPES:  # run(mod=os), {"s": shutil}, [os]
            self.emit(node, DynamicCode, kind="introspection", detail=f"module {api} handed on as a value", api=api)
            return
        if spec is None or spec.kind in ("ctor", "path_join", "pure") or spec.value_from == "handle":
            return
        for one in (spec, *spec.also):
            self._emit_unknown(node, api, one, receiver if one is spec else None)

    def _emit_unknown(self, node: Any, api: str, spec: Spec, receiver: Any) -> None:
        kind = spec.kind
        if kind in ("file", "open"):
            carried = receiver.value if spec.value_from == "self" and isinstance(receiver, Obj) else UNKNOWN
            path = normalise_path(carried, self.work_dir) if carried is not UNKNOWN else None
            for operation in ((spec.op,) if kind == "file" else ("read", "write")):
                self.emit(node, FileOperation, operation=operation, paths=(path,), api=api)
        elif kind == "net":
            self.emit(node, NetworkCall, api=api)
        elif kind == "proc":
            self.emit(node, ProcessSpawn, api=api)
        elif kind == "env":
            self.emit(node, EnvironmentAccess, names=(None,), access=spec.op, api=api)
        elif kind == "db":
            self.emit(node, DatabaseOperation, verb="insert" if spec.op == "insert" else None, api=api)
        elif kind == "dyn":
            self.emit(node, DynamicCode, kind=spec.op, detail=f"{api} passed on as a value", api=api)
        elif kind == "effect":
            self.emit(node, FunctionCall, function=api, effect=spec.op, api=api)
        elif kind in ("import", "getattr"):
            self.emit(node, DynamicCode, kind="dynamic_import" if kind == "import" else "introspection",
                      detail=f"{api} passed on as a value", api=api)

    def alias(self, target: Any, value_node: Any) -> None:
        """``f = os.remove`` binds a local name that is reported where it is called, unless the
        name is read somewhere before (a function defined above it) or lives on a class."""
        if type(value_node) not in _ALIAS_VALUES or type(target) is not cst.Name or target.value in self.unbound \
                or type(self.scopes[-1]) is not dict or self.scopes[-1].get(target.value) is _OUTER:
            return  # x = 3, x = f(y) … can be no API; a class attribute or a global is no local alias
        value = self.value(value_node)
        if type(value) is not Mod and type(value) is not Method:
            return  # no API: nothing to report later, nothing to revoke (bind keeps a module it held)
        name, bound = target.value, self.scopes[-1].get(target.value)
        if bound is not None and bound != value:
            # the name holds two things: a call through it cannot be told apart, so neither is an alias
            earlier = self.aliases.pop(name, None)
            if earlier is not None:
                self.no_escape.discard(id(earlier))
                self.escape(earlier, self.value(earlier))
            return
        branches: tuple[Any, ...] = ()
        if isinstance(value_node, cst.IfExp):
            branches = (value_node.body, value_node.orelse)
        elif isinstance(value_node, cst.BooleanOperation):
            branches = (value_node.left, value_node.right)
        if branches:  # sp = subprocess if ok else None is an alias of subprocess; a choice of two APIs is none
            if len({v for v in map(self.value, branches) if type(v) is Mod or type(v) is Method}) > 1:
                return
            self.no_escape.update(map(id, branches))
        self.no_escape.add(id(value_node))
        self.aliases[name] = value_node

    # -- node handlers --------------------------------------------------------------------

    def on_import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, Mod(dotted))
            else:
                top = dotted.split(".")[0]
                self.bind(top, Mod(top))
            self.emit(alias, ModuleImport, module=dotted)

    def on_import_from(self, node: cst.ImportFrom) -> None:
        base = "." * len(node.relative) + (_dotted(node.module) if node.module is not None else "")
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(base)
            self.emit(node, ModuleImport, module=base)
            return
        for alias in node.names:
            name = _dotted(alias.name)
            full = f"{base}.{name}" if base and not base.endswith(".") else f"{base}{name}"
            local = alias.asname.name.value if alias.asname is not None and isinstance(
                alias.asname.name, cst.Name) else name
            self.bind(local, Mod(full))
            self.emit(alias, ModuleImport, module=full)

    def on_assign_targets(self, targets: list[Any], value_node: Any) -> None:
        value = self.value(value_node) if value_node is not None else UNKNOWN
        for target in targets:
            self._bind_target(target, value)

    def _bind_target(self, target: Any, value: Any) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.value if isinstance(value, Const) and isinstance(value.value, tuple) else ()
            for i, element in enumerate(target.elements):
                sub = Const(items[i]) if i < len(items) and items[i] is not UNKNOWN else UNKNOWN
                self._bind_target(element.value, sub)
        elif isinstance(target, cst.Subscript):
            base = self.value(target.value)
            if isinstance(base, Mod) and base.name == "os.environ":
                self.consumed.add(id(target))
                self.consumed.add(id(target.value))
                self.emit(target, EnvironmentAccess, names=(self._subscript_key(target),), access="write",
                          api="os.environ")

    def _subscript_key(self, node: cst.Subscript) -> str | None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = self.value(node.slice[0].slice.value)
            if isinstance(key, Const) and isinstance(key.value, str):
                return key.value
        return None

    def on_subscript(self, node: cst.Subscript) -> None:
        base = self.value(node.value)
        if isinstance(base, Mod) and base.name == "sys.modules":  # even as a callee's base
            key = self._subscript_key(node)
            if key is not None:  # sys.modules['os'] is a use of os
                self.emit(node, ModuleImport, module=key, api="sys.modules")
            else:
                self.emit(node, DynamicCode, kind="introspection", detail="sys.modules with a computed name",
                          api="sys.modules")
        elif id(node) not in self.consumed and isinstance(base, Mod) and base.name in ("os.environ", "os.environb"):
            self.consumed.add(id(node.value))
            self.emit(node, EnvironmentAccess, names=(self._subscript_key(node),), access="read", api=base.name)

    def on_attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr in _DUNDER_ESCAPES:
            self.emit(node, DynamicCode, kind="introspection", detail=attr, api=attr)
            return
        value = self.value(node)
        base = self.value(node.value)
        if isinstance(value, Mod) and isinstance(base, Mod) and not value.name.startswith(base.name + "."):
            self.emit(node, ModuleImport, module=value.name, api=f"{base.name}.{attr}")
        self._bare_environ(node, value)
        self.escape(node, value)

    def on_name(self, node: cst.Name) -> None:
        if node.value in _DUNDER_ESCAPES:
            self.emit(node, DynamicCode, kind="introspection", detail=node.value, api=node.value)
            return
        value = self.lookup_name(node.value)
        self._bare_environ(node, value)
        self.escape(node, value)

    def _bare_environ(self, node: Any, value: Any) -> None:
        if isinstance(value, Mod) and value.name == "os.environ" and id(node) not in self.consumed:
            self.emit(node, EnvironmentAccess, names=(None,), access="read", api="os.environ")


def _on_statement(w: _Walker, node: cst.SimpleStatementLine, stack: list[Any]) -> None:
    if node.body:
        w._statement = node.body[0]


def _on_call(w: _Walker, node: cst.Call, stack: list[Any]) -> None:
    func = node.func
    w.consumed.add(id(func))  # the callee itself is not a bare use (os.environ.get, …)
    if isinstance(func, cst.Attribute):
        w.consumed.add(id(func.value))
    w.on_call(node)


def _on_attribute(w: _Walker, node: cst.Attribute, stack: list[Any]) -> None:
    w.consumed.add(id(node.attr))
    attr = node.attr.value
    if attr[:2] == "__" and attr not in _HARMLESS_ATTRIBUTES:  # a function's attributes are dunders
        base = w.value(node.value)
        if type(base) is Mod and lookup(base.name) is not None:  # subprocess.run.__get__(…): the API escapes
            w.escape(node.value, base)
    if id(node) in w.consumed:
        # still mark the base consumed, and report dunders / module escapes
        w.consumed.add(id(node.value))
        if node.attr.value in _DUNDER_ESCAPES:
            w.emit(node, DynamicCode, kind="introspection", detail=node.attr.value, api=node.attr.value)
        else:
            value, base = w.value(node), w.value(node.value)
            if isinstance(value, Mod) and isinstance(base, Mod) and not value.name.startswith(base.name + "."):
                w.emit(node, ModuleImport, module=value.name, api=f"{base.name}.{node.attr.value}")
        return
    w.consumed.add(id(node.value))
    w.on_attribute(node)


def _on_name(w: _Walker, node: cst.Name, stack: list[Any]) -> None:
    if id(node) not in w.consumed:
        w.on_name(node)


def _on_assign(w: _Walker, node: cst.Assign, stack: list[Any]) -> None:
    for t in node.targets:
        _consume_targets(w, t.target)
    if len(node.targets) == 1:
        w.alias(node.targets[0].target, node.value)
    w.on_assign_targets([t.target for t in node.targets], node.value)


def _on_ann_assign(w: _Walker, node: cst.AnnAssign, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    if node.value is not None:
        w.alias(node.target, node.value)
    w.on_assign_targets([node.target], node.value)


def _on_annotation(w: _Walker, node: cst.Annotation, stack: list[Any]) -> None:
    """``x: subprocess.Popen`` names a type; it calls nothing (a call inside still counts)."""
    pending = [node.annotation]
    while pending:
        item = pending.pop()
        if isinstance(item, (cst.Name, cst.Attribute)):
            w.no_escape.add(id(item))
        elif isinstance(item, cst.Subscript):
            pending.append(item.value)
            pending.extend(e.slice.value for e in item.slice if isinstance(e.slice, cst.Index))
        elif isinstance(item, cst.BinaryOperation):
            pending.extend((item.left, item.right))
        elif isinstance(item, (cst.Tuple, cst.List)):
            pending.extend(e.value for e in item.elements)


def _on_aug_assign(w: _Walker, node: cst.AugAssign, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    w._bind_target(node.target, UNKNOWN)


def _on_named_expr(w: _Walker, node: cst.NamedExpr, stack: list[Any]) -> None:
    w.consumed.add(id(node.target))  # not an alias: (f := os.system) is also a value handed on
    w.on_assign_targets([node.target], node.value)


def _consume_targets(w: _Walker, target: Any) -> None:
    if isinstance(target, cst.Name):
        w.consumed.add(id(target))
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _consume_targets(w, element.value)


def _on_with(w: _Walker, node: cst.With, stack: list[Any]) -> None:
    for item in node.items:
        if item.asname is not None:
            _consume_targets(w, item.asname.name)
            w._bind_target(item.asname.name, w.value(item.item))


def _on_for(w: _Walker, node: cst.For, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    iterated = w.value(node.iter)
    element = Obj("psutil.Process") if iterated is UNKNOWN and _is_call_to(w, node.iter, "psutil.process_iter") \
        else UNKNOWN
    w._bind_target(node.target, element)


def _is_call_to(w: _Walker, node: Any, qualified: str) -> bool:
    return isinstance(node, cst.Call) and w._callee(node)[0] == qualified


def _on_function(w: _Walker, node: cst.FunctionDef, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))
    w.bind(node.name.value, UNKNOWN)
    w._push_scope(_param_names(node.params), stack)


def _on_lambda(w: _Walker, node: cst.Lambda, stack: list[Any]) -> None:
    w._push_scope(_param_names(node.params), stack)


def _on_class(w: _Walker, node: cst.ClassDef, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))
    w.bind(node.name.value, UNKNOWN)
    w._push_scope(iter(()), stack, is_class=True)


def _param_names(params: cst.Parameters) -> Iterator[str]:
    for group in (params.posonly_params, params.params, params.kwonly_params):
        for p in group:
            yield p.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def _on_param(w: _Walker, node: cst.Param, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))


def _on_import(w: _Walker, node: cst.Import, stack: list[Any]) -> Any:
    w.on_import(node)
    return _SKIP_CHILDREN


def _on_import_from(w: _Walker, node: cst.ImportFrom, stack: list[Any]) -> Any:
    w.on_import_from(node)
    return _SKIP_CHILDREN


def _on_subscript(w: _Walker, node: cst.Subscript, stack: list[Any]) -> None:
    w.on_subscript(node)


def _on_comp_for(w: _Walker, node: cst.CompFor, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    w._bind_target(node.target, UNKNOWN)


def _on_except(w: _Walker, node: cst.ExceptHandler, stack: list[Any]) -> None:
    if node.name is not None:
        _consume_targets(w, node.name.name)


def _on_global(w: _Walker, node: Any, stack: list[Any]) -> None:
    for item in node.names:
        w.consumed.add(id(item.name))
        if len(w.scopes) > 1:
            w.scopes[-1][item.name.value] = _OUTER  # bindings of this name go to the outer scope


class _SkipChildren:
    pass


_SKIP_CHILDREN = _SkipChildren()

def _operator(node: Any) -> str:
    return type(node.operator).__name__


def _import_names(node: Any) -> str:
    names = node.names if not isinstance(node.names, cst.ImportStar) else ()
    aliases = " ".join(f"{_dotted(a.name)}>{_dotted(a.asname.name) if a.asname else ''}" for a in names)
    if isinstance(node, cst.ImportFrom):
        module = _dotted(node.module) if node.module is not None else ""
        return f"{len(node.relative)}{module}:{'*' if isinstance(node.names, cst.ImportStar) else aliases}"
    return aliases


def _literal_text(node: cst.SimpleString) -> str:
    """A string literal as its value, so quote style and escapes do not change the signature; tagged
    by type (``"b'A'"`` and ``b'A'`` differ) and kept clear of the token separator."""
    token = node.value
    quote = token[0]
    if (quote == "'" or quote == '"') and "\\" not in token and "\x1f" not in token:  # no prefix, no escapes
        width = 3 if token.startswith(quote * 3) and len(token) >= 6 else 1
        return "s" + token[width:-width]
    value = _string_value(token)
    if type(value) is str and "\x1f" not in value:
        return "s" + value
    return "r" + token if value is UNKNOWN else "v" + repr(value)


# What each node contributes to the canonical form beyond its type (code_signature).
_DETAIL: dict[type, Any] = {
    cst.Name: lambda n: n.value,
    cst.SimpleString: _literal_text,
    cst.Integer: lambda n: n.value,
    cst.Float: lambda n: n.value,
    cst.Imaginary: lambda n: n.value,
    cst.FormattedStringText: lambda n: n.value,
    cst.BinaryOperation: _operator,
    cst.BooleanOperation: _operator,
    cst.UnaryOperation: _operator,
    cst.ComparisonTarget: _operator,
    cst.AugAssign: _operator,
    cst.Arg: lambda n: n.star,
    cst.Param: lambda n: n.star if isinstance(n.star, str) else "",
    cst.Import: _import_names,
    cst.ImportFrom: _import_names,
    cst.FunctionDef: lambda n: "async" if n.asynchronous else "",
    cst.For: lambda n: "async" if n.asynchronous else "",
    cst.With: lambda n: "async" if n.asynchronous else "",
    cst.CompFor: lambda n: "async" if n.asynchronous else "",
}

_HANDLERS: dict[type, Any] = {
    cst.SimpleStatementLine: _on_statement,
    cst.Call: _on_call,
    cst.Attribute: _on_attribute,
    cst.Name: _on_name,
    cst.Assign: _on_assign,
    cst.AnnAssign: _on_ann_assign,
    cst.AugAssign: _on_aug_assign,
    cst.NamedExpr: _on_named_expr,
    cst.With: _on_with,
    cst.For: _on_for,
    cst.FunctionDef: _on_function,
    cst.Lambda: _on_lambda,
    cst.ClassDef: _on_class,
    cst.Param: _on_param,
    cst.Import: _on_import,
    cst.ImportFrom: _on_import_from,
    cst.Subscript: _on_subscript,
    cst.CompFor: _on_comp_for,
    cst.ExceptHandler: _on_except,
    cst.Global: _on_global,
    cst.Annotation: _on_annotation,
    cst.Nonlocal: _on_global,
}


# A command line the shell would only split into words: no quoting, expansion, redirection,
# operators or keywords (bashlex costs a third of a whole snippet's analysis; this skips it).
_PLAIN_COMMAND = re.compile(r"[ \t]*(?!(?:time|if|for|while|until|case|select|function|coproc)(?:[ \t]|$))"
                            r"[A-Za-z0-9_./:=,@%+-]+(?:[ \t]+[A-Za-z0-9_./:=,@%+-]+)*[ \t]*")
# Attributes of an API that do not hand it on (``__call__`` resolves to the API itself).
_HARMLESS_ATTRIBUTES = frozenset({"__call__", "__name__", "__doc__", "__module__", "__qualname__", "__annotations__"})
# The value nodes an alias can hold an API through (f = os.remove, getattr(…), a if c else b, …).
_ALIAS_VALUES = frozenset({cst.Name, cst.Attribute, cst.IfExp, cst.BooleanOperation, cst.Call, cst.NamedExpr,
                           cst.Subscript})
_STANDARD_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})
_IMPORT_KEYWORD = re.compile(r"\bimport\b")


def _plain_text(node: Any) -> str | None:
    """How a name, a dotted name or ``callee(`` is written when written plainly
    (no parentheses, no spaces around dots); None for anything else."""
    node_type = type(node)
    if node_type is cst.Name:
        return str(node.value)
    if node_type is cst.Attribute:
        if node.lpar:
            return None
        base = _plain_text(node.value)
        return f"{base}.{node.attr.value}" if base else None
    if node_type is cst.Call:
        if type(node.whitespace_after_func) is not cst.SimpleWhitespace or node.whitespace_after_func.value:
            return None
        callee = _plain_text(node.func)
        return callee + "(" if callee else None
    return None  # an import alias is not here: `from socket import socket` names it twice


def _dotted(node: Any) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


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


def _fold_str_method(name: str, receiver: Any, args: list[Any]) -> Any:
    """Fold the few str/bytes methods that build names: join, format, replace, decode, …"""
    try:
        if name == "join" and isinstance(receiver, (str, bytes)) and len(args) == 1:
            items = args[0].value if isinstance(args[0], Const) else None
            if isinstance(items, tuple) and all(isinstance(i, type(receiver)) for i in items):
                return Const(receiver.join(items))
            return UNKNOWN
        consts = [a.value for a in args if isinstance(a, Const)]
        if len(consts) != len(args):
            return UNKNOWN
        if name == "format" and isinstance(receiver, str):
            return Const(receiver.format(*consts))
        if name in ("replace", "strip", "lstrip", "rstrip", "lower", "upper", "decode", "encode", "removeprefix",
                    "removesuffix", "title", "capitalize", "swapcase"):
            return Const(getattr(receiver, name)(*consts))
        if name == "__getitem__":
            return UNKNOWN
    except Exception:
        return UNKNOWN
    return UNKNOWN


def _string_value(token: str) -> Any:
    """A string literal's value; plain literals without escapes skip literal_eval (a compile)."""
    quote = token[-1]
    prefix = token[: token.index(quote)].lower()
    if "\\" not in token and prefix in ("", "u"):
        width = 3 if token[len(prefix):].startswith(quote * 3) else 1
        return token[len(prefix) + width: -width]
    try:
        import ast as _ast

        return _ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN
