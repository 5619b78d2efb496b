"""APIs whose effect depends on more than one argument's value, registered here in one place.

The catalogue says what a call does from one argument; the few APIs it cannot describe that way
have a handler here, keyed by qualified name, the way bandit registers one check per plugin:

* ``CALL_HOOKS``: run after a call's catalogued operations (``numpy.load(allow_pickle=True)``);
* ``SUBSCRIPT_HOOKS``: ``base[key]`` read (``os.environ["HOME"]``, ``sys.modules["os"]``);
* ``STORE_HOOKS``: ``base[key] = …`` (``os.environ["PATH"] = …``);
* ``BARE_HOOKS``: the object used whole (``dict(os.environ)``);
* ``SUBSCRIPT_VALUES``: what ``base[key]`` is (``sys.modules["os"]`` is the module ``os``);
* ``ITERATION_VALUES``: what iterating a call's result yields (``psutil.process_iter()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from governed_agents.analysis._values import UNKNOWN, Const, Mod, Obj
from governed_agents.ir import DynamicCode, EnvironmentAccess, ModuleImport

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["BARE_HOOKS", "CALL_HOOKS", "ITERATION_VALUES", "STORE_HOOKS", "SUBSCRIPT_HOOKS", "SUBSCRIPT_VALUES"]

CallHook = Callable[["Walker", cst.Call, str], None]
NodeHook = Callable[["Walker", Any, str], None]

CALL_HOOKS: dict[str, CallHook] = {}
SUBSCRIPT_HOOKS: dict[str, NodeHook] = {}
STORE_HOOKS: dict[str, NodeHook] = {}
BARE_HOOKS: dict[str, NodeHook] = {}
SUBSCRIPT_VALUES: dict[str, Callable[[Walker, cst.Subscript], Any]] = {}
ITERATION_VALUES: dict[str, Any] = {"psutil.process_iter": Obj("psutil.Process")}


def _register(table: dict[str, Any], *names: str) -> Callable[[Any], Any]:
    def register(handler: Any) -> Any:
        for name in names:
            table[name] = handler
        return handler
    return register


@_register(CALL_HOOKS, "numpy.load")
def _numpy_allow_pickle(w: Walker, call: cst.Call, api: str) -> None:
    _, keywords, _ = w.args(call)
    flag = w.value(keywords["allow_pickle"]) if "allow_pickle" in keywords else Const(False)
    if not (isinstance(flag, Const) and flag.value is False):
        w.emit(call, DynamicCode, kind="deserialization", detail="numpy.load(allow_pickle=True)", api=api)


@_register(SUBSCRIPT_HOOKS, "sys.modules")
def _sys_modules(w: Walker, node: cst.Subscript, api: str) -> None:
    key = w.subscript_key(node)
    if key is not None:  # sys.modules['os'] is a use of os
        w.emit(node, ModuleImport, module=key, api=api)
    else:
        w.emit(node, DynamicCode, kind="introspection", detail="sys.modules with a computed name", api=api)


@_register(SUBSCRIPT_VALUES, "sys.modules")
def _sys_modules_value(w: Walker, node: cst.Subscript) -> Any:
    key = w.subscript_key(node)
    return Mod(key) if key is not None else UNKNOWN


@_register(SUBSCRIPT_HOOKS, "os.environ", "os.environb")
def _environ_read(w: Walker, node: cst.Subscript, api: str) -> None:
    if id(node) in w.consumed:
        return
    w.consumed.add(id(node.value))
    w.emit(node, EnvironmentAccess, names=(w.subscript_key(node),), access="read", api=api)


@_register(STORE_HOOKS, "os.environ", "os.environb")
def _environ_write(w: Walker, target: cst.Subscript, api: str) -> None:
    w.consumed.add(id(target))
    w.consumed.add(id(target.value))
    w.emit(target, EnvironmentAccess, names=(w.subscript_key(target),), access="write", api=api)


@_register(BARE_HOOKS, "os.environ", "os.environb")
def _environ_whole(w: Walker, node: Any, api: str) -> None:
    if id(node) not in w.consumed:
        w.emit(node, EnvironmentAccess, names=(None,), access="read", api=api)
