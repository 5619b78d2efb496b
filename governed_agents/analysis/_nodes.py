"""Per node type: what it adds to the canonical form (``code_signature``), its handler in the walk,
and which of its fields may hold nodes. One lookup per node gives all three.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Optional, get_origin

import libcst as cst

from governed_agents.analysis._catalogue import lookup
from governed_agents.analysis._emit import DUNDER_ESCAPES
from governed_agents.analysis._flow import Mark, conditional, loop
from governed_agents.analysis._fold import string_value
from governed_agents.analysis._forward import forward_reference, generic_arguments, value_arguments
from governed_agents.analysis._positions import dotted
from governed_agents.analysis._special import ITERATION_VALUES, STORE_HOOKS, SUBSCRIPT_HOOKS
from governed_agents.analysis._values import UNKNOWN, Choice, Const, Mod
from governed_agents.ir import DynamicCode, ModuleImport

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["KINDS", "NODE_TYPES", "SKIP_CHILDREN", "on_name"]

# Fields that never hold a node that matters: whitespace, punctuation, formatting.
_SKIP_FIELD = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "dot", "equal", "newline",
               "leading_lines", "lines_after", "header", "footer", "lbracket", "rbracket", "lbrace",
               "rbrace", "operator", "star", "arrow", "asynchronous")
# Attributes of an API that do not hand it on (``__call__`` resolves to the API itself).
# Field types that never hold a node (a name's text, a string's quote, an indent flag).
_TEXT_TYPES: tuple[Any, ...] = (str, bool, Optional[str])  # noqa: UP045 (the annotation libcst declares)
_HARMLESS_ATTRIBUTES = frozenset({"__call__", "__name__", "__doc__", "__module__", "__qualname__", "__annotations__"})


class _SkipChildren:
    pass


SKIP_CHILDREN = _SkipChildren()


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in base.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


# Every concrete libcst node class: a set lookup, since isinstance on libcst's ABCs is slow.
NODE_TYPES: frozenset[type] = frozenset(_subclasses(cst.CSTNode))
_CHILD_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_CHILD_NAMES: dict[type, tuple[str, ...]] = {}
# Filled for every node type once the tables below exist (the end of this module).
KINDS: dict[type, tuple[str, Any, Any, Callable[[Any], tuple[Any, ...]]]] = {}


def _no_fields(node: Any) -> tuple[Any, ...]:
    return ()


def _child_names(node_type: type) -> tuple[str, ...]:
    """A node type's fields that may hold nodes, last field first (the walk pushes them on a stack).
    ``dataclasses.fields``, not ``__dataclass_fields__``: that also lists the ``__slots__`` class
    variable, whose names the walk would push as items."""
    names = _CHILD_NAMES.get(node_type)
    if names is None:
        names = _CHILD_NAMES[node_type] = tuple(
            f.name for f in dataclasses.fields(node_type)
            if not any(s in f.name for s in _SKIP_FIELD) and f.type not in _TEXT_TYPES
            and get_origin(f.type) is not Literal
        )[::-1]
    return names


def _child_fields(node_type: type) -> Callable[[Any], tuple[Any, ...]]:
    """For a node type, one C call that returns its fields that may hold nodes, last field first
    (the walk pushes them on a stack)."""
    getter = _CHILD_FIELDS.get(node_type)
    if getter is None:
        names = _child_names(node_type)
        if not names:
            getter = _no_fields
        elif len(names) == 1:
            one = operator.attrgetter(names[0])
            getter = lambda node: (one(node),)  # noqa: E731
        else:
            getter = operator.attrgetter(*names)
        _CHILD_FIELDS[node_type] = getter
    return getter


def _kind(node_type: type) -> tuple[str, Any, Any, Callable[[Any], tuple[Any, ...]]]:
    """Everything the walk needs about a node type, in one lookup: its name (for the signature),
    the detail it adds, its handler and its child fields."""
    return node_type.__name__, _DETAIL.get(node_type), _HANDLERS.get(node_type), _child_fields(node_type)


# -- handlers ----------------------------------------------------------------------------------

def _on_statement(w: Walker, node: cst.SimpleStatementLine, stack: list[Any]) -> None:
    if node.body:
        w.locator.statement = node.body[0]


def _on_call(w: Walker, node: cst.Call, stack: list[Any]) -> None:
    func = node.func
    consumed = w.consumed
    consumed.add(id(func))  # the callee itself is not a bare use (os.environ.get, …)
    for arg in node.args:
        if arg.keyword is not None:  # f(open=1), sns.pairplot(vars=[…]): a name, not the builtin handed on
            consumed.add(id(arg.keyword))
    if type(func) is cst.Attribute and not (type(func.value) is cst.Name and func.value.value in DUNDER_ESCAPES):
        w.consumed.add(id(func.value))  # but __loader__.load_module(…) is a use of __loader__
    w.on_call(node)
    if type(func) is cst.Attribute and type(func.value) is cst.Name and func.attr.value in _GROWS \
            and type(w.value(func.value)) is Const:
        _forget(w, func.value.value)  # paths.append("/etc/passwd"): the literal is not all it holds
    if type(func) is not cst.Name or func.value not in _READS_ONLY:
        for arg in node.args:  # add(paths): the callee may grow the list it was handed
            if type(arg.value) is cst.Name and _literal_container(w.value(arg.value)):
                _forget(w, arg.value.value)


# Builtins that read a container handed to them and never change it.
_READS_ONLY = frozenset({"len", "print", "sorted", "list", "tuple", "set", "frozenset", "dict", "enumerate", "zip",
                         "max", "min", "sum", "any", "all", "str", "repr", "iter", "reversed", "isinstance", "type",
                         "id", "hash", "map", "filter", "range", "bool", "format"})


# Methods that put new values into a list, dict or set (sort, pop, remove only reorder or take away).
_GROWS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "__setitem__", "__iadd__",
                    "__ior__", "appendleft", "extendleft"})


def _literal_container(value: Any) -> bool:
    return type(value) is Const and type(value.value) is tuple


def _forget(w: Walker, name: str) -> None:
    """A literal container bound to ``name`` changed where the walk does not follow: unknown now."""
    w.scopes.rebind(name, UNKNOWN)
    w.cache.clear()


def _module_reached(w: Walker, node: cst.Attribute) -> None:
    """``np.os``: an attribute that is another module than its base's is a use of that module."""
    value, base = w.value(node), w.value(node.value)
    if isinstance(value, Mod) and isinstance(base, Mod) and not value.name.startswith(base.name + "."):
        w.emit(node, ModuleImport, module=value.name, api=f"{base.name}.{node.attr.value}")


