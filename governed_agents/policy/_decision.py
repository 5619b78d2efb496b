"""The outcome of evaluating a SovereignIR against an agent's policy.

**Contract** for the runtime layer (``Decision.limits``), the receipts (``Decision`` is what a
receipt's ``policy_evaluation`` records) and the AutoGen classes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governed_agents.ir import Operation, SovereignIR

__all__ = ["Decision", "Outcome", "PolicyRef", "RuntimeLimits", "Violation"]

Outcome = Literal["approved", "denied", "needs_approval"]


class Violation(BaseModel):
    """One broken constraint: which, by what operation, where, in a sentence a person understands."""

    model_config = ConfigDict(frozen=True)

    constraint: str  # the policy key, e.g. "disallowed_imports", "allowed_file_paths"
    message: str  # e.g. "line 3: deletes /etc/passwd, outside allowed_file_paths ['/data/analysis']"
    operation: Operation | None = None
    line: int = 0
    column: int = 0


class RuntimeLimits(BaseModel):
    """What the runtime layer must hold while approved code runs. ``None`` means unlimited."""

    model_config = ConfigDict(frozen=True)

    max_execution_time: float | None = None  # seconds, wall clock
    max_memory: int | None = None  # bytes of address space
    max_cpu_time: float | None = None  # seconds
    max_processes: int | None = None
    max_file_size: int | None = None  # bytes
    network: bool = False  # may the code reach the network at all
    allowed_network_destinations: tuple[str, ...] = ()
    readable_paths: tuple[str, ...] = ()  # globs/directories; empty with read allowed = anywhere
    writable_paths: tuple[str, ...] = ()  # directories/globs the code may write (beyond its work dir)
    allow_dynamic_code: bool = False
    allowed_commands: tuple[str, ...] = ()


class PolicyRef(BaseModel):
    """Which policy decided: the agent's rule name and the sha256 of the policy source text."""

    model_config = ConfigDict(frozen=True)

    agent_exec_policy: str
    sha256: str
    source: str | None = None  # file name the policy was loaded from, when any


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    executor: str
    suggester: str | None = None
    action: Literal["code_execution", "tool_use", "speak"] = "code_execution"
    delegation: Literal["executor", "intersection"] = "executor"
    violations: tuple[Violation, ...] = ()
    approval_reasons: tuple[str, ...] = ()  # why requires_approval applies
    constraints: dict[str, Any] = Field(default_factory=dict)  # the effective constraints applied
    limits: RuntimeLimits = Field(default_factory=RuntimeLimits)
    policy: PolicyRef | None = None
    ir: SovereignIR

    @property
    def approved(self) -> bool:
        return self.outcome == "approved"

    def explain(self) -> str:
        """A few lines a person (or the LLM that suggested the code) can act on."""
        who = self.executor if not self.suggester else f"{self.executor} (code from {self.suggester})"
        if self.outcome == "approved":
            return f"approved for {who}"
        head = "denied" if self.outcome == "denied" else "needs approval"
        lines = [f"{head} for {who}:"]
        lines += [f"- [{v.constraint}] {v.message}" for v in self.violations]
        lines += [f"- [requires_approval] {r}" for r in self.approval_reasons]
        return "\n".join(lines)
