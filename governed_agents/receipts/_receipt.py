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

__all__ = ["PolicyEvaluation", "Receipt"]


class PolicyEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved: bool
    executor_policy: dict[str, Any] | None = None  # {agent_exec_policy, sha256, source}
    constraints: dict[str, Any] = Field(default_factory=dict)
    analysis: dict[str, Any] = Field(default_factory=dict)  # the SovereignIR


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
        return rfc8785.dumps(self.model_dump(mode="json", exclude={"merkle_index"}))

    @classmethod
    def from_canonical(cls, body: bytes, index: int) -> Receipt:
        return cls.model_validate_json(body).model_copy(update={"merkle_index": index})