def _on_attribute(w: Walker, node: cst.Attribute, stack: list[Any]) -> None:
    w.consumed.add(id(node.attr))
    attr = node.attr.value
    if attr[:2] == "__" and attr not in _HARMLESS_ATTRIBUTES:  # a function's attributes are dunders
        base = w.value(node.value)
        if type(base) is Mod and lookup(base.name) is not None:  # subprocess.run.__get__(…): the API escapes
            w.escape(node.value, base)
    if not (type(node.value) is cst.Name and node.value.value in DUNDER_ESCAPES):
        w.consumed.add(id(node.value))  # __loader__.load_module(…), __builtins__.open(…): the name is reported too
    if attr in DUNDER_ESCAPES:
        w.emit(node, DynamicCode, kind="introspection", detail=attr, api=attr)
        return
    _module_reached(w, node)
    if id(node) in w.consumed:
        return  # a callee or a target: reported as what it is
    w.escape(node, w.value(node))


def on_name(w: Walker, node: cst.Name) -> None:
    """A name not consumed as a callee, target or parameter: a dunder that escapes, or an API used
    as a value (the walk calls this itself, without the table: names are a quarter of all nodes)."""
    if node.value in DUNDER_ESCAPES:
        w.emit(node, DynamicCode, kind="introspection", detail=node.value, api=node.value)
        return
    value = w.lookup_name(node.value)
    if value is not UNKNOWN:  # a local of unknown value (most names) hands on no API
        w.escape(node, value)


