"""Text that names a type: a forward reference, which ``typing.get_type_hints``, pydantic and
``inspect.get_annotations(eval_str=True)`` evaluate with ``eval``.

``def f(x: "Node")`` and ``list["Node"]`` name a type; ``x: "__import__('os').system('id')"`` runs
a command when pydantic builds the model that holds it. A forward reference is judged by its
parsed form: names, attributes, subscripts, ``|`` unions, tuples and lists of them, constants, and
forward references inside those (a string inside ``Literal[…]``, or after ``Annotated[…]``'s first
argument, is a value, never evaluated). Anything more — a call, a lambda, an operator — is code. Text that does not parse is a ``SyntaxError`` when it is
evaluated: it runs nothing.
"""

from __future__ import annotations

import ast
import functools
import re
from typing import TYPE_CHECKING, Any

import libcst as cst

from governed_agents.analysis._values import Const
from governed_agents.ir import DynamicCode

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["GENERICS", "forward_reference", "generic_arguments", "reaches", "value_arguments"]

# Most forward references are a dotted name, perhaps subscripted by others: no parse needed.
_PLAIN = re.compile(r"[A-Za-z_][\w.]*(?:\[[\w.\[\], |]*\])?")
_MAX_TEXT = 2000  # longer text is code, whatever it says: no type is written like that
_NAMES = frozenset((cst.Name, cst.Ellipsis, cst.Integer, cst.Float, cst.Imaginary))


def forward_reference(w: Walker, node: Any, where: str) -> None:
    """``node``'s text is evaluated as a type: text that is more than one is code (eval)."""
    if id(node) in w.forward:  # an annotation's subscript is reached as an annotation and as a subscript
        return
    w.forward.add(id(node))
    text = w.value(node)
    if isinstance(text, Const) and isinstance(text.value, str) and reaches(text.value):
        w.emit(node, DynamicCode, kind="eval", api=None,
               detail=f"{where} whose text typing.get_type_hints and pydantic evaluate: {text.value[:60]!r}")


# what a subscript turns into a forward reference when given text (a type alias: list["Node"])
GENERICS = frozenset(("list", "dict", "tuple", "set", "frozenset", "type"))
_GENERIC_MODULES = ("typing.", "typing_extensions.", "collections.abc.")


def generic_arguments(w: Walker, node: cst.Subscript, name: str) -> None:
    """``typing.Optional["…"]``, ``list["…"]`` outside an annotation (a type alias, which
    ``get_type_hints`` evaluates where it is used): each text argument is judged as a type."""
    if name not in GENERICS and not name.startswith(_GENERIC_MODULES):
        return
    last = name.rsplit(".", 1)[-1]
    if last == "Literal":
        return
    items = [element.slice.value for element in node.slice if type(element.slice) is cst.Index]
    for item in items[:1] if last == "Annotated" else items:
        for text in item.elements if type(item) is cst.List else (item,):  # Callable[["…"], …]
            value = text.value if type(text) is cst.Element else text
            if type(value) is cst.SimpleString or type(value) is cst.ConcatenatedString:
                forward_reference(w, value, f"a {name}[…] argument")


def value_arguments(subscripted: Any) -> str | None:
    """``"Literal"`` or ``"Annotated"`` when the subscripted node names one (their arguments, all
    or after the first, are values), else None."""
    if type(subscripted) is cst.Name:
        name = subscripted.value
    elif type(subscripted) is cst.Attribute:
        name = subscripted.attr.value
    else:
        return None
    return name if name in ("Literal", "Annotated") else None


@functools.lru_cache(maxsize=1024)
def reaches(text: str) -> bool:
    """True when evaluating ``text`` would do more than name a type."""
    if _PLAIN.fullmatch(text.strip()):
        return False
    if len(text) > _MAX_TEXT:
        return True
    try:
        expression = cst.parse_expression(text.strip())
    except (cst.ParserSyntaxError, cst.CSTValidationError, RecursionError, ValueError):
        try:  # eval raises SyntaxError before anything runs; text only Python reads is code not read here
            ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        return True
    return not _type_expression(expression)


def _type_expression(node: Any, values: bool = False) -> bool:
    """True when ``node`` only names a type; with ``values`` (inside ``Literal[…]``, or after
    ``Annotated[…]``'s first argument) a string is a value, not a forward reference."""
    node_type = type(node)
    if node_type is cst.Attribute:
        return _type_expression(node.value)
    if node_type in _NAMES:
        return True
    if node_type is cst.SimpleString or node_type is cst.ConcatenatedString:
        value = node.evaluated_value
        return values or (isinstance(value, str) and not reaches(value))
    if node_type is cst.Subscript:
        if not _type_expression(node.value):
            return False
        kind = value_arguments(node.value)
        items = [element.slice for element in node.slice]
        if not all(type(item) is cst.Index for item in items):
            return False
        return all(_type_expression(item.value, values or kind == "Literal" or (kind == "Annotated" and i > 0))
                   for i, item in enumerate(items))
    if node_type is cst.UnaryOperation:  # Literal[-1]
        return values and type(node.operator) is cst.Minus and type(node.expression) in _NAMES
    if node_type is cst.BinaryOperation:
        return type(node.operator) is cst.BitOr and _type_expression(node.left, values) and \
            _type_expression(node.right, values)
    if node_type is cst.Tuple or node_type is cst.List:
        return all(type(element) is cst.Element and _type_expression(element.value, values)
                   for element in node.elements)
    return False
