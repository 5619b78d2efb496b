"""The Authority Receipt: what was decided, for whom, on whose suggestion, in which conversation.

The seed's fields are a contract. The Merkle leaf is the RFC 8785 canonical JSON of the receipt
without ``merkle_index`` (the index is bound by the leaf's position in the tree), in which the two
parts that repeat from receipt to receipt — ``policy_evaluation.analysis`` (the SovereignIR, the same
for every decision on the same code) and ``policy_evaluation.constraints`` (the agent's rule, the
same for every decision under one policy) — stand as ``{"$ref": "sha256:<hex>"}``: the SHA-256 of
their own canonical JSON, stored once per log beside the receipts (see ``ReceiptLog``). The leaf
commits to that hash, so a stored analysis cannot be edited unseen; a receipt read back has both
parts in full again. A receipt stored with them inline (older logs) reads and verifies as stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from governed_agents._provenance import ConversationContext

if TYPE_CHECKING:
    from governed_agents.policy._decision import Decision

__all__ = ["EXTERNAL_PARTS", "ExecutionRecord", "PolicyEvaluation", "Receipt", "part_ref"]

# Parts of policy_evaluation stored once per content and referenced from the leaf by hash.
EXTERNAL_PARTS = ("analysis", "constraints")


def part_ref(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


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
        """The Merkle leaf entry: RFC 8785 canonical JSON of everything but ``merkle_index``, with the
        analysis and the constraints as references to :meth:`parts`."""
        return self._leaf()[0]

    def parts(self) -> dict[str, bytes]:
        """The referenced parts of :meth:`canonical`: ``{"sha256:<hex>": canonical JSON}``."""
        return self._leaf()[1]

    def _leaf(self) -> tuple[bytes, dict[str, bytes]]:
        exclude = {"merkle_index"} if self.execution is not None else {"merkle_index", "execution"}
        data = self.model_dump(mode="json", exclude=exclude)
        evaluation = data["policy_evaluation"]
        parts: dict[str, bytes] = {}
        for name in EXTERNAL_PARTS:
            if evaluation.get(name):
                body = rfc8785.dumps(evaluation[name])
                ref = part_ref(body)
                parts[ref] = body
                evaluation[name] = {"$ref": ref}
        return rfc8785.dumps(data), parts

    @classmethod
    def from_canonical(cls, body: bytes, index: int,
                       resolve: Callable[[str], bytes | str | None] | None = None) -> Receipt:
        """The receipt stored as ``body`` at ``index``, its referenced parts read through ``resolve``.
        Raises ``ValueError`` when a part is missing or no longer matches its hash."""
        data = json.loads(body)
        evaluation = data.get("policy_evaluation")
        for name in EXTERNAL_PARTS if isinstance(evaluation, dict) else ():
            value = evaluation.get(name)
            if isinstance(value, dict) and set(value) == {"$ref"}:
                ref = str(value["$ref"])
                part = resolve(ref) if resolve is not None else None
                if part is None:
                    raise ValueError(f"receipt {index}: its {name} ({ref}) is not in the log")
                raw = part.encode() if isinstance(part, str) else part
                if part_ref(raw) != ref:
                    raise ValueError(f"receipt {index}: its stored {name} ({ref}) was edited")
                evaluation[name] = json.loads(raw)
        return cls.model_validate(data).model_copy(update={"merkle_index": index})
