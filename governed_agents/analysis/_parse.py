"""libcst's parse of ASCII text, without re-checking the nodes its own parser built.

libcst checks every node as it is constructed (``CSTNode.__post_init__`` calls ``_validate``): the
checks are for trees built by hand, and its own source says they are wasted on a parse ("It might
make more sense to move validation work into the visitor, which would allow us to avoid validating
the tree when parsing a file"). They are a sixth of a parse. For parsed text they hold by
construction but for two things, neither of which changes what the tree says:

- a name that is no identifier (libcst's tokenizer reads characters that Python does not): ASCII
  text cannot hold one — its names are ``[A-Za-z_][A-Za-z0-9_]*``, each an identifier — and other
  text is parsed with every check, as before;
- a keyword written without the space libcst's layout model wants after it (``for*x in y:``): the
  tokens, and so the tree, are the ones Python reads; the text is analysed, and Python, which
  refuses that example, refuses it when the code runs.

The checks are skipped only inside :func:`parse`, on its own thread (a thread-local flag): every
other construction of a libcst node, in this process, is checked as before.
"""

from __future__ import annotations

import threading

import libcst as cst
from libcst._nodes.base import CSTNode

__all__ = ["parse"]


class _State(threading.local):
    parsing = False


_state = _State()


def _post_init(self: CSTNode) -> None:
    if not _state.parsing:
        self._validate()


def _install() -> bool:
    """Route libcst's per-node check through the flag; False when libcst no longer has the hook."""
    hook = CSTNode.__dict__.get("__post_init__")
    if hook is _post_init:
        return True
    if hook is None or hook.__code__.co_names != ("_validate",):  # another libcst: leave it alone
        return False
    CSTNode.__post_init__ = _post_init  # type: ignore[method-assign]
    return True


_INSTALLED = _install()


def parse(code: str) -> cst.Module:
    """``libcst.parse_module(code)``; for ASCII text, without the per-node checks (see above)."""
    if not _INSTALLED or not code.isascii():
        return cst.parse_module(code)
    _state.parsing = True
    try:
        return cst.parse_module(code)
    finally:
        _state.parsing = False
