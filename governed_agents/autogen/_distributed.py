"""GovernedExecutorAgent: a core-API ``RoutedAgent`` that gates, then runs, the code it is sent —
for AutoGen's distributed (gRPC worker) runtime.

Why a core-API agent and not a governed AgentChat team: AgentChat 0.7.5 teams do not run on
``GrpcWorkerAgentRuntime``. ``BaseGroupChat.run`` sends ``GroupChatStart`` to its manager, and the
receiving worker cannot rebuild it: ``messages: List[SerializeAsAny[BaseChatMessage]]`` validates
into the abstract ``BaseChatMessage`` (``TypeError: Can't instantiate abstract class
BaseChatMessage``, raised from ``PydanticJsonMessageSerializer.deserialize`` in the worker's read
loop), so ``run`` waits for ever. Past that, a team registers every participant's container and its
manager in the one runtime it was given (``BaseGroupChat._init``), closes over the participant
objects and an in-process ``asyncio.Queue``, and names its topics after a per-instance uuid, so its
agents cannot live in different processes (a second worker registering the same agent types is
refused by the host: "Agent type … already registered with client …").

So the executor is an agent of its own: one worker hosts it (one instance per conversation, the
agent key), any other worker sends it a :class:`GovernedExecutionRequest` — the suggester's message,
the conversation id and the turn — and gets a :class:`GovernedExecutionResult` back. The blocks run
through :class:`GovernedCodeExecutor` (the Governor's gate, then the governed runtime), so every
decision is a receipt in the one log all workers share, with the conversation id as its
``group_chat``: ``governed-agents audit conversation LOG --group ID`` rebuilds the conversation
from every worker's receipts.

Provenance: the suggester is the sending agent's type as the runtime reports it; a request that
names another suggester is denied (and recorded). The gRPC host authenticates no worker (its port
is insecure): the sender is what the sending worker says. Bind the host to 127.0.0.1, or put it
behind TLS, and treat every worker that can reach it as trusted.

Never raises into the runtime: a failure anywhere is a denial reply.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from typing import Literal

from autogen_core import AgentRuntime, MessageContext, RoutedAgent, message_handler
from autogen_core._base_agent import handles
from autogen_core._serialization import try_get_known_serializers_for_type
from autogen_core.code_executor import CodeBlock, CodeExecutor
from pydantic import BaseModel, ConfigDict, Field

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.governor import ApprovalHandler, GateResult, Governor, deny

__all__ = [
    "GovernedExecutionRequest",
    "GovernedExecutionResult",
    "GovernedExecutorAgent",
    "add_governed_message_types",
]

DEFAULT_LANGUAGES = ("python", "sh", "bash", "shell")


class GovernedExecutionRequest(BaseModel):
    """Run the code blocks of ``message`` (markdown fences, as ``CodeExecutorAgent`` reads them),
    said by ``suggester`` at ``turn`` of conversation ``conversation_id``."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str = Field(min_length=1)
    turn: int = Field(ge=0)
    message: str
    suggester: str | None = None  # checked against the sending agent when the runtime names one