def _on_subscript(w: Walker, node: cst.Subscript, stack: list[Any]) -> None:
    base = w.value(node.value)
    if type(base) is Mod:
        hook = SUBSCRIPT_HOOKS.get(base.name)
        if hook is not None:
            hook(w, node, base.name)
        generic_arguments(w, node, base.name)


def bind_target(w: Walker, target: Any, value: Any, *, joined: bool = False) -> None:
    target_type = type(target)  # not isinstance: on libcst's ABCs a miss is slow
    if target_type is cst.Name:
        w.scopes.rebind(target.value, value, joined=joined)
    elif target_type is cst.Tuple or target_type is cst.List:
        items = value.value if isinstance(value, Const) and isinstance(value.value, tuple) else ()
        for i, element in enumerate(target.elements):
            sub = Const(items[i]) if i < len(items) and items[i] is not UNKNOWN else UNKNOWN
            bind_target(w, element.value, sub)
    elif target_type is cst.Subscript:
        base = w.value(target.value)
        if type(base) is Mod:
            hook = STORE_HOOKS.get(base.name)
            if hook is not None:
                hook(w, target, base.name, value)
        elif type(base) is Const and type(target.value) is cst.Name:
            _forget(w, target.value.value)  # paths[0] = "/etc/passwd"
    elif target_type is cst.Attribute:  # sys.path = […], sys.path += […]
        whole = w.value(target)
        if type(whole) is Mod:
            hook = STORE_HOOKS.get(whole.name)
            if hook is not None:
                hook(w, target, whole.name, value)


def _assign_targets(w: Walker, targets: list[Any], value_node: Any) -> None:
    value = w.value(value_node) if value_node is not None else UNKNOWN
    for target in targets:
        bind_target(w, target, value)


def _consume_targets(w: Walker, target: Any) -> None:
    target_type = type(target)
    if target_type is cst.Name:
        w.consumed.add(id(target))
    elif target_type is cst.Tuple or target_type is cst.List:
        for element in target.elements:
            _consume_targets(w, element.value)


def _on_assign(w: Walker, node: cst.Assign, stack: list[Any]) -> None:
    for t in node.targets:
        _consume_targets(w, t.target)
    if type(node.value) is cst.Name and _literal_container(w.value(node.value)):
        _forget(w, node.value.value)  # q = paths: a change through q is one to paths, out of sight
        _assign_targets(w, [t.target for t in node.targets], node.value)
        return
    if len(node.targets) == 1:
        w.alias(node.targets[0].target, node.value)
    _assign_targets(w, [t.target for t in node.targets], node.value)


