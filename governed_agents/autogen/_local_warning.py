"""AutoGen's "Using LocalCommandLineCodeExecutor may execute code on the local machine" warning,
given when such an executor is about to run code rather than when it is built.

A drop-in script builds the stock executor and hands it to a governed agent, which replaces it by
the governed runtime: that executor never runs anything, so its warning (issued by its
constructor, before the governed agent sees it) would only mislead. With ``governed_agents``
imported, the constructor's warning is held for that executor and given, unchanged, the first
time the stock executor itself executes code blocks — in a stock agent, or anywhere it is used
as stock. An executor the governed runtime replaces never runs, so never warns. Every other
warning of that module passes straight through.
"""

from __future__ import annotations

import sys
import warnings
import weakref
from typing import Any

from autogen_ext.code_executors import local as _local

__all__ = ["install"]

_MESSAGE = "Using LocalCommandLineCodeExecutor may execute code"
_Executor = _local.LocalCommandLineCodeExecutor
_held: weakref.WeakKeyDictionary[Any, tuple[str, type[Warning]]] = weakref.WeakKeyDictionary()


class _HoldingWarnings:
    """Stands for the ``warnings`` module inside ``autogen_ext.code_executors.local``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(warnings, name)

    def warn(self, message: Any, category: type[Warning] | None = None, stacklevel: int = 1,
             source: Any = None) -> None:
        if isinstance(message, str) and message.startswith(_MESSAGE):
            frame = sys._getframe(1)
            executor = frame.f_locals.get("self")
            if frame.f_code is _Executor.__init__.__code__ and isinstance(executor, _Executor):
                _held[executor] = (message, category or UserWarning)
                return
        warnings.warn(message, category, stacklevel + 1, source)


_stock_execute = _Executor.execute_code_blocks


async def _execute_code_blocks(self: Any, code_blocks: Any, cancellation_token: Any) -> Any:
    held = _held.pop(self, None)
    if held is not None:
        warnings.warn(held[0], held[1], stacklevel=2)
    return await _stock_execute(self, code_blocks, cancellation_token)


def install() -> None:
    namespace = vars(_local)
    if not isinstance(namespace["warnings"], _HoldingWarnings):
        namespace["warnings"] = _HoldingWarnings()
        _Executor.execute_code_blocks = _execute_code_blocks  # type: ignore[method-assign]
