"""What governed agents share inside one team: the group's name and the governance turn counter.

AutoGen's manager resets ``_current_turn`` on termination and ``reset()``; this counter does not,
so turn numbers in receipts stay unique within a group. The provenance metadata keys are a
contract: ``governed.executor``, ``governed.suggester``, ``governed.approved``,
``governed.receipt_id``, ``governed.turn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from governed_agents.governor import GateResult, Governor

__all__ = [
    "GovernanceState",
    "GovernorReference",
    "Turns",
    "TurnsInState",
    "loading_governor",
    "provenance_metadata",
    "resolve_governor",
]


@dataclass
class GovernanceState:
    group: str | None = None
    turn: int = 0
    last_speaker: str | None = None
    speakers: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {"turn": self.turn, "last_speaker": self.last_speaker, "speakers": list(self.speakers)}

    def restore(self, saved: Mapping[str, Any]) -> None:
        """In place: the team's manager and participants share this object."""
        self.turn = int(saved.get("turn", 0))
        self.last_speaker = saved.get("last_speaker")
        self.speakers = [str(s) for s in saved.get("speakers", [])]


@dataclass
class Turns:
    """The turn an agent is answering: its governed team's count; in a stock team or alone, the
    index of its reply among the messages it has been given since its last reset (the task is
    turn 0) — the same number a governed team gives."""

    seen: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def restore(self, saved: Mapping[str, Any]) -> None:
        self.seen = int(saved.get("seen", 0))

    def now(self, state: GovernanceState) -> int:
        return state.turn if state.group else self.seen


class TurnsInState:
    """A governed agent's ``save_state``/``load_state``: the stock state plus its turn count
    (``governance``), so a restored agent goes on numbering its receipts where it stopped."""

    _turns: Turns

    async def save_state(self) -> Mapping[str, Any]:
        state = dict(await super().save_state())  # type: ignore[misc]
        state["governance"] = self._turns.snapshot()
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await super().load_state(state)  # type: ignore[misc]
        if "governance" in state:
            self._turns.restore(state["governance"])


def provenance_metadata(gate: GateResult, turn: int | None) -> dict[str, str]:
    decision = gate.decision
    return {
        "governed.executor": decision.executor,
        "governed.suggester": decision.suggester or "",
        "governed.approved": "true" if decision.approved else "false",
        "governed.receipt_id": gate.receipt_id or "",
        "governed.turn": "" if turn is None else str(turn),
    }


# set by load_component while a governed class is rebuilt from its configuration
loading_governor: ContextVar[Governor | None] = ContextVar("governed_agents_loading_governor", default=None)


def resolve_governor(governor: Governor | None) -> Governor:
    """The governor passed in, or the one ``$GOVERNED_AGENTS_POLICY`` configures; never none."""
    if governor is not None:
        return governor
    return loading_governor.get() or _environment_governor()


_from_env: dict[tuple[Any, ...], Governor] = {}


def _environment_governor() -> Governor:
    """One governor per application, as if the script had built it once: every agent configured by
    the environment shares it while the variables and the policy file stay the same."""
    import os

    from governed_agents.governor import ENV_POLICY, ENV_RECEIPTS

    policy, receipts = os.environ.get(ENV_POLICY), os.environ.get(ENV_RECEIPTS)
    try:
        stat = os.stat(policy) if policy else None
    except OSError:
        stat = None  # from_env reports the missing file
    key = (policy, receipts, os.getcwd(), stat and (stat.st_ino, stat.st_size, stat.st_mtime_ns))
    governor = _from_env.get(key) if stat is not None else None
    if governor is None:
        governor = Governor.from_env()
        if stat is not None:
            _from_env.clear()
            _from_env[key] = governor
    return governor


class GovernorReference(BaseModel):
    """What a governed component's configuration adds to the stock one: where its governor's policy,
    receipt log and signing key are, so ``load_component`` builds the same governor again. A stock
    configuration has none (``policy`` is None): it loads with the governor being loaded or the
    environment's."""

    policy: str | None = None
    receipts: str | None = None
    receipts_key: str | None = None  # only when not the default beside the log (LOG.key)
    require_isolation: bool = True

    @classmethod
    def of(cls, governor: Governor) -> dict[str, Any]:
        """The reference fields for ``governor`` (a policy built in memory cannot be referenced)."""
        source = getattr(governor.policy, "source", None)
        if not source or not Path(source).exists():
            raise ValueError(
                "cannot serialise a governed component whose policy was not loaded from a file: "
                "build the Governor from a policy path so load_component can find it again"
            )
        log: Any = governor.receipts
        key = str(Path(log.key_path).resolve()) if log is not None else None
        receipts = str(Path(log.path).resolve()) if log is not None else None
        return {"policy": str(Path(source).resolve()), "receipts": receipts,
                "receipts_key": key if receipts is not None and key != receipts + ".key" else None,
                "require_isolation": governor.require_isolation}

    def governor(self) -> Governor:
        if self.policy is None:  # a stock configuration: the enclosing load's governor, or the environment's
            return resolve_governor(None)
        return Governor(self.policy, self.receipts if self.receipts is not None else False,
                        require_isolation=self.require_isolation, key_path=self.receipts_key)
