"""The runtime layer: approved code runs in its own constrained process tree (framework-free)."""

from __future__ import annotations

from governed_agents.runtime._layers import available_layers
from governed_agents.runtime._observed import unpredicted
from governed_agents.runtime._report import RunReport
from governed_agents.runtime._run import DEFAULT_MAX_PROCESSES, run_code, run_code_sync

__all__ = ["DEFAULT_MAX_PROCESSES", "RunReport", "available_layers", "run_code", "run_code_sync", "unpredicted"]
