"""Names and what they are bound to, per scope: module, functions, lambdas, class bodies.

In source order: a name holds the last value bound to it in its scope, joined with what it held
where a branch may not have run or a loop may run again (``_flow``). A class body's names are
invisible to the methods defined in it; ``global``/``nonlocal`` send bindings to the outer scope.
A name read from outside its scope is recorded (``unbound``): an alias made later there is no alias.
A free name is looked up in the star imports, then the builtins, then the modules the catalogue
knows (Jupyter keeps the imports of earlier blocks); one still free after ``from sympy import *``
is sympy's (a package with a hook for every call, ``_special.PACKAGE_HOOKS``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from governed_agents.analysis._catalogue import KNOWN_MODULES, known
from governed_agents.analysis._special import PACKAGE_HOOKS
from governed_agents.analysis._values import UNKNOWN, Const, Mod, join

__all__ = ["BUILTINS", "LEAVE", "MISSING", "OUTER", "ClassScope", "Scopes"]

BUILTINS = frozenset(dir(builtins))
LEAVE = object()  # pushed below a scope's children: the scope ends when it comes off the stack
OUTER = object()  # in a scope: the name is declared global/nonlocal there
_NONE = Const(None)
MISSING = object()  # not bound (a loop frame notes a name that had no value before the loop)


class ClassScope(dict[str, Any]):
    """A class body's names: attributes, invisible to the methods defined in it."""


class Scopes:
    __slots__ = ("joining", "loops", "stack", "star_modules", "unbound")

    def __init__(self) -> None:
        self.stack: list[dict[str, Any]] = [{}]
        self.star_modules: list[str] = []
        self.unbound: set[str] = set()  # names read from outside their scope
        self.joining = 0  # inside a statement whose branches may not run (_flow.conditional)
        # one per loop being walked (_flow.loop): (scope, name) bound in it → what it held before
        self.loops: list[dict[tuple[int, str], tuple[dict[str, Any], str, Any]]] = []

    def push(self, names: Iterable[str], *, is_class: bool = False) -> None:
        self.stack.append((ClassScope if is_class else dict).fromkeys(names, UNKNOWN))

    def pop(self) -> None:
        self.stack.pop()

    @property
    def innermost(self) -> dict[str, Any]:
        return self.stack[-1]

    def declare_outer(self, name: str) -> None:
        if len(self.stack) > 1:
            self.stack[-1][name] = OUTER  # bindings of this name go to the outer scope

    def _target(self, name: str) -> dict[str, Any]:
        scope = self.stack[-1]
        if scope.get(name) is OUTER:  # `global f` / `nonlocal f`: the binding is the outer scope's
            scope = next((outer for outer in reversed(self.stack[:-1]) if outer.get(name) is not OUTER
                          and (name in outer or outer is self.stack[0])), scope)
        return scope

    def _noted(self, scope: dict[str, Any], name: str) -> None:
        key = (id(scope), name)
        for frame in self.loops:
            if key not in frame:
                frame[key] = (scope, name, scope.get(name, MISSING))

    def bind(self, name: str, value: Any) -> None:
        scope = self._target(name)
        if type(scope.get(name)) is Mod and value == _NONE:
            return  # `except ImportError: subprocess = None` leaves a may-be module
        if self.loops:
            self._noted(scope, name)
        scope[name] = value

    def rebind(self, name: str, value: Any, *, joined: bool = False) -> None:
        """An assignment. In a branch that may not run (``joined``, or inside a conditional
        statement) a name bound already holds either value afterwards (``_values.join``)."""
        scope = self._target(name)
        old = scope.get(name, MISSING)
        if type(old) is Mod and value == _NONE:
            return
        if self.loops:
            self._noted(scope, name)
        scope[name] = join(old, value) if (joined or self.joining) and old is not MISSING else value

    def lookup(self, name: str) -> Any:
        stack = self.stack
        innermost = stack[-1]
        for scope in reversed(stack):
            if name in scope:
                value = scope[name]
                # a class body's names are not visible inside its methods
                if value is not OUTER and (type(scope) is not ClassScope or scope is innermost):
                    if scope is not innermost:
                        self.unbound.add(name)  # read from outside: an alias made later is no alias
                    return value
        self.unbound.add(name)
        for module in reversed(self.star_modules):
            if known(f"{module}.{name}"):
                return Mod(f"{module}.{name}")
        if name in BUILTINS or name == "get_ipython":  # get_ipython: what a Jupyter kernel puts in every cell
            return Mod(name)
        if name in KNOWN_MODULES:  # imported in an earlier block (Jupyter keeps state): assume so
            return Mod(name)
        for module in reversed(self.star_modules):
            if module.partition(".")[0] in PACKAGE_HOOKS:  # from sympy import *; simplify("…")
                return Mod(f"{module}.{name}")
        return UNKNOWN