class GovernedExecutionResult(BaseModel):
    """What happened: ``outcome`` is the gate's answer (``no_code`` when the message held no block),
    ``output`` the program's output or the refusal's reasons, ``receipt_id`` the decision's receipt."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    turn: int
    executor: str
    suggester: str | None
    outcome: Literal["approved", "denied", "no_code"]
    exit_code: int
    output: str
    receipt_id: str | None = None
    violations: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return self.outcome == "approved"


def add_governed_message_types(runtime: AgentRuntime) -> None:
    """Let ``runtime`` (a worker that sends requests) serialise requests and read results back."""
    for message_type in (GovernedExecutionRequest, GovernedExecutionResult):
        runtime.add_message_serializer(try_get_known_serializers_for_type(message_type))


@handles(GovernedExecutionResult)  # the executor's worker serialises its replies
class GovernedExecutorAgent(RoutedAgent):
    """Gates and runs the code blocks of each :class:`GovernedExecutionRequest` it receives.

    ``name`` is the agent whose policy decides (default: the agent type it is registered as).
    The rest are :class:`GovernedCodeExecutor`'s: ``inner`` executor, ``work_dir``, ``timeout``,
    ``approval_handler`` for "needs approval" decisions (denied without one). Register it the
    core-API way, one instance per conversation::

        await GovernedExecutorAgent.register(worker, "agent_sandbox",
                                             lambda: GovernedExecutorAgent(governor))
    """

    def __init__(
        self,
        governor: Governor,
        *,
        name: str | None = None,
        description: str = "Runs the code it is sent, under its governor's policy",
        inner: CodeExecutor | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        timeout: int = 60,
        approval_handler: ApprovalHandler | None = None,
        supported_languages: Sequence[str] = DEFAULT_LANGUAGES,
    ) -> None:
        super().__init__(description)
        self.governor = governor
        self.name = name or self.id.type
        self.executor = GovernedCodeExecutor(governor, agent_name=self.name, inner=inner, work_dir=work_dir,
                                             timeout=timeout, approval_handler=approval_handler)
        languages = "|".join(re.escape(language) for language in supported_languages)
        self._fence = re.compile(rf"```(?:\s*({languages}))\n([\s\S]*?)```", re.IGNORECASE)
        self._turns = asyncio.Lock()  # one conversation's turns run one after another
        self.last_result: GovernedExecutionResult | None = None

    @message_handler
    async def on_execution_request(
        self, message: GovernedExecutionRequest, ctx: MessageContext
    ) -> GovernedExecutionResult:
        try:
            async with self._turns:
                result = await self._execute(message, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never raise into the runtime: the sender would get an error, not a reply
            result = self._result(message, None, outcome="denied", exit_code=1,
                                  output=f"governed-agents: execution failed closed ({type(exc).__name__}: {exc})")
        self.last_result = result
        return result

    async def _execute(self, message: GovernedExecutionRequest, ctx: MessageContext) -> GovernedExecutionResult:
        blocks = [CodeBlock(code=code, language=language.strip().lower())
                  for language, code in self._fence.findall(message.message)]
        sender = ctx.sender.type if ctx.sender is not None else None
        suggester = sender if sender is not None else message.suggester
        if not blocks:
            return self._result(message, suggester, outcome="no_code", exit_code=0,
                                output="No code blocks found in the message.")
        context = ConversationContext(group_chat=message.conversation_id, message_from_suggester=message.message,
                                      turn_number=message.turn)
        if sender is not None and message.suggester is not None and message.suggester != sender:
            gate = await self._refuse_claim(blocks, sender, message.suggester, context)
            return self._gated(message, gate, exit_code=1, output=f"governed-agents: {gate.decision.explain()}")
        gate, run = await self.executor.gate_and_run(blocks, ctx.cancellation_token, suggester=suggester,
                                                     context=context)
        return self._gated(message, gate, exit_code=run.exit_code, output=run.output)

    async def _refuse_claim(self, blocks: list[CodeBlock], sender: str, claimed: str,
                            context: ConversationContext) -> GateResult:
        """A request sent by one agent in another's name: denied, and the receipt names the sender."""
        decision = self.governor.decide_blocks([(b.language, b.code) for b in blocks], executor=self.name,
                                               suggester=sender, work_dir=self.executor.work_dir)
        refusal = deny(decision, constraint="provenance",
                       message=f"the request names {claimed!r} as its suggester but was sent by {sender!r}")
        return await self.governor.record_gate(refusal, context=context)

    def _gated(self, message: GovernedExecutionRequest, gate: GateResult, *, exit_code: int,
               output: str) -> GovernedExecutionResult:
        decision = gate.decision
        return self._result(message, decision.suggester, outcome="approved" if gate.approved else "denied",
                            exit_code=exit_code if gate.approved else max(exit_code, 1), output=output,
                            receipt_id=gate.receipt_id, violations=tuple(v.message for v in decision.violations))

    def _result(self, message: GovernedExecutionRequest, suggester: str | None, *,
                outcome: Literal["approved", "denied", "no_code"], exit_code: int, output: str,
                receipt_id: str | None = None, violations: tuple[str, ...] = ()) -> GovernedExecutionResult:
        return GovernedExecutionResult(conversation_id=message.conversation_id, turn=message.turn,
                                       executor=self.name, suggester=suggester, outcome=outcome,
                                       exit_code=exit_code, output=output, receipt_id=receipt_id,
                                       violations=violations)

    async def close(self) -> None:
        await self.executor.stop()

