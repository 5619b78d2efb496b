"""Authority Receipts in an RFC 9162 Merkle log: SQLite or PostgreSQL store, Ed25519 checkpoints, proofs."""

from __future__ import annotations

from governed_agents.receipts._checkpoint import SignedCheckpoint
from governed_agents.receipts._log import InclusionProof, ReceiptLog, ReceiptStoreError, VerifyReport
from governed_agents.receipts._proof import verify_consistency, verify_inclusion
from governed_agents.receipts._receipt import ExecutionRecord, PolicyEvaluation, Receipt

__all__ = [
    "ExecutionRecord",
    "InclusionProof",
    "PolicyEvaluation",
    "Receipt",
    "ReceiptLog",
    "ReceiptStoreError",
    "SignedCheckpoint",
    "VerifyReport",
    "verify_consistency",
    "verify_inclusion",
]
