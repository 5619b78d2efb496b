"""Governed teams: the stock teams, with a governed manager and the group's name and turn shared
with their governed participants. They take every stock argument plus an optional ``governor``
(by default the first governed participant's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autogen_agentchat.teams import RoundRobinGroupChat, SelectorGroupChat, Swarm

from governed_agents.autogen._loading import GovernedLoading
from governed_agents.autogen._manager import governed_manager_class
from governed_agents.autogen._state import GovernanceState
from governed_agents.governor import Governor

__all__ = ["GovernedRoundRobinGroupChat", "GovernedSelectorGroupChat", "GovernedSwarm"]


class _GovernedTeam(GovernedLoading):
    _participants: list[Any]
    _name: str

    def _govern(self, governor: Governor | None) -> None:
        members = [p for p in self._participants if hasattr(p, "_governance")]
        self.governor = governor or next((p.governor for p in members), None)
        self._governance = GovernanceState(group=self._name)
        for participant in members:
            participant._governance = self._governance

    async def save_state(self) -> Mapping[str, Any]:
        """The stock team state plus the governance counter (``governance``), so a restored team goes on
        numbering receipts where it stopped instead of from turn 0."""
        state = dict(await super().save_state())  # type: ignore[misc]
        state["governance"] = self._governance.snapshot()
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await super().load_state(state)  # type: ignore[misc]
        if "governance" in state:  # a stock team's state has none: the counter is kept
            self._governance.restore(state["governance"])

    def _create_group_chat_manager_factory(self, *args: Any, **kwargs: Any) -> Any:
        stock_factory = super()._create_group_chat_manager_factory(*args, **kwargs)  # type: ignore[misc]
        state, governor = self._governance, self.governor

        def factory() -> Any:
            manager = stock_factory()
            stock: Any = type(manager)
            manager.__class__ = governed_manager_class(stock)
            manager._governance = state
            manager._governance_governor = governor
            return manager

        return factory


class GovernedRoundRobinGroupChat(_GovernedTeam, RoundRobinGroupChat):
    component_provider_override = "governed_agents.autogen.GovernedRoundRobinGroupChat"

    def __init__(self, *args: Any, governor: Governor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._govern(governor)


class GovernedSelectorGroupChat(_GovernedTeam, SelectorGroupChat):
    component_provider_override = "governed_agents.autogen.GovernedSelectorGroupChat"

    def __init__(self, *args: Any, governor: Governor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._govern(governor)


class GovernedSwarm(_GovernedTeam, Swarm):
    component_provider_override = "governed_agents.autogen.GovernedSwarm"

    def __init__(self, *args: Any, governor: Governor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._govern(governor)
