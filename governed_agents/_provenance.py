"""Who suggested the code and where in the conversation it runs: travels beside a gate call.

Framework-free. The AutoGen classes set ``current_provenance`` around an execution; the governed
code executor and the receipts read it. **Contract**: ``ConversationContext`` holds the seed's
``conversation_context`` fields of a receipt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict

__all__ = ["ConversationContext", "Provenance", "current_provenance", "provenance"]


class ConversationContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_chat: str | None = None
    message_from_suggester: str | None = None
    message_from_executor: str | None = None
    turn_number: int | None = None


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    suggester: str | None = None
    context: ConversationContext = ConversationContext()


current_provenance: ContextVar[Provenance | None] = ContextVar("governed_agents_provenance", default=None)


@contextmanager
def provenance(value: Provenance) -> Iterator[Provenance]:
    """Set the provenance for gate calls made inside the ``with`` block (async-task safe)."""
    token = current_provenance.set(value)
    try:
        yield value
    finally:
        current_provenance.reset(token)
