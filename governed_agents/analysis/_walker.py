"""The walk: one pre-order pass over libcst's dataclass fields, evaluating what it must.

The walk is a plain stack traversal (measured at about a fifth of the cost of ``CSTVisitor``
dispatch, and far below ScopeProvider/QualifiedNameProvider). Node-type handlers live in
``_nodes``; names in ``_scopes``; folding in ``_fold``; positions in ``_positions``; operations
come out through the kind → emitter table of ``_emit``; the APIs no single argument describes
through ``_special``. What stays here: the value of an expression, what a call invokes, and
APIs used as values (aliases and escapes).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from governed_agents.analysis._build import construct
from governed_agents.analysis._catalogue import (
    DUCK_METHODS,
    MODULE_ESCAPES,
    OWN_SUBMODULES,
    UNKNOWN_SPEC,
    Spec,
    lookup,
    module_attribute,
    unbound_method,
    unjudged_module,
)
from governed_agents.analysis._emit import INERT_KINDS, emit_call, emit_unknown
from governed_agents.analysis._flow import Mark
from governed_agents.analysis._fold import (
    concatenated_value,
    fold_binary,
    fold_builtin,
    fold_str_method,
    number_value,
    string_value,
)
from governed_agents.analysis._nodes import KINDS, SKIP_CHILDREN, on_name
from governed_agents.analysis._positions import Locator, dotted
from governed_agents.analysis._scopes import LEAVE, OUTER, Scopes
from governed_agents.analysis._special import (
    BARE_HOOKS,
    CALL_HOOKS,
    PACKAGE_HOOKS,
    RESULT_HOOKS,
    SUBSCRIPT_VALUES,
)
from governed_agents.analysis._values import UNKNOWN, Const, Method, Mod, Obj, normalise_path
from governed_agents.ir import DynamicCode, FileOperation, FunctionCall, ModuleImport, Unresolved

__all__ = ["Walker"]

_CONSTANT_NAMES = {"True": Const(True), "False": Const(False), "None": Const(None),
                   "__builtins__": Mod("builtins")}  # __builtins__.open is open
# The value nodes an alias can hold an API through (f = os.remove, getattr(…), a if c else b, …).
_ALIAS_VALUES = frozenset({cst.Name, cst.Attribute, cst.IfExp, cst.BooleanOperation, cst.Call, cst.NamedExpr,
                           cst.Subscript})


class Walker:
    def __init__(self, module: cst.Module, source: str, work_dir: str | None) -> None:
        self.module = module
        self.work_dir = work_dir
        self.locator = Locator(module, source)
        self.scopes = Scopes()
        self.ops: list[Any] = []
        self.tokens: list[str] = []  # the canonical form: node types and values, no layout or comments
        self.unresolved: list[Unresolved] = []
        self.cache: dict[int, Any] = {}
        self.consumed: set[int] = set()  # nodes already accounted for (assignment targets, call funcs)
        self.no_escape: set[int] = set()  # API references that go nowhere: plain local aliases, annotations
        self.aliases: dict[str, Any] = {}  # name → the value node of its alias binding (f = os.remove)
        self.forward: set[int] = set()  # text already judged as a type (_forward)
        self._args: dict[int, tuple[list[Any], dict[str, Any], bool]] = {}
        self.bind = self.scopes.bind  # bound once: the walk calls them for every name
        self.lookup_name = self.scopes.lookup

    # -- traversal -------------------------------------------------------------------------

    def prebind_imports(self) -> None:
        """Module-level imports bind for the whole module: a function body may use a name that
        is imported below it. Operations are emitted later, in source order, by the walk.

        When every module-level import comes before any other statement (most snippets), nothing is
        walked before them: the walk binds the same names, in the same order, before anything can
        read one (an import reads no name), so binding them here too would only be done twice."""
        imports: list[Any] = []
        prefix = True  # every statement so far is an import
        needed = False  # an import follows some other statement
        for statement in self.module.body:
            if type(statement) is not cst.SimpleStatementLine:  # type(): isinstance on libcst's ABCs is slow
                prefix = False
                continue
            small: Any
            for small in statement.body:
                small_type = type(small)
                if small_type is cst.Import or small_type is cst.ImportFrom:
                    imports.append(small)
                    needed = needed or not prefix
                else:
                    prefix = False
        if not needed:
            return
        for small in imports:
            if type(small) is cst.Import:
                self.bind_import(small)
            elif type(small.names) is not cst.ImportStar:
                self.bind_import_from(small)

    def walk(self) -> None:
        self.prebind_imports()
        stack: list[Any] = [self.module]
        kinds = KINDS  # every node type: a non-node (None, a sentinel, a sequence, LEAVE) is not in it
        push, extend, pop = stack.append, stack.extend, stack.pop
        token = self.tokens.append
        pop_scope = self.scopes.pop
        consumed = self.consumed
        name_type = cst.Name
        while stack:
            node = pop()
            node_type = type(node)
            if node_type is name_type:  # a quarter of all nodes: no children, and most are consumed
                token("Name")
                token(node.value)
                if id(node) not in consumed:
                    on_name(self, node)
                continue
            kind = kinds.get(node_type)
            if kind is None:  # the end of a scope, a mark, or an item of a sequence that is no node
                if node is LEAVE:
                    pop_scope()
                elif node_type is Mark:
                    node.fire()
                continue
            name, detail, handler, getter = kind
            token(name)
            if detail is not None:
                token(detail(node))
            if handler is not None and handler(self, node, stack) is SKIP_CHILDREN:
                continue
            for value in getter(node):
                value_type = type(value)
                if value_type in kinds:
                    push(value)
                elif value_type is tuple or value_type is list:
                    extend(value[::-1])  # each item is checked when it comes off the stack

    def push_scope(self, names: Any, stack: list[Any], *, is_class: bool = False) -> None:
        # The scope is popped when the marker, pushed below the children, comes off the stack.
        stack.append(LEAVE)
        self.scopes.push(names, is_class=is_class)

    # -- values ----------------------------------------------------------------------------

    def value(self, node: Any) -> Any:
        key = id(node)
        cache = self.cache
        if key in cache:
            return cache[key]
        result = cache[key] = self._value(node)
        return result

    def _value(self, node: Any) -> Any:
        node_type = type(node)
        if node_type is cst.Name:
            constant = _CONSTANT_NAMES.get(node.value)
            return constant if constant is not None else self.lookup_name(node.value)
        if node_type is cst.SimpleString:
            value = string_value(node.value)
            return UNKNOWN if value is UNKNOWN else Const(value)
        if node_type is cst.Integer or node_type is cst.Float:
            value = number_value(node)
            return UNKNOWN if value is UNKNOWN else Const(value)
        if node_type is cst.ConcatenatedString:
            value = concatenated_value(node)
            return UNKNOWN if value is UNKNOWN else Const(value)
        if node_type is cst.FormattedString:
            return self._fstring(node)
        if node_type is cst.Attribute:
            return self.attribute(self.value(node.value), node.attr.value)
        if node_type is cst.Call:
            return self._call_result(node)
        if node_type is cst.BinaryOperation:
            return fold_binary(node.operator, self.value(node.left), self.value(node.right))
        if node_type is cst.Tuple or node_type is cst.List:
            items = []
            for element in node.elements:
                if type(element) is cst.StarredElement:
                    return UNKNOWN
                v = self.value(element.value)
                items.append(v.value if isinstance(v, Const) else UNKNOWN)
            return Const(tuple(items))
        if node_type is cst.IfExp or node_type is cst.BooleanOperation:  # `subprocess if ok else None`
            either = (self.value(node.body), self.value(node.orelse)) if node_type is cst.IfExp else (
                self.value(node.left), self.value(node.right))
            return next((v for v in either if type(v) is Mod), either[0] if either[0] == either[1] else UNKNOWN)
        if node_type is cst.Await:
            return self.value(node.expression)
        if node_type is cst.NamedExpr:
            return self.value(node.value)
        if node_type is cst.Subscript:
            base = self.value(node.value)
            if type(base) is Mod:
                computed = SUBSCRIPT_VALUES.get(base.name)
                if computed is not None:
                    return computed(self, node)
        return UNKNOWN

    def attribute(self, base: Any, attr: str) -> Any:
        if attr == "__call__" and isinstance(base, (Mod, Method)):
            return base  # os.system.__call__ is os.system
        if isinstance(base, Mod):
            if base.name == "builtins":
                return Mod(attr)  # builtins.exec is exec
            if attr == "ctypeslib":
                return Mod("numpy.ctypeslib")
            qualified = f"{base.name}.{attr}"
            target = module_attribute(qualified)
            if target is not None:
                return Mod(target)  # shutil.os is os
            own = lookup(qualified)
            own = None if own is UNKNOWN_SPEC else own  # somelib.os: os, whether or not somelib was judged
            if attr in MODULE_ESCAPES and base.name != attr and own is None and qualified not in OWN_SUBMODULES:
                return Mod(attr)  # np.os, pd.io.common.os: the module itself
            private = attr.lstrip("_")
            if attr[0] == "_" and private in MODULE_ESCAPES and own is None:
                return Mod(private)  # somelib._os, somelib.__subprocess: `import os as _os` in it
            return Mod(qualified)
        if isinstance(base, Obj):
            return Method(base.type, attr, base)
        if isinstance(base, Const):
            return Method(f"builtins.{type(base.value).__name__}", attr, base)
        return Method(None, attr, base)

    def _fstring(self, node: cst.FormattedString) -> Any:
        out = []
        part: Any
        for part in node.parts:
            part_type = type(part)  # not isinstance: on libcst's ABCs a miss is slow
            if part_type is cst.FormattedStringText:
                out.append(part.value)
                continue
            if part_type is not cst.FormattedStringExpression or part.format_spec or part.conversion:
                return UNKNOWN
            v = self.value(part.expression)
            if not isinstance(v, Const) or not isinstance(v.value, (str, int, float)):
                return UNKNOWN
            out.append(str(v.value))
        return Const("".join(out))

    def subscript_key(self, node: cst.Subscript) -> str | None:
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index:
            key = self.value(node.slice[0].slice.value)
            if isinstance(key, Const) and isinstance(key.value, str):
                return key.value
        return None

    # -- calls -----------------------------------------------------------------------------

    def args(self, call: cst.Call) -> tuple[list[Any], dict[str, Any], bool]:
        """(positional argument nodes, keyword argument nodes, whether any is starred), once per call."""
        known = self._args.get(id(call))
        if known is not None:
            return known
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
        known = self._args[id(call)] = (positional, keywords, starred)
        return known

    def arg(self, call: cst.Call, spec: Spec) -> Any:
        """The value of the argument a spec names (a node's value, or UNKNOWN)."""
        positional, keywords, _ = self.args(call)
        if spec.kw is not None and spec.kw in keywords:
            return self.value(keywords[spec.kw])
        if spec.arg is not None and spec.arg < len(positional):
            return self.value(positional[spec.arg])
        return Const(spec.default) if spec.default is not None else UNKNOWN

    def callee(self, call: cst.Call) -> tuple[str | None, Spec | None, Any]:
        """(qualified name, spec, receiver) of what a call invokes."""
        func = self.value(call.func)
        if isinstance(func, Mod):
            return func.name, lookup(func.name) or unbound_method(func.name), None
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
        qualified, spec, receiver = self.callee(call)
        if isinstance(func, Method) and isinstance(func.receiver, Const):
            return fold_str_method(func.name, func.receiver.value, [self.value(a.value) for a in call.args])
        if (qualified == "chr" or qualified == "str") and len(call.args) == 1:
            return fold_builtin(qualified, self.value(call.args[0].value))
        if spec is None:
            return UNKNOWN
        if spec.kind == "import":
            name = self.arg(call, spec)
            return Mod(name.value) if isinstance(name, Const) and isinstance(name.value, str) else UNKNOWN
        if spec.kind == "getattr":
            positional, _, _ = self.args(call)
            if len(positional) >= 2:
                attr = self.value(positional[1])
                if isinstance(attr, Const) and isinstance(attr.value, str):
                    return self.attribute(self.value(positional[0]), attr.value)
            return UNKNOWN
        if spec.kind == "path_join":
            parts = [self.value(a.value) for a in call.args]
            if parts and all(isinstance(p, Const) and isinstance(p.value, str) for p in parts):
                import posixpath

                if qualified == "os.path.expanduser" and parts[0].value.startswith("~"):
                    return UNKNOWN
                return Const(posixpath.join(*(p.value for p in parts)))
            return UNKNOWN
        computed = RESULT_HOOKS.get(qualified or "")
        if computed is not None:
            return computed(self, call, receiver)
        if spec.returns is not None:
            carried = self.arg(call, spec) if spec.arg is not None or spec.kw else UNKNOWN
            if spec.value_from == "self" and isinstance(receiver, Obj):
                carried = receiver.value
            inner = carried.value if isinstance(carried, Const) else (
                carried.value if isinstance(carried, Obj) else UNKNOWN)
            return Obj(spec.returns, inner)
        return UNKNOWN

    # -- emission --------------------------------------------------------------------------

    def emit(self, node: Any, op_type: Any, **fields: Any) -> None:
        line, column = self.locator.position(node)
        fields["line"], fields["column"] = line, column
        self.ops.append(construct(op_type, fields))  # built here with the right types: no validation

    def emit_files(self, node: Any, uses: Any, api: str) -> None:
        """(path or None, operations) pairs (``_sql.FileUse``): each path made canonical, each
        operation one FileOperation."""
        for path, operations in uses:
            where = normalise_path(path, self.work_dir) if path is not None else None
            for operation in operations:
                self.emit(node, FileOperation, operation=operation, paths=(where,), api=api)

    def on_call(self, call: cst.Call) -> None:
        qualified, spec, receiver = self.callee(call)
        if spec is None:
            if qualified is not None:  # judged pure: its package may still read an argument as code
                package = PACKAGE_HOOKS.get(qualified.partition(".")[0])
                if package is not None:
                    package(self, call, qualified)
            return
        api = qualified or "?"
        emit_call(self, call, api, spec, receiver)
        for extra in spec.also:
            emit_call(self, call, api, extra, receiver)
        hook = CALL_HOOKS.get(api)
        if hook is not None:
            hook(self, call, api)

    def escape(self, node: Any, value: Any) -> None:
        """A catalogued API used as a value rather than called here (``map(os.remove, paths)``,
        ``Thread(target=os.system)``, ``{"k": os.remove}``): whatever later calls it is out of sight,
        so it counts as a call with unknown arguments. A plain local alias (``f = os.remove``) is
        reported where it is called instead."""
        value_type = type(value)
        if value_type is Mod:
            api, receiver = value.name, None
            whole = BARE_HOOKS.get(api)
            if whole is not None:  # dict(os.environ), env = os.environ: the object used whole
                whole(self, node, api)
                return
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
        if spec is None or spec.kind in INERT_KINDS or spec.value_from == "handle":
            return
        for one in (spec, *spec.also):
            emit_unknown(self, node, api, one, receiver if one is spec else None)

    def alias(self, target: Any, value_node: Any) -> None:
        """``f = os.remove`` binds a local name that is reported where it is called, unless the
        name is read somewhere before (a function defined above it) or lives on a class."""
        innermost = self.scopes.innermost
        if type(value_node) not in _ALIAS_VALUES or type(target) is not cst.Name \
                or target.value in self.scopes.unbound or type(innermost) is not dict \
                or innermost.get(target.value) is OUTER:
            return  # x = 3, x = f(y) … can be no API; a class attribute or a global is no local alias
        value = self.value(value_node)
        if type(value) is not Mod and type(value) is not Method:
            return  # no API: nothing to report later, nothing to revoke (bind keeps a module it held)
        name, bound = target.value, innermost.get(target.value)
        if bound is not None and bound != value:
            # the name holds two things: a call through it cannot be told apart, so neither is an alias
            earlier = self.aliases.pop(name, None)
            if earlier is not None:
                self.no_escape.discard(id(earlier))
                self.escape(earlier, self.value(earlier))
            return
        branches: tuple[Any, ...] = ()
        if type(value_node) is cst.IfExp:
            branches = (value_node.body, value_node.orelse)
        elif type(value_node) is cst.BooleanOperation:
            branches = (value_node.left, value_node.right)
        if branches:  # sp = subprocess if ok else None is an alias of subprocess; a choice of two APIs is none
            if len({v for v in map(self.value, branches) if type(v) is Mod or type(v) is Method}) > 1:
                return
            self.no_escape.update(map(id, branches))
        self.no_escape.add(id(value_node))
        self.aliases[name] = value_node

    # -- imports ---------------------------------------------------------------------------

    def bind_import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                self.bind(alias.asname.name.value, Mod(name))
            else:
                top = name.split(".")[0]
                self.bind(top, Mod(top))

    def bind_import_from(self, node: cst.ImportFrom) -> list[tuple[cst.ImportAlias, str]]:
        base = "." * len(node.relative) + (dotted(node.module) if node.module is not None else "")
        bound = []
        names: Any = node.names if type(node.names) is not cst.ImportStar else ()  # type(): libcst's ABCs
        for alias in names:
            name = dotted(alias.name)
            full = f"{base}.{name}" if base and not base.endswith(".") else f"{base}{name}"
            local = alias.asname.name.value if alias.asname is not None and type(
                alias.asname.name) is cst.Name else name
            self.bind(local, Mod(full))
            bound.append((alias, full))
        return bound

    def on_import(self, node: cst.Import) -> None:
        self.bind_import(node)
        for alias in node.names:
            self.imports(alias, dotted(alias.name))

    def on_import_from(self, node: cst.ImportFrom) -> None:
        if type(node.names) is cst.ImportStar:
            base = "." * len(node.relative) + (dotted(node.module) if node.module is not None else "")
            self.scopes.star_modules.append(base)
            self.imports(node, base)
            return
        module = dotted(node.module) if node.module is not None and not node.relative else None
        for alias, full in self.bind_import_from(node):
            self.imports(alias, full, module)

    def imports(self, node: Any, module: str, parent: str | None = None, api: str | None = None) -> None:
        """``module`` is imported at ``node`` (a statement, or ``importlib.import_module("m")``)."""
        self.emit(node, ModuleImport, module=module, api=api)
        # importing runs the module's code: a standard-library module nobody judged is an unknown operation
        # (from m import name: m is imported whether or not name is a module of its own)
        name = parent if parent is not None and unjudged_module(parent) else (
            module if unjudged_module(module) else None)
        if name is not None:
            self.emit(node, FunctionCall, function=f"import {name}", effect="unknown", api=name)
