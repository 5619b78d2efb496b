"""The AutoGen (AgentChat 0.7) classes: swap the class names, pass a ``governor``."""

from __future__ import annotations

from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.autogen._code_executor_agent import GovernedCodeExecutorAgent

__all__ = ["GovernedCodeExecutor", "GovernedCodeExecutorAgent"]
