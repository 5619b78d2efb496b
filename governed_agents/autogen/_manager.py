"""The governance mixin for AutoGen's group chat managers.

Combined with each stock manager class (``select_speaker``, ``reset`` stay the stock ones), it
counts governance turns (AutoGen's ``_current_turn`` resets), shares the group name and turn with
the governed participants, and enforces speaker rules from the policy (``can "speak" with
constraints { after: [...] }``): a selected speaker that may not follow the previous one is
replaced by the next participant, in order, that may.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from governed_agents.autogen._state import GovernanceState
from governed_agents.governor import Governor

__all__ = ["governed_manager_class"]


def _allowed(manager: Any, name: str, previous: str | None) -> str:
    governor: Governor | None = manager._governance_governor
    if governor is None or governor.policy.may_speak_after(name, previous)[0]:
        return name
    order = list(manager._participant_names)
    start = order.index(name) if name in order else -1
    for candidate in order[start + 1:] + order[: start + 1]:
        if governor.policy.may_speak_after(candidate, previous)[0]:
            return candidate
    return name  # nobody may speak: keep AutoGen's choice rather than stall the chat


@functools.cache
def governed_manager_class(stock: Any) -> Any:
    """A subclass of ``stock`` with the governance ``select_speaker``.

    Built without a mixin base on purpose: an existing manager object can only take a class with
    its own layout (``__class__`` assignment), and any extra base changes it.
    """

    async def select_speaker(self: Any, thread: Sequence[Any]) -> list[str] | str:
        selected = await stock.select_speaker(self, thread)
        state: GovernanceState = self._governance
        names = [selected] if isinstance(selected, str) else list(selected)
        names = [_allowed(self, name, state.last_speaker) for name in names]
        state.turn += 1
        state.last_speaker = names[-1]
        state.speakers.append(names[-1])
        return names[0] if isinstance(selected, str) else names

    return type(f"Governed{stock.__name__}", (stock,), {"__slots__": (), "select_speaker": select_speaker})