def _on_ann_assign(w: Walker, node: cst.AnnAssign, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    if node.value is not None:
        w.alias(node.target, node.value)
    _assign_targets(w, [node.target], node.value)


def _on_annotation(w: Walker, node: cst.Annotation, stack: list[Any]) -> None:
    """``x: subprocess.Popen`` names a type; it calls nothing (a call inside still counts). Its text
    (``x: "Node"``) is evaluated by typing.get_type_hints and pydantic: more than a type is code."""
    pending: list[Any] = [node.annotation]
    while pending:
        item = pending.pop()
        item_type = type(item)  # not isinstance: on libcst's ABCs a miss is slow
        if item_type is cst.Name or item_type is cst.Attribute:
            w.no_escape.add(id(item))
        elif item_type is cst.Subscript:
            pending.append(item.value)
            kind = value_arguments(item.value)  # Literal["a"], Annotated[T, "doc"]: values, not types
            if kind != "Literal":
                items = [e.slice.value for e in item.slice if type(e.slice) is cst.Index]
                pending.extend(items[:1] if kind == "Annotated" else items)
        elif item_type is cst.BinaryOperation:
            pending.extend((item.left, item.right))
        elif item_type is cst.Tuple or item_type is cst.List:
            pending.extend(e.value for e in item.elements)
        elif item_type is cst.SimpleString or item_type is cst.ConcatenatedString:
            forward_reference(w, item, "an annotation")


def _on_aug_assign(w: Walker, node: cst.AugAssign, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    bind_target(w, node.target, UNKNOWN)


def _on_named_expr(w: Walker, node: cst.NamedExpr, stack: list[Any]) -> None:
    w.consumed.add(id(node.target))  # not an alias: (f := os.system) is also a value handed on
    # a walrus may sit in a comprehension that never runs, or after an `and` that is false
    bind_target(w, node.target, w.value(node.value), joined=True)


def _on_with(w: Walker, node: cst.With, stack: list[Any]) -> None:
    for item in node.items:
        if item.asname is not None:
            _consume_targets(w, item.asname.name)
            bind_target(w, item.asname.name, w.value(item.item))


def _element(w: Walker, iterated_node: Any) -> Any:
    """What a loop variable holds: one of the strings of a literal sequence, a psutil.Process…"""
    iterated = w.value(iterated_node)
    if isinstance(iterated, Const) and isinstance(iterated.value, tuple) and iterated.value \
            and all(type(v) is str for v in iterated.value):
        return Choice(iterated.value)
    if iterated is UNKNOWN and type(iterated_node) is cst.Call:
        return ITERATION_VALUES.get(w.callee(iterated_node)[0] or "", UNKNOWN)
    return UNKNOWN


def _on_for(w: Walker, node: cst.For, stack: list[Any]) -> Any:
    _consume_targets(w, node.target)
    bind_target(w, node.target, _element(w, node.iter))
    return loop(w, node, stack, _push_children)


def _on_while(w: Walker, node: cst.While, stack: list[Any]) -> Any:
    return loop(w, node, stack, _push_children)


def _push_children(node: Any, stack: list[Any], marks: dict[str, Mark]) -> _SkipChildren:
    """Push a node's children as the walk would, with a mark that fires before a field is walked."""
    for name in _child_names(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type in NODE_TYPES:
            stack.append(value)
        elif value_type is tuple or value_type is list:
            stack.extend(value[::-1])
        mark = marks.get(name)
        if mark is not None:
            stack.append(mark)
    return SKIP_CHILDREN


def _param_names(params: cst.Parameters) -> Iterator[str]:
    for group in (params.posonly_params, params.params, params.kwonly_params):
        for p in group:
            yield p.name.value
    for star in (params.star_arg, params.star_kwarg):
        if type(star) is cst.Param:  # not isinstance: on libcst's ABCs a miss (MaybeSentinel) is slow
            yield star.name.value


def _on_function(w: Walker, node: cst.FunctionDef, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))
    w.bind(node.name.value, UNKNOWN)
    w.push_scope(_param_names(node.params), stack)


def _on_lambda(w: Walker, node: cst.Lambda, stack: list[Any]) -> None:
    w.push_scope(_param_names(node.params), stack)


def _on_class(w: Walker, node: cst.ClassDef, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))
    w.bind(node.name.value, UNKNOWN)
    w.push_scope(iter(()), stack, is_class=True)


def _on_param(w: Walker, node: cst.Param, stack: list[Any]) -> None:
    w.consumed.add(id(node.name))


def _on_import(w: Walker, node: cst.Import, stack: list[Any]) -> Any:
    w.on_import(node)
    return SKIP_CHILDREN


def _on_import_from(w: Walker, node: cst.ImportFrom, stack: list[Any]) -> Any:
    w.on_import_from(node)
    return SKIP_CHILDREN


def _on_comp_for(w: Walker, node: cst.CompFor, stack: list[Any]) -> None:
    _consume_targets(w, node.target)
    bind_target(w, node.target, _element(w, node.iter))


def _on_comprehension(w: Walker, node: Any, stack: list[Any]) -> None:
    """The element is walked before its ``for``: bind the loop variables first."""
    comp = node.for_in
    while type(comp) is cst.CompFor:
        _consume_targets(w, comp.target)
        bind_target(w, comp.target, _element(w, comp.iter))
        comp = comp.inner_for_in



def _on_except(w: Walker, node: cst.ExceptHandler, stack: list[Any]) -> None:
    if node.name is not None:
        _consume_targets(w, node.name.name)


def _on_global(w: Walker, node: Any, stack: list[Any]) -> None:
    for item in node.names:
        w.consumed.add(id(item.name))
        w.scopes.declare_outer(item.name.value)


_HANDLERS: dict[type, Any] = {
    cst.SimpleStatementLine: _on_statement,
    cst.Call: _on_call,
    cst.Attribute: _on_attribute,
    cst.Assign: _on_assign,
    cst.AnnAssign: _on_ann_assign,
    cst.AugAssign: _on_aug_assign,
    cst.NamedExpr: _on_named_expr,
    cst.With: _on_with,
    cst.For: _on_for,
    cst.While: _on_while,
    cst.If: conditional,
    cst.Try: conditional,
    cst.TryStar: conditional,
    cst.Match: conditional,
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
    cst.Nonlocal: _on_global,
    cst.Annotation: _on_annotation,
    cst.ListComp: _on_comprehension,
    cst.SetComp: _on_comprehension,
    cst.DictComp: _on_comprehension,
    cst.GeneratorExp: _on_comprehension,
}


# -- the canonical form ------------------------------------------------------------------------

def _operator(node: Any) -> str:
    return type(node.operator).__name__


def _import_names(node: Any) -> str:
    star = type(node.names) is cst.ImportStar  # type(), not isinstance: on libcst's ABCs that is slow
    names = node.names if not star else ()
    aliases = " ".join([f"{dotted(a.name)}>{dotted(a.asname.name) if a.asname else ''}" for a in names])
    if type(node) is cst.ImportFrom:
        module = dotted(node.module) if node.module is not None else ""
        return f"{len(node.relative)}{module}:{'*' if star else aliases}"
    return aliases


def _literal_text(node: cst.SimpleString) -> str:
    """A string literal as its value, so quote style and escapes do not change the signature; tagged
    by type (``"b'A'"`` and ``b'A'`` differ) and kept clear of the token separator."""
    token = node.value
    quote = token[0]
    if (quote == "'" or quote == '"') and "\\" not in token and "\x1f" not in token:  # no prefix, no escapes
        width = 3 if token.startswith(quote * 3) and len(token) >= 6 else 1
        return "s" + token[width:-width]
    value = string_value(token)
    if type(value) is str and "\x1f" not in value:
        return "s" + value
    return "r" + token if value is UNKNOWN else "v" + repr(value)


_VALUE = operator.attrgetter("value")

# What each node contributes to the canonical form beyond its type (code_signature).
_DETAIL: dict[type, Any] = {
    cst.Name: _VALUE,
    cst.SimpleString: _literal_text,
    cst.Integer: _VALUE,
    cst.Float: _VALUE,
    cst.Imaginary: _VALUE,
    cst.FormattedStringText: _VALUE,
    cst.BinaryOperation: _operator,
    cst.BooleanOperation: _operator,
    cst.UnaryOperation: _operator,
    cst.ComparisonTarget: _operator,
    cst.AugAssign: _operator,
    cst.Arg: operator.attrgetter("star"),
    cst.Param: lambda n: n.star if isinstance(n.star, str) else "",
    cst.Import: _import_names,
    cst.ImportFrom: _import_names,
    cst.FunctionDef: lambda n: "async" if n.asynchronous else "",
    cst.For: lambda n: "async" if n.asynchronous else "",
    cst.With: lambda n: "async" if n.asynchronous else "",
    cst.CompFor: lambda n: "async" if n.asynchronous else "",
}

KINDS.update((node_type, _kind(node_type)) for node_type in NODE_TYPES)
