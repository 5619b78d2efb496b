"""governed-agents: execution authority for Microsoft AutoGen AgentChat 0.7.

The public surface is re-exported here; modules whose names start with ``_`` are private. Every
name loads lazily (module ``__getattr__``) so that ``import governed_agents`` costs nothing: the CLI's
``check`` and ``analyze`` start without AutoGen, pydantic's provenance models, bashlex or the receipt
store, and each loads only when first used. ``from governed_agents import X`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governed_agents._provenance import ConversationContext, Provenance, provenance
    from governed_agents._tracing import configure_tracing
    from governed_agents.analysis import analyze
    from governed_agents.autogen import (
        GovernedAssistantAgent,
        GovernedCodeExecutor,
        GovernedCodeExecutorAgent,
        GovernedExecutionRequest,
        GovernedExecutionResult,
        GovernedExecutorAgent,
        GovernedGroupChatManager,
        GovernedRoundRobinGroupChat,
        GovernedSelectorGroupChat,
        GovernedSwarm,
        GovernedUserProxyAgent,
        add_governed_message_types,
    )
    from governed_agents.governor import GateResult, GovernanceConfigError, Governor
    from governed_agents.ir import SovereignIR
    from governed_agents.policy import Decision, PolicyError, PolicySet, RuntimeLimits, Violation, load_policy
    from governed_agents.receipts import Receipt, ReceiptLog, ReceiptStoreError
    from governed_agents.runtime import RunReport, run_code

__version__ = "0.1.0"

_LAZY = {
    "ConversationContext": "governed_agents._provenance",
    "Provenance": "governed_agents._provenance",
    "provenance": "governed_agents._provenance",
    "analyze": "governed_agents.analysis",
    "SovereignIR": "governed_agents.ir",
    "Governor": "governed_agents.governor",
    "GateResult": "governed_agents.governor",
    "GovernanceConfigError": "governed_agents.governor",
    "Decision": "governed_agents.policy",
    "PolicyError": "governed_agents.policy",
    "PolicySet": "governed_agents.policy",
    "RuntimeLimits": "governed_agents.policy",
    "Violation": "governed_agents.policy",
    "load_policy": "governed_agents.policy",
    "Receipt": "governed_agents.receipts",
    "ReceiptLog": "governed_agents.receipts",
    "ReceiptStoreError": "governed_agents.receipts",
    "RunReport": "governed_agents.runtime",
    "run_code": "governed_agents.runtime",
    "GovernedAssistantAgent": "governed_agents.autogen",
    "GovernedCodeExecutor": "governed_agents.autogen",
    "GovernedCodeExecutorAgent": "governed_agents.autogen",
    "GovernedExecutionRequest": "governed_agents.autogen",
    "GovernedExecutionResult": "governed_agents.autogen",
    "GovernedExecutorAgent": "governed_agents.autogen",
    "GovernedGroupChatManager": "governed_agents.autogen",
    "GovernedRoundRobinGroupChat": "governed_agents.autogen",
    "GovernedSelectorGroupChat": "governed_agents.autogen",
    "GovernedSwarm": "governed_agents.autogen",
    "GovernedUserProxyAgent": "governed_agents.autogen",
    "add_governed_message_types": "governed_agents.autogen",
    "configure_tracing": "governed_agents._tracing",
}

__all__ = [
    "ConversationContext",
    "Decision",
    "GateResult",
    "GovernanceConfigError",
    "GovernedAssistantAgent",
    "GovernedCodeExecutor",
    "GovernedCodeExecutorAgent",
    "GovernedExecutionRequest",
    "GovernedExecutionResult",
    "GovernedExecutorAgent",
    "GovernedGroupChatManager",
    "GovernedRoundRobinGroupChat",
    "GovernedSelectorGroupChat",
    "GovernedSwarm",
    "GovernedUserProxyAgent",
    "Governor",
    "PolicyError",
    "PolicySet",
    "Provenance",
    "Receipt",
    "ReceiptLog",
    "ReceiptStoreError",
    "RunReport",
    "RuntimeLimits",
    "SovereignIR",
    "Violation",
    "__version__",
    "add_governed_message_types",
    "analyze",
    "configure_tracing",
    "load_policy",
    "provenance",
    "run_code",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'governed_agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
