"""Where control flow meets: a branch that may not run, a loop that may run again.

The walk goes once, in source order. Without this, a name holds the last value bound to it, so
``p = "/etc/passwd"`` followed by ``if rare: p = "/data/x"`` reads as a read of ``/data/x`` only.

* Inside a conditional statement (``if``/``elif``/``else``, ``try`` with its handlers, ``match``)
  a name bound again holds both values (``_values.join``), and so does a walrus anywhere.
* A loop's body is walked again while a name it binds comes out of it with another value than it
  went in with: the second pass starts from both (``join``), a third from what only the type
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
    What the body binds is found by comparing every scope with a copy taken before it (a scope is
    a few dozen names; reading the body for assignments costs more)."""
    scopes = w.scopes.stack
    before = [dict(scope) for scope in scopes]
    state: dict[str, Any] = {"passes": 1, "head": before, "start": len(w.ops), "ops": len(w.ops),
                             "tokens": len(w.tokens)}

    def end_of_body() -> None:
        head: list[dict[str, Any]] = state["head"]
        changed = [(level, name) for level, scope in enumerate(scopes) for name, value in scope.items()
                   if head[level].get(name, _MISSING) != value]
        # another pass only for what the body brings that the pass did not start from (a fixpoint:
        # a pass that started from "a or b" and ends with "b" has seen it all)
        grown = [(level, name) for level, name in changed
                 if _either(head[level].get(name, _MISSING), scopes[level][name]) != head[level].get(name, _MISSING)]
        again = any(_matters(scopes[level][name]) or _matters(head[level].get(name, _MISSING))
                    for level, name in grown)
        if again and state["passes"] < _MAX_PASSES:
            state["passes"] += 1
            start = [dict(scope) for scope in head]
            for level, name in changed:
                value = _either(before[level].get(name, _MISSING), scopes[level][name])
                start[level][name] = widen(value) if state["passes"] == _MAX_PASSES else value
            state["head"] = start
            for level, scope in enumerate(start):
                scopes[level].clear()
                scopes[level].update(scope)
            w.cache.clear()  # values computed in the last pass came from other bindings
            if state["passes"] == 2:
                state["ops"], state["tokens"] = len(w.ops), len(w.tokens)
            stack.append(Mark(end_of_body))
            _push_body(node, stack)
            return None
        return _leave(changed)

    def _leave(changed: list[tuple[int, str]]) -> None:
        if state["passes"] > 1:  # what the later passes found again is no new operation
            # against the first pass's own operations (an operation from before the loop stands
            # elsewhere): all of them were read for every loop, quadratic in a long file
            seen = {repr(op) for op in w.ops[state["start"]:state["ops"]]}
            w.ops[state["ops"]:] = [op for op in w.ops[state["ops"]:] if repr(op) not in seen]
            del w.tokens[state["tokens"]:]
        for level, name in changed:  # after the loop: as before it (no iteration), or after the body
            scopes[level][name] = _either(before[level].get(name, _MISSING), scopes[level][name])

    return push_children(node, stack, {"orelse": Mark(end_of_body)})


def _either(before: Any, after: Any) -> Any:
    return after if before is _MISSING else join(before, after)


def _matters(value: Any) -> bool:
    """Whether a value can name a file, a host, a command or an API: a number or an unknown
    value that changes from one iteration to the next (a counter) needs no second pass."""
    return value is not _MISSING and value is not UNKNOWN and not (
        type(value) is Const and type(value.value) in (int, float, bool, type(None)))


def _push_body(node: cst.For | cst.While, stack: list[Any]) -> None:
    if isinstance(node, cst.While):
        stack.append(node.body)
        stack.append(node.test)  # evaluated again before each pass
    else:
        stack.append(node.body)
