"""Abstract values the walker tracks for names and expressions, and constant folding.

``Mod`` is a module or a qualified callable (``Mod("os.system")``); ``Obj`` an object whose origin
is known (``Obj("pathlib.Path", "/data/x")``); ``Const`` a folded literal; ``Method`` an attribute
looked up on a non-module value; ``UNKNOWN`` anything else. Unknown is never guessed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MEMORY", "UNKNOWN", "Choice", "Const", "Method", "Mod", "Obj", "Value", "host_port", "join", "normalise_path",
           "widen"]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True, slots=True)
class Mod:
    name: str


@dataclass(frozen=True, slots=True)
class Obj:
    type: str
    value: Any = UNKNOWN  # the path, URL or address the object was built from


@dataclass(frozen=True, slots=True)
class Const:
    value: Any  # str | bytes | int | float | bool | None | tuple[Any, ...] (UNKNOWN inside tuples)


@dataclass(frozen=True, slots=True)
class Method:
    type: str | None  # the receiver's type when known
    name: str
    receiver: Any


@dataclass(frozen=True, slots=True)
class Choice:
    """One of several literal strings: the variable of ``for name in ["mean", "sum"]``."""

    values: tuple[str, ...]


_MAX_CHOICES = 16


def _strings(value: Any) -> tuple[str, ...] | None:
    if type(value) is Const and type(value.value) is str:
        return (value.value,)
    return value.values if type(value) is Choice else None


def join(old: Any, new: Any) -> Any:
    """What a name may hold where two bindings of it meet (a branch taken or not, a loop run again):
    both strings as a Choice, one object type with its value kept only when both agree, else
    UNKNOWN. An API stays the newer binding: two APIs in one name are reported where the name is
    rebound (``Walker.alias``)."""
    if old == new:
        return new
    if type(new) is Mod or type(new) is Method or type(old) is Mod or type(old) is Method:
        return new
    if type(old) is Obj and type(new) is Obj and old.type == new.type:
        return Obj(old.type, old.value if old.value == new.value else UNKNOWN)
    first, second = _strings(old), _strings(new)
    if first is not None and second is not None:
        both = tuple(dict.fromkeys((*first, *second)))
        return Choice(both) if len(both) <= _MAX_CHOICES else UNKNOWN
    return UNKNOWN


def widen(value: Any) -> Any:
    """A value at the head of a loop whose body binds its name again: what the body binds is not
    known yet, so only an API (reported where it is rebound) or an object's type is kept."""
    if type(value) is Mod or type(value) is Method:
        return value
    if type(value) is Obj:
        return Obj(value.type, UNKNOWN)
    return UNKNOWN


MEMORY = "builtins.memory"  # the type of an in-memory buffer (io.StringIO, io.BytesIO): reading it touches no file

Value = Mod | Obj | Const | Method | Choice | _Unknown


def normalise_path(raw: Any, work_dir: str | None) -> str | None:
    """A literal path made canonical (``..`` resolved, relative joined to ``work_dir``); else None."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        return None
    if "://" in raw:
        return raw
    if raw.startswith("~"):
        return None  # the home directory is not known statically
    path = raw
    if not posixpath.isabs(path) and work_dir:
        path = posixpath.join(work_dir, path)
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    return normal


def host_port(value: Any) -> tuple[str | None, int | None, str | None]:
    """(host, port, url) from a URL string, a host string, or a ``(host, port)`` tuple."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if "://" in value:
            try:
                parts = urlsplit(value)
                return parts.hostname or None, parts.port, value
            except ValueError:
                return None, None, value
        name, _, port_text = value.partition(":")
        return (name or None), (int(port_text) if port_text.isdigit() else None), None
    if isinstance(value, tuple) and value:
        host = value[0] if isinstance(value[0], str) else None
        port = value[1] if len(value) > 1 and isinstance(value[1], int) else None
        if host == "":
            host = "0.0.0.0"
        return host, port, None
    return None, None, None
