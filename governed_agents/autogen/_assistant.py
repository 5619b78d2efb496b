"""GovernedAssistantAgent: every tool call gated before it runs, with the agent's identity.

Function tools and MCP tools are gated where AutoGen calls the agent's workbenches (the user's
objects, unchanged: see ``_workbench``); a
``PythonCodeExecutionTool``'s executor is made governed, so its code is analysed as code under the
agent's ``code_execution`` rule; handoffs are gated where the handoff message is produced (whom
the agent may hand off to is ``allowed_tools: ["transfer_to_…"]``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Self

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.agents._assistant_agent import AssistantAgentConfig
from autogen_agentchat.base import Response
from autogen_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    TextMessage,
    ToolCallRequestEvent,
)
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult
from autogen_core.tools import BaseTool, StaticWorkbench, Workbench

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._code_executor import GovernedCodeExecutor
from governed_agents.autogen._code_executor_agent import govern_executor
from governed_agents.autogen._loading import GovernedLoading
from governed_agents.autogen._state import (
    GovernanceState,
    GovernorReference,
    Turns,
    TurnsInState,
    loading_governor,
    provenance_metadata,
    resolve_governor,
)
from governed_agents.autogen._workbench import GatedWorkbenches, execute_gated_tool_call
from governed_agents.governor import GateResult, Governor

__all__ = ["GovernedAssistantAgent", "GovernedAssistantAgentConfig"]


class GovernedAssistantAgentConfig(AssistantAgentConfig, GovernorReference):
    """The stock configuration and the governor's reference."""


class GovernedAssistantAgent(GovernedLoading, TurnsInState, AssistantAgent):
    """Takes every argument of ``AssistantAgent`` plus ``governor``."""

    component_config_schema = GovernedAssistantAgentConfig
    component_provider_override = "governed_agents.autogen.GovernedAssistantAgent"

    def __init__(self, name: str, model_client: Any, *args: Any, governor: Governor | None = None,
                 **kwargs: Any) -> None:
        self.governor = resolve_governor(governor)
        super().__init__(name, model_client, *args, **kwargs)
        self._code_tools: list[GovernedCodeExecutor] = []  # the executors of its PythonCodeExecutionTools
        for workbench in self._workbench:
            self._govern_code_tools(workbench)
        self._workbench = GatedWorkbenches(self._workbench, self._gate_tool)  # the same objects, gated
        self._governance = GovernanceState()
        self._turns = Turns()
        self._suggester: str | None = None
        self._suggestion: str | None = None
        self._request: str | None = None  # this agent's model message asking for the tool calls
        self.last_gates: list[GateResult] = []

    def _govern_code_tools(self, workbench: Workbench) -> None:
        from autogen_ext.tools.code_execution import PythonCodeExecutionTool

        if isinstance(workbench, StaticWorkbench):  # tools=[…] and workbench=StaticWorkbench([…]) alike
            for tool in workbench._tools:
                if isinstance(tool, PythonCodeExecutionTool):  # its code is gated as code, for this agent
                    tool._executor = govern_executor(tool._executor, self.governor, self.name)
                    tool._executor.provenance = lambda: (self._suggester, self._context())
                    self._code_tools.append(tool._executor)

    @staticmethod
    async def _execute_tool_call(
        tool_call: FunctionCall,
        workbench: Sequence[Workbench],
        handoff_tools: list[BaseTool[Any, Any]],
        agent_name: str,
        cancellation_token: CancellationToken,
        stream: asyncio.Queue[BaseAgentEvent | BaseChatMessage | None],
    ) -> tuple[FunctionCall, FunctionExecutionResult]:
        """The gate (the agent's, carried by its workbench list), then the stock call."""
        return await execute_gated_tool_call(AssistantAgent._execute_tool_call, tool_call, workbench, handoff_tools,
                                             agent_name, cancellation_token, stream)

    def _context(self) -> ConversationContext:
        state = self._governance
        return ConversationContext(group_chat=state.group, message_from_suggester=self._suggestion,
                                   message_from_executor=self._request, turn_number=self._turns.now(state))

    async def _gate_tool(self, tool: str, arguments: Mapping[str, Any]) -> GateResult:
        try:
            gate = await self.governor.gate_tool(tool, arguments, executor=self.name, suggester=self._suggester,
                                                 context=self._context())
        except Exception as exc:  # fail closed, never into AutoGen
            from governed_agents.governor import _internal_denial

            gate = GateResult(_internal_denial(exc, executor=self.name, suggester=self._suggester, action="tool_use"))
        self.last_gates.append(gate)
        return gate

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        incoming = [m for m in messages if m.source != self.name]
        self._suggester = incoming[-1].source if incoming else None
        self._suggestion = incoming[-1].to_text() if incoming else None
        self.last_gates = []
        for executor in self._code_tools:
            executor.last_gate = None
        self._turns.seen += len(messages)
        self._request = None
        async for item in super().on_messages_stream(messages, cancellation_token):
            if isinstance(item, ToolCallRequestEvent):
                self._request = item.to_text()  # the stock path runs these calls once this returns
            if isinstance(item, Response):
                item = await self._govern_response(item)
                self._turns.seen += 1
            yield item

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        await super().on_reset(cancellation_token)
        self._turns = Turns()

    async def _govern_response(self, response: Response) -> Response:
        message = response.chat_message
        if isinstance(message, HandoffMessage):
            gate = await self._gate_tool(f"transfer_to_{message.target}", {"target": message.target})
            if not gate.approved:
                refusal = f"governed-agents: handoff to {message.target} {gate.decision.explain()}"
                message = TextMessage(content=refusal, source=self.name)
                response = Response(chat_message=message, inner_messages=response.inner_messages)
        gates = self.last_gates + [e.last_gate for e in self._code_tools if e.last_gate is not None]
        if gates:  # the message answers for every call it summarises: a denial among them shows
            shown = next((g for g in gates if not g.approved), gates[-1])
            message.metadata = {**message.metadata, **provenance_metadata(shown, self._turns.now(self._governance))}
        return response

    def _to_config(self) -> GovernedAssistantAgentConfig:
        config = super()._to_config()
        return GovernedAssistantAgentConfig(**config.model_dump(), **GovernorReference.of(self.governor))

    @classmethod
    def _from_config(cls, config: AssistantAgentConfig) -> Self:
        if not isinstance(config, GovernedAssistantAgentConfig):
            config = GovernedAssistantAgentConfig(**config.model_dump())
        token = loading_governor.set(config.governor())
        try:
            return super()._from_config(config)
        finally:
            loading_governor.reset(token)
