"""The governance mixin for AutoGen's group chat managers.

Combined with each stock manager class (``select_speaker``, ``reset`` stay the stock ones), it
counts governance turns (AutoGen's ``_current_turn`` resets), shares the group name and turn with
the governed participants, and enforces speaker rules from the policy (``can "speak" with
constraints { after: [...] }``): a selected speaker that may not follow the previous one is
replaced by the next participant, in order, that may. Each decision a speak rule makes gets a
receipt; when no participant may speak, the chat stops (fail closed) with a ``StopMessage`` that
says why.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.messages import StopMessage

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._state import GovernanceState
from governed_agents.governor import Governor

__all__ = ["GovernedGroupChatManager", "governed_manager_class"]


async def _may_speak(manager: Any, name: str, previous: str | None, reasons: list[str]) -> bool:
    """Decide, and record where a speak rule applies (a receipt that cannot be written refuses)."""
    governor: Governor | None = manager._governance_governor
    decision = governor.policy.decide_speaker(name, previous) if governor is not None else None
    if governor is None or decision is None:
        return True
    state: GovernanceState = manager._governance
    context = ConversationContext(group_chat=state.group, turn_number=state.turn + 1)
    gate = await governor.record_gate(decision, context=context)
    if not gate.approved:
        reasons.extend(v.message for v in gate.decision.violations)
    return gate.approved


async def _allowed(manager: Any, name: str, previous: str | None) -> tuple[str | None, list[str]]:
    """``name``, or the next participant in order that may speak after ``previous`` (None if nobody
    may), and the reasons of each refusal."""
    reasons: list[str] = []
    if await _may_speak(manager, name, previous, reasons):
        return name, reasons
    order = list(manager._participant_names)
    start = order.index(name) if name in order else -1
    for candidate in order[start + 1:] + order[: start + 1]:
        if candidate != name and await _may_speak(manager, candidate, previous, reasons):
            return candidate, reasons
    return None, reasons


async def _stop(manager: Any, previous: str | None, reasons: list[str]) -> None:
    message = StopMessage(content=f"governed-agents: no participant may speak after {previous}: "
                                  f"{'; '.join(dict.fromkeys(reasons))}", source=manager._name)
    if manager._termination_condition is not None:
        await manager._termination_condition.reset()
    manager._current_turn = 0
    await manager._signal_termination(message)


class GovernedGroupChatManager(abc.ABC):
    """The manager every governed team runs: turns counted, the group named in receipts, speaker
    rules enforced. AgentChat 0.7 teams build their manager themselves (there is no manager to
    pass in), so each stock manager class gets a governed subclass — ``governing(stock)`` — which
    is registered here: ``isinstance(manager, GovernedGroupChatManager)`` holds for all of them.
    A custom team governs its own manager class with ``GovernedGroupChatManager.governing``."""

    @staticmethod
    def governing(stock: type) -> type:
        return governed_manager_class(stock)

    @abc.abstractmethod
    async def select_speaker(self, thread: Sequence[Any]) -> list[str] | str:
        """The stock choice, then the policy's speaker rules (see the module docstring)."""


@functools.cache
def governed_manager_class(stock: Any) -> Any:
    """A subclass of ``stock`` with the governance ``select_speaker``.

    Built without a mixin base on purpose: an existing manager object can only take a class with
    its own layout (``__class__`` assignment), and any extra base changes it.
    """

    async def select_speaker(self: Any, thread: Sequence[Any]) -> list[str] | str:
        selected = await stock.select_speaker(self, thread)
        state: GovernanceState = self._governance
        names: list[str] = []
        for name in [selected] if isinstance(selected, str) else list(selected):
            allowed, reasons = await _allowed(self, name, state.last_speaker)
            if allowed is None:
                await _stop(self, state.last_speaker, reasons)
                return []  # nobody is asked to speak: the chat ends with the stop message
            names.append(allowed)
        state.turn += 1
        state.last_speaker = names[-1]
        state.speakers.append(names[-1])
        return names[0] if isinstance(selected, str) else names

    governed = type(f"Governed{stock.__name__}", (stock,), {"__slots__": (), "__module__": __name__,
                                                               "select_speaker": select_speaker})
    GovernedGroupChatManager.register(governed)
    return governed
