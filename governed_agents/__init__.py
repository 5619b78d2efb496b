"""governed-agents: execution authority for Microsoft AutoGen AgentChat 0.7.

The public surface is re-exported here; modules whose names start with ``_`` are private.
AutoGen classes are imported lazily so that the analyser and the CLI start without AutoGen.
"""

from __future__ import annotations

from typing import Any

from governed_agents.analysis import analyze
from governed_agents.ir import SovereignIR

__version__ = "0.1.0"

__all__ = ["SovereignIR", "__version__", "analyze"]


def __getattr__(name: str) -> Any:  # lazy re-exports of the heavier layers, filled in as they land
    raise AttributeError(f"module 'governed_agents' has no attribute {name!r}")
