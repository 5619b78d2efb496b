"""``load_component`` through a governed class always builds governed objects.

A configuration dumped from a stock script names the stock classes (``autogen_agentchat.agents.
AssistantAgent``); loaded through a governed class, every one of the six swapped classes in it —
the top component and the participants, agents and teams nested inside — is read as its governed
counterpart, exactly as the class names are swapped in a script. Components without a governor
reference use the governor being loaded, else ``$GOVERNED_AGENTS_POLICY``'s, else loading raises
``GovernanceConfigError``.
"""

from __future__ import annotations

from typing import Any

from autogen_core import ComponentModel

__all__ = ["GovernedLoading", "governed_providers"]

_SWAPPED = {
    "AssistantAgent": ("autogen_agentchat.agents", "_assistant_agent"),
    "CodeExecutorAgent": ("autogen_agentchat.agents", "_code_executor_agent"),
    "UserProxyAgent": ("autogen_agentchat.agents", "_user_proxy_agent"),
    "RoundRobinGroupChat": ("autogen_agentchat.teams", "_group_chat._round_robin_group_chat"),
    "SelectorGroupChat": ("autogen_agentchat.teams", "_group_chat._selector_group_chat"),
    "Swarm": ("autogen_agentchat.teams", "_group_chat._swarm_group_chat"),
}

# every provider string naming a stock class -> its governed class
_GOVERNED: dict[str, str] = {}
for _name, (_package, _module) in _SWAPPED.items():
    for _provider in (f"{_package}.{_name}", f"{_package}.{_module}.{_name}"):
        _GOVERNED[_provider] = f"governed_agents.autogen.Governed{_name}"


def governed_providers(model: Any) -> Any:
    """``model`` (a ``ComponentModel`` or its dict, or anything inside one) with every stock
    provider of the six swapped classes replaced by the governed one."""
    if isinstance(model, ComponentModel):
        model = model.model_dump()
    if isinstance(model, list):
        return [governed_providers(item) for item in model]
    if not isinstance(model, dict):
        return model
    swapped = {key: governed_providers(value) for key, value in model.items()}
    provider = swapped.get("provider")
    if isinstance(provider, str) and provider in _GOVERNED and "config" in swapped:
        swapped["provider"] = _GOVERNED[provider]
    return swapped


class GovernedLoading:
    """The ``load_component`` of every governed class (see the module docstring)."""

    @classmethod
    def load_component(cls, model: ComponentModel | dict[str, Any], expected: Any = None) -> Any:
        return super().load_component(governed_providers(model), expected)  # type: ignore[misc]
