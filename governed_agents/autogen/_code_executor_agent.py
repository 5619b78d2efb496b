"""GovernedCodeExecutorAgent: AutoGen's CodeExecutorAgent with the gate before every execution.

The suggester is the source of the message the code came from (AutoGen's ``CodeBlock`` has no
source, so it is recorded while the blocks are extracted). A denial comes back as the stock
failure result with the reasons, so the model and the group see why. Approved code runs through
the governed runtime. ``approval_func`` is asked as stock asks it, before every execution, once
the policy has approved (a policy denial never reaches it); its answer is recorded in the receipt.
``requires_approval`` decisions are answered by it too; without one they are denied.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Self

from autogen_agentchat.agents import ApprovalRequest, CodeExecutorAgent
from autogen_agentchat.agents._code_executor_agent import CodeExecutorAgentConfig
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, CodeGenerationEvent, TextMessage
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor, CodeResult

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.autogen._loading import GovernedLoading
from governed_agents.autogen._state import (
    GovernanceState,
    Turns,
    TurnsInState,
    provenance_metadata,
    resolve_governor,
)
from governed_agents.governor import GateResult, Governor
from governed_agents.policy._decision import Decision

__all__ = ["GovernedCodeExecutorAgent", "GovernedCodeExecutorAgentConfig", "govern_executor"]


class GovernedCodeExecutorAgentConfig(CodeExecutorAgentConfig):
    """The stock configuration; the policy reference travels in the governed code executor's config."""


def govern_executor(executor: CodeExecutor | None, governor: Governor, agent_name: str) -> GovernedCodeExecutor:
    """Any executor made governed: the stock local one is replaced by the governed local runtime
    (same work dir and timeout, plus the policy's limits); others (Docker, Jupyter) run inside."""
    if isinstance(executor, GovernedCodeExecutor):
        return executor
    if executor is None:
        return GovernedCodeExecutor(governor, agent_name=agent_name)
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    if isinstance(executor, LocalCommandLineCodeExecutor):
        return GovernedCodeExecutor(governor, agent_name=agent_name, work_dir=executor.work_dir,
                                    timeout=executor.timeout)
    return GovernedCodeExecutor(governor, agent_name=agent_name, inner=executor)


