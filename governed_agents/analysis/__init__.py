"""Code and tool calls → SovereignIR.

``analyze`` dispatches on the language: Python through one libcst pass (``_python``), shell
blocks through bashlex (``_shell``). It never raises: what it cannot read is ``unresolved``.
"""

from __future__ import annotations

from governed_agents.analysis._dispatch import SHELL_LANGUAGES, analyze, normalise_language

__all__ = ["SHELL_LANGUAGES", "analyze", "normalise_language"]
