"""The Authority Receipt: what was decided, for whom, on whose suggestion, in which conversation.

The seed's fields are a contract. The Merkle leaf is the RFC 8785 canonical JSON of the receipt
without ``merkle_index`` (the index is bound by the leaf's position in the tree).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from governed_agents._provenance import ConversationContext

if TYPE_CHECKING:
    from governed_agents.policy._decision import Decision

__all__ = ["ExecutionRecord", "PolicyEvaluation", "Receipt"]


class PolicyEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved: bool
    executor_policy: dict[str, Any] | None = None  # {agent_exec_policy, sha256, source}
    constraints: dict[str, Any] = Field(default_factory=dict)
    analysis: dict[str, Any] = Field(default_factory=dict)  # the SovereignIR


class ExecutionRecord(BaseModel):
    """What approved code did when it ran (**contract**: field names, DESIGN.md "Execution receipts").

    ``receipt_id`` is the *decision's* receipt: the run it executed. ``observed_operations`` is what
    the in-child audit hook saw the code do or attempt (bounded; a ``refused`` key names the
    constraint that stopped it); ``unpredicted`` is the part of it the static analysis did not
    predict. An inner executor (Docker, Jupyter, …) observes nothing: both are empty and ``layers``
    names the executor.
    """

    model_config = ConfigDict(frozen=True)

    receipt_id: str
    exit_code: int
    limit_broken: str | None = None
    duration_s: float = 0.0
    layers: dict[str, str] = Field(default_factory=dict)
    observed_operations: list[dict[str, Any]] = Field(default_factory=list)
    unpredicted: list[dict[str, Any]] = Field(default_factory=list)


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    code_hash: str
    executor_agent: str
    suggester_agent: str | None = None
    conversation_context: ConversationContext = Field(default_factory=ConversationContext)
    policy_evaluation: PolicyEvaluation
    timestamp: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds")
                           .replace("+00:00", "Z"))
    merkle_index: int | None = None
    outcome: str = "denied"
    violations: list[dict[str, Any]] = Field(default_factory=list)
    approver: str | None = None
    action: str = "code_execution"
    runtime: dict[str, Any] | None = None
    # set on an execution receipt only (outcome "executed"): what the run of an approved decision did
    execution: ExecutionRecord | None = None

    @property
    def is_execution(self) -> bool:
        return self.execution is not None

    @property
    def counts_as_denial(self) -> bool:
        """What ``audit show --denied`` lists: denials and pending approvals (not runs)."""
        return self.outcome not in ("approved", "executed")

    @classmethod
    def for_execution(cls, decision_receipt: Receipt, record: ExecutionRecord) -> Receipt:
        """The receipt appended after a run, linked to the decision's receipt by ``execution.receipt_id``."""
        return cls(
            code_hash=decision_receipt.code_hash,
            executor_agent=decision_receipt.executor_agent,
            suggester_agent=decision_receipt.suggester_agent,
            conversation_context=decision_receipt.conversation_context,
            policy_evaluation=PolicyEvaluation(approved=decision_receipt.policy_evaluation.approved),
            outcome="executed",
            approver=decision_receipt.approver,
            action=decision_receipt.action,
            execution=record,
        )

    @classmethod
    def from_decision(
        cls,
        decision: Decision,
        *,
        context: ConversationContext | None = None,
        approver: str | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> Receipt:
        return cls(
            code_hash=decision.ir.code_signature,
            executor_agent=decision.executor,
            suggester_agent=decision.suggester,
            conversation_context=context or ConversationContext(),
            policy_evaluation=PolicyEvaluation(
                approved=decision.approved,
                executor_policy=decision.policy.model_dump(mode="json") if decision.policy else None,
                constraints=decision.constraints,
                analysis=decision.ir.model_dump(mode="json"),
            ),
            outcome=decision.outcome,
            violations=[v.model_dump(mode="json", exclude={"operation"}) for v in decision.violations]
            + [{"constraint": "requires_approval", "message": r, "line": 0, "column": 0}
               for r in decision.approval_reasons if decision.outcome == "needs_approval"],
            approver=approver,
            action=decision.action,
            runtime=runtime,
        )

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON of everything but ``merkle_index``: the Merkle leaf entry."""
        exclude = {"merkle_index"} if self.execution is not None else {"merkle_index", "execution"}
        return rfc8785.dumps(self.model_dump(mode="json", exclude=exclude))

    @classmethod
    def from_canonical(cls, body: bytes, index: int) -> Receipt:
        return cls.model_validate_json(body).model_copy(update={"merkle_index": index})
