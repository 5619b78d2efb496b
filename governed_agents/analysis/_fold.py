"""Constant folding over abstract values: what a literal expression evaluates to, or UNKNOWN.

Only the operations that build names, paths and commands are folded (``+``, ``%``, f-strings,
``str.join``/``format``/``replace``…, ``chr``/``str``, pathlib's ``/``); anything else is UNKNOWN,
never guessed.
"""

from __future__ import annotations

import ast
import functools
import posixpath
from typing import Any

import libcst as cst

from governed_agents.analysis._values import UNKNOWN, Choice, Const, Obj

__all__ = ["concatenated_value", "fold_binary", "fold_builtin", "fold_str_method", "join_path", "number_value",
           "path_text", "string_value"]

_STR_METHODS = frozenset({"replace", "strip", "lstrip", "rstrip", "lower", "upper", "decode", "encode",
                          "removeprefix", "removesuffix", "title", "capitalize", "swapcase"})


def string_value(token: str) -> Any:
    """A string literal's value; literals without escapes skip literal_eval (a compile)."""
    quote = token[-1]
    prefix = token[: token.index(quote)].lower()
    if "\\" not in token:
        width = 3 if token[len(prefix):].startswith(quote * 3) else 1
        if prefix in ("", "u", "r"):  # without a backslash a raw string reads as a plain one
            return token[len(prefix) + width: -width]
        if prefix in ("b", "br", "rb"):
            body = token[len(prefix) + width: -width]
            return body.encode("ascii") if body.isascii() else UNKNOWN  # Python refuses non-ASCII bytes
    return _evaluated(token) if len(token) <= _KEPT else _literal(token)


def _literal(token: str) -> Any:
    try:
        return ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


_KEPT = 512  # literals with escapes up to this long are evaluated once per text
_evaluated = functools.lru_cache(maxsize=2048)(_literal)


def number_value(node: Any) -> Any:
    """An Integer's or Float's value as ``literal_eval`` reads its token, without a compile:
    ``int(token, 0)`` and ``float`` read Python's literal forms (underscores included)."""
    token = node.value
    try:
        return int(token, 0) if type(node) is cst.Integer else float(token)
    except (ValueError, OverflowError):  # a form int() does not take: as libcst evaluates it
        try:
            return node.evaluated_value
        except Exception:
            return UNKNOWN


def concatenated_value(node: cst.ConcatenatedString) -> Any:
    """``"a" "b"`` as one value, as libcst's ``evaluated_value`` reads it (an f-string part, or bytes
    next to text, is UNKNOWN); iteratively, however long the chain."""
    pieces: list[Any] = []
    pending: list[Any] = [node]
    while pending:
        part = pending.pop()
        part_type = type(part)
        if part_type is cst.ConcatenatedString:
            pending.append(part.right)
            pending.append(part.left)
        elif part_type is cst.SimpleString:
            value = string_value(part.value)
            if value is UNKNOWN:
                return UNKNOWN
            pieces.append(value)
        else:
            return UNKNOWN
    if all(type(p) is str for p in pieces):
        return "".join(pieces)
    if all(type(p) is bytes for p in pieces):
        return b"".join(pieces)
    return UNKNOWN


def fold_str_method(name: str, receiver: Any, args: list[Any]) -> Any:
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
        if name in _STR_METHODS:
            return Const(getattr(receiver, name)(*consts))
    except Exception:
        return UNKNOWN
    return UNKNOWN


def fold_builtin(name: str, arg: Any) -> Any:
    """``chr(111)``, ``str(3)``."""
    if not isinstance(arg, Const):
        return UNKNOWN
    try:
        return Const(chr(arg.value) if name == "chr" else str(arg.value))
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN


def join_path(left: str, right: str) -> str:
    """``PurePosixPath(left) / right`` as pathlib computes it: an absolute right side replaces."""
    return posixpath.join(left, right) if left and left != "." else right


def fold_binary(operator: Any, left: Any, right: Any) -> Any:
    operator_type = type(operator)
    if operator_type is cst.Add and (type(left) is Choice or type(right) is Choice):
        return _add_choices(left, right)  # '/data/' + name + '.csv' for name in ['a', 'b']
    if operator_type is cst.Add and isinstance(left, Const) and isinstance(right, Const):
        try:
            return Const(left.value + right.value)
        except TypeError:
            return UNKNOWN
    if operator_type is cst.Modulo and isinstance(left, Const) and isinstance(right, Const):
        try:
            return Const(left.value % right.value)
        except (TypeError, ValueError):
            return UNKNOWN
    if operator_type is cst.Divide and (_is_path(left) or _is_path(right)):
        # pathlib's `/`: an absolute right side replaces the left (Path("/data") / "/etc/passwd")
        a, b = path_text(left), path_text(right)
        return Obj("pathlib.Path", join_path(a, b) if a is not None and b is not None else UNKNOWN)
    return UNKNOWN


def _add_choices(left: Any, right: Any) -> Any:
    """Each string one side may hold joined to each the other may hold (16 at most)."""
    sides = []
    for side in (left, right):
        if type(side) is Choice:
            sides.append(side.values)
        elif type(side) is Const and type(side.value) is str:
            sides.append((side.value,))
        else:
            return UNKNOWN
    joined = tuple(dict.fromkeys(a + b for a in sides[0] for b in sides[1]))
    return Choice(joined) if len(joined) <= 16 else UNKNOWN


def _is_path(value: Any) -> bool:
    return isinstance(value, Obj) and value.type == "pathlib.Path"


def path_text(value: Any) -> str | None:
    """The text of a path part: a literal string, or a path whose value is known."""
    if isinstance(value, Const) and isinstance(value.value, str):
        return value.value
    if _is_path(value) and isinstance(value.value, str):
        return str(value.value)
    return None
