"""The AutoGen (AgentChat 0.7) classes: swap the class names, pass a ``governor``."""

from __future__ import annotations

from governed_agents.autogen._assistant import GovernedAssistantAgent
from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.autogen._code_executor_agent import GovernedCodeExecutorAgent
from governed_agents.autogen._distributed import (
    GovernedExecutionRequest,
    GovernedExecutionResult,
    GovernedExecutorAgent,
    add_governed_message_types,
)
from governed_agents.autogen._local_warning import install as _hold_the_local_executor_warning
from governed_agents.autogen._manager import GovernedGroupChatManager
from governed_agents.autogen._teams import (
    GovernedRoundRobinGroupChat,
    GovernedSelectorGroupChat,
    GovernedSwarm,
)
from governed_agents.autogen._user_proxy import GovernedUserProxyAgent

_hold_the_local_executor_warning()

__all__ = [
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
    "add_governed_message_types",
]