class GovernedCodeExecutorAgent(GovernedLoading, TurnsInState, CodeExecutorAgent):
    """Takes every argument of ``CodeExecutorAgent`` plus ``governor``."""

    component_config_schema = GovernedCodeExecutorAgentConfig
    component_provider_override = "governed_agents.autogen.GovernedCodeExecutorAgent"

    def __init__(self, name: str, code_executor: CodeExecutor | None = None, *args: Any,
                 governor: Governor | None = None, **kwargs: Any) -> None:
        self.governor = resolve_governor(governor)
        executor = govern_executor(code_executor, self.governor, name)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*approval_func.*")  # the gate is the approval
            super().__init__(name, executor, *args, **kwargs)
        self._governed_executor = executor
        # the stock local executor's `functions=[…]`: the developer's own code, written into the work
        # dir (functions.py) the stock way before the first run; the model's code imports it from there
        self._functions_source = code_executor if getattr(code_executor, "_functions", None) else None
        executor.approval_handler = self._ask_approval_func if self._approval_func is not None else None
        self._governance = GovernanceState()
        self._turns = Turns()
        self._asker: tuple[str, str] | None = None  # (source, text) of the last message given by another
        self._generated: str | None = None  # the model's message holding the code, when this agent writes it
        self._suggesters: list[tuple[str, str]] = []  # (source, message) of each extracted block
        self.last_gate: GateResult | None = None
        self._current_code = ""

    # -- provenance ---------------------------------------------------------------------------

    async def extract_code_blocks_from_messages(self, messages: Sequence[BaseChatMessage]) -> list[CodeBlock]:
        blocks: list[CodeBlock] = []
        self._suggesters = []
        for msg in messages:
            if (self._sources is None or msg.source in self._sources) and isinstance(msg, TextMessage):
                found = self._extract_markdown_code_blocks(msg.content)
                blocks.extend(found)
                self._suggesters.extend((msg.source, msg.content) for _ in found)
        return blocks

    def _authors(self, code_blocks: list[CodeBlock]) -> list[tuple[str | None, str | None, list[CodeBlock]]]:
        """Who suggested the code, as (suggester, their message, their blocks) in order: the author of
        the message each run of blocks came from; or, when this agent's own model wrote it, the
        agent whose message it answered (persuasion in words is still a suggestion). The agent
        itself is no suggester."""
        if self._model_client is not None or len(self._suggesters) != len(code_blocks):
            # the last other author it answered (the team's task, given with the first request, is no
            # suggester of its own: accept_code_from would refuse every first turn)
            source, message = self._asker or (None, None)
            return [(source if source != self.name else None, message, code_blocks)]
        authors: list[tuple[str | None, str | None, list[CodeBlock]]] = []
        for (source, message), block in zip(self._suggesters, code_blocks, strict=True):
            suggester = source if source != self.name else None
            if authors and authors[-1][0] == suggester:
                authors[-1][2].append(block)
            else:
                authors.append((suggester, message, [block]))
        return authors

    def _context(self, message: str | None) -> ConversationContext:
        state = self._governance
        return ConversationContext(group_chat=state.group, message_from_suggester=message,
                                   message_from_executor=self._generated if self._model_client is not None else None,
                                   turn_number=self._turns.now(state))

    # -- the gate -----------------------------------------------------------------------------

    async def execute_code_block(self, code_blocks: list[CodeBlock],
                                 cancellation_token: CancellationToken) -> CodeResult:
        self._current_code = "\n\n".join(f"```{b.language}\n{b.code}\n```" for b in code_blocks)
        try:
            source: Any = self._functions_source
            if source is not None and not source._setup_functions_complete:
                await self._governed_executor.setup_functions(source, cancellation_token)
            authors = self._authors(code_blocks)
            result: CodeResult
            if self._approval_func is not None:
                gate, result = await self._gate_then_ask(authors, cancellation_token)
            elif len(authors) == 1:
                suggester, message, _ = authors[0]
                gate, result = await self._governed_executor.gate_and_run(code_blocks, cancellation_token,
                                                                           suggester=suggester,
                                                                           context=self._context(message))
            else:
                gate, result = await self._gate_each_author(authors, code_blocks, cancellation_token)
            self.last_gate = gate
        except Exception as exc:  # never raise into AutoGen: that ends the whole group chat
            return CodeResult(exit_code=1, output=f"governed-agents: denied, the gate failed closed ({exc})")
        if not gate.approved:
            return CodeResult(exit_code=result.exit_code, output=result.output)
        if result.output.strip() == "":
            result.output = ("The script ran but produced no output to console. The POSIX exit code was: "
                             f"{result.exit_code}. If you were expecting output, consider revising the script to "
                             "ensure content is printed to stdout.")
        elif result.exit_code != 0:
            result.output = (f"The script ran, then exited with an error (POSIX exit code: {result.exit_code})\n"
                             f"Its output was:\n{result.output}")
        return result

    async def _gate_each_author(
        self, authors: list[tuple[str | None, str | None, list[CodeBlock]]], code_blocks: list[CodeBlock],
        cancellation_token: CancellationToken,
    ) -> tuple[GateResult, CodeResult]:
        """A batch from several authors: each answers for its own blocks (one receipt each) and
        nothing runs unless all pass; then each run of blocks runs under its own decision's limits,
        in order, stopping at the first failure as a batch does."""
        executor = self._governed_executor
        gates = []
        for suggester, message, blocks in authors:
            gate = await executor.gate(blocks, suggester=suggester, context=self._context(message))
            if not gate.approved:
                return gate, await executor.run_gated(blocks, gate, cancellation_token)
            gates.append((gate, blocks))
        return gates[-1][0], await self._run_in_order(gates, cancellation_token)

    async def _gate_then_ask(
        self, authors: list[tuple[str | None, str | None, list[CodeBlock]]], cancellation_token: CancellationToken,
    ) -> tuple[GateResult, CodeResult]:
        """With an ``approval_func``, as stock, it is asked once before every execution — after the
        policy: a batch the policy denies is refused with its receipt and never reaches it. Its
        answer settles each author's decision (one receipt each, its approver ``approval_func:NAME``
        and, when it refuses, its reason); a ``requires_approval`` decision is recorded as pending
        first and answered by the same call, whose request then names why. Nothing runs unless it
        approves; then each author's blocks run under their own decision's limits, in order."""
        executor, governor = self._governed_executor, self.governor
        decided = [(governor.decide_blocks([(b.language, b.code) for b in blocks], executor=self.name,
                                           suggester=suggester, work_dir=executor.work_dir), message, blocks)
                   for suggester, message, blocks in authors]
        for decision, message, blocks in decided:
            if decision.outcome == "denied":
                gate = await governor.record_gate(decision, context=self._context(message))
                executor.last_gate = gate
                return gate, await executor.run_gated(blocks, gate, cancellation_token)
        reasons = [r for decision, _, _ in decided for r in decision.approval_reasons
                   if decision.outcome == "needs_approval"]
        approved, approver, reason = await self._ask_approval_func_for(reasons)
        gates: list[tuple[GateResult, list[CodeBlock]]] = []
        for decision, message, blocks in decided:
            context = self._context(message)
            if decision.outcome == "needs_approval":
                pending = await governor.record_gate(decision, context=context,
                                                     runtime=governor.runtime_plan(executor._inner_name()))
            else:  # the policy approved: approval_func is asked as stock asks it, before every execution
                asked = decision.model_copy(update={"outcome": "needs_approval"})
                pending = GateResult(asked, None)
            gate = await governor.settle_approval(pending, approved=approved, approver=approver,
                                                  reason=reason, context=context)
            executor.last_gate = gate
            if not gate.approved:
                if approved:  # approved, but the receipt could not be written: the gate's own refusal
                    return gate, await executor.run_gated(blocks, gate, cancellation_token)
                return gate, CodeResult(exit_code=1, output=f"Code execution was not approved. Reason: {reason}")
            gates.append((gate, blocks))
        return gates[-1][0], await self._run_in_order(gates, cancellation_token)

    async def _run_in_order(self, gates: list[tuple[GateResult, list[CodeBlock]]],
                            cancellation_token: CancellationToken) -> CodeResult:
        """Each author's approved blocks under their own decision, in order, until one fails."""
        outputs: list[str] = []
        result = CodeResult(exit_code=0, output="")
        for gate, blocks in gates:
            result = await self._governed_executor.run_gated(blocks, gate, cancellation_token)
            outputs.append(result.output)
            if result.exit_code != 0:
                break
        return CodeResult(exit_code=result.exit_code, output="".join(outputs))

    async def _ask_approval_func_for(self, reasons: Sequence[str]) -> tuple[bool, str, str]:
        """The stock request (the batch's code, the model context); the policy's reasons for needing
        approval, if any, as comment lines before the code."""
        notes = "".join(f"# needs approval: {r}\n" for r in reasons)
        request = ApprovalRequest(code=f"{notes}{self._current_code}", context=await self._model_context.get_messages())
        func: Any = self._approval_func
        response = await func(request) if self._approval_func_is_async else func(request)
        approved, reason = bool(response.approved), str(response.reason)
        approver = f"approval_func:{getattr(func, '__name__', 'approval_func')}"
        # a refusal's reason is recorded among the receipt's violations; an approval's, with the approver
        return approved, f"{approver} ({reason})" if approved and reason else approver, reason

    async def _ask_approval_func(self, decision: Decision) -> tuple[bool, str, str]:
        return await self._ask_approval_func_for(decision.approval_reasons)

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        self.last_gate = None
        self._turns.seen += len(messages)
        incoming = [m for m in messages if m.source != self.name]
        if incoming:
            self._asker = (incoming[-1].source, incoming[-1].to_text())
        self._generated = None
        async for item in super().on_messages_stream(messages, cancellation_token):
            if isinstance(item, CodeGenerationEvent):
                self._generated = item.content  # the stock path runs these blocks once this returns
            if isinstance(item, Response):
                if self.last_gate is not None:
                    item.chat_message.metadata = {**item.chat_message.metadata, **provenance_metadata(
                        self.last_gate, self._turns.now(self._governance))}
                self._turns.seen += 1
            yield item

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        await super().on_reset(cancellation_token)
        self._turns, self._asker = Turns(), None

    # -- serialisation -------------------------------------------------------------------------

    def _to_config(self) -> GovernedCodeExecutorAgentConfig:
        config = super()._to_config()  # raises ValueError, as stock, when an approval_func is set
        return GovernedCodeExecutorAgentConfig(**config.model_dump())

    @classmethod
    def _from_config(cls, config: CodeExecutorAgentConfig) -> Self:
        """A governed executor's configuration carries its governor; a stock executor's (a stock
        agent's configuration) is governed with the governor being loaded or the environment's."""
        with warnings.catch_warnings():  # a stock local executor is replaced by the governed runtime, never run
            warnings.filterwarnings("ignore", message="Using LocalCommandLineCodeExecutor may execute code")
            inner = CodeExecutor.load_component(config.code_executor)
        governor = inner.governor if isinstance(inner, GovernedCodeExecutor) else resolve_governor(None)
        executor = govern_executor(inner, governor, config.name)
        from autogen_core.model_context import ChatCompletionContext
        from autogen_core.models import ChatCompletionClient

        return cls(
            name=config.name,
            code_executor=executor,
            governor=governor,
            model_client=(ChatCompletionClient.load_component(config.model_client)
                          if config.model_client is not None else None),
            description=config.description,
            sources=config.sources,
            system_message=config.system_message,
            model_client_stream=config.model_client_stream,
            model_context=ChatCompletionContext.load_component(config.model_context) if config.model_context else None,
            supported_languages=config.supported_languages,
        )

