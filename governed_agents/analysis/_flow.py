"""Where control flow meets: a branch that may not run, a loop that may run again.

The walk goes once, in source order. Without this, a name holds the last value bound to it, so
``p = "/etc/passwd"`` followed by ``if rare: p = "/data/x"`` reads as a read of ``/data/x`` only.

* Inside a conditional statement (``if``/``elif``/``else``, ``try`` with its handlers, ``match``)
  a name bound again holds both values (``_values.join``), and so does a walrus anywhere.
* A loop's body is walked again while a name it binds (noted as it is bound: ``Scopes.loops``)
  comes out of it with another value than it went in with: the second pass starts from both (``join``), a third from what only the type
  says (``widen``); the later passes' operations that the first already reported are dropped, and
  their tokens are not part of the code's signature. After the loop a name holds what it held
  before (no iteration) or after the body.

Markers (``Mark``) ride on the walk's stack and fire when they come off it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

from governed_agents.analysis._scopes import MISSING as _MISSING
from governed_agents.analysis._values import UNKNOWN, Const, join, widen

if TYPE_CHECKING:
    from governed_agents.analysis._walker import Walker

__all__ = ["Mark", "conditional", "loop"]

_MAX_PASSES = 3


class Mark:
    """Pushed on the walk's stack: ``fire`` runs when the walk pops it."""

    __slots__ = ("fire",)

    def __init__(self, fire: Callable[[], None]) -> None:
        self.fire = fire


def conditional(w: Walker, node: Any, stack: list[Any]) -> None:
    """``if``/``try``/``match``: while its children are walked, a name bound again joins."""
    scopes = w.scopes
    scopes.joining += 1

    def leave() -> None:
        scopes.joining -= 1

    stack.append(Mark(leave))  # below the children: fires once they are all walked


def loop(w: Walker, node: cst.For | cst.While, stack: list[Any], push_children: Callable[..., Any]) -> Any:
    """Walk a loop's children with a mark after the body (before ``else``) that decides whether
    the body needs another pass. Returns the walker's SKIP_CHILDREN sentinel via ``push_children``.
    What the body binds is noted as it is bound (``Scopes.loops``): a frame per loop, so the cost
    follows the loop's own assignments, not the size of the scopes around it."""
    scopes = w.scopes
    frame: dict[tuple[int, str], tuple[dict[str, Any], str, Any]] = {}
    scopes.loops.append(frame)
    state: dict[str, Any] = {"passes": 1, "head": {}, "start": len(w.ops), "ops": len(w.ops),
                             "tokens": len(w.tokens)}

    def bound() -> list[tuple[tuple[int, str], dict[str, Any], str, Any]]:
        live = {id(scope) for scope in scopes.stack}  # a function's scope inside the body is gone
        return [(key, scope, name, before) for key, (scope, name, before) in frame.items() if id(scope) in live]

    def end_of_body() -> None:
        head: dict[tuple[int, str], Any] = state["head"]
        items = bound()
        changed = [(key, scope, name, before) for key, scope, name, before in items
                   if scope.get(name, _MISSING) != head.get(key, before)]
        # another pass only for what the body brings that the pass did not start from (a fixpoint:
        # a pass that started from "a or b" and ends with "b" has seen it all)
        again = False
        for key, scope, name, before in changed:
            started, after = head.get(key, before), scope.get(name, _MISSING)
            if _either(started, after) != started and (_matters(after) or _matters(started)):
                again = True
                break
        if again and state["passes"] < _MAX_PASSES:
            state["passes"] += 1
            start = dict(head)
            for key, scope, name, before in changed:
                value = _either(before, scope.get(name, _MISSING))
                start[key] = widen(value) if state["passes"] == _MAX_PASSES else value
            for key, scope, name, before in items:  # the pass starts where the last one did, joined
                value = start.get(key, before)
                if value is _MISSING:
                    scope.pop(name, None)
                else:
                    scope[name] = value
            state["head"] = start
            w.cache.clear()  # values computed in the last pass came from other bindings
            if state["passes"] == 2:
                state["ops"], state["tokens"] = len(w.ops), len(w.tokens)
            stack.append(Mark(end_of_body))
            _push_body(node, stack)
            return None
        return _leave(items)

    def _leave(items: list[tuple[tuple[int, str], dict[str, Any], str, Any]]) -> None:
        scopes.loops.remove(frame)
        if state["passes"] > 1:  # what the later passes found again is no new operation
            # against the first pass's own operations (an operation from before the loop stands
            # elsewhere): all of them were read for every loop, quadratic in a long file
            seen = {repr(op) for op in w.ops[state["start"]:state["ops"]]}
            w.ops[state["ops"]:] = [op for op in w.ops[state["ops"]:] if repr(op) not in seen]
            del w.tokens[state["tokens"]:]
        for _, scope, name, before in items:  # after the loop: as before it (no iteration), or after the body
            after = scope.get(name, _MISSING)
            if after is not _MISSING and after != before:
                scope[name] = _either(before, after)

    return push_children(node, stack, {"orelse": Mark(end_of_body)})


def _either(before: Any, after: Any) -> Any:
    return after if before is _MISSING else join(before, after)


def _matters(value: Any) -> bool:
    """Whether a value can name a file, a host, a command or an API: a number or an unknown
    value that changes from one iteration to the next (a counter) needs no second pass."""
    return value is not _MISSING and value is not UNKNOWN and not (
        type(value) is Const and type(value.value) in (int, float, bool, type(None)))


def _push_body(node: cst.For | cst.While, stack: list[Any]) -> None:
    if type(node) is cst.While:
        stack.append(node.body)
        stack.append(node.test)  # evaluated again before each pass
    else:
        stack.append(node.body)
