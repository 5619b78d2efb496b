"""Tool calls are gated at a seam that knows the agent: its workbenches and handoff tools.

``AssistantAgent._execute_tool_call`` is a static method that only knows the agent's name, so the
governed assistant wraps each of its workbenches per instance. A denied call returns an error
result with the reason to the model; nothing runs. (Handoffs bypass workbenches: the governed
assistant gates them where the handoff message is produced.)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from autogen_core import CancellationToken
from autogen_core.tools import StaticStreamWorkbench, TextResultContent, ToolResult, Workbench

from governed_agents.governor import GateResult

__all__ = ["GovernedStreamWorkbench", "GovernedWorkbench", "denied_result"]

Gate = Callable[[str, Mapping[str, Any]], Any]  # async (tool name, arguments) -> GateResult


def denied_result(name: str, gate: GateResult) -> ToolResult:
    text = f"governed-agents: tool call {name} {gate.decision.explain()}"
    return ToolResult(name=name, result=[TextResultContent(content=text)], is_error=True)


class GovernedStreamWorkbench(StaticStreamWorkbench):
    """A StaticStreamWorkbench (AutoGen's default for ``tools=[…]``) that gates each call."""

    def __init__(self, inner: StaticStreamWorkbench, gate: Gate) -> None:
        super().__init__(inner._tools)
        self.inner = inner
        self._gate = gate

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None,
                        cancellation_token: CancellationToken | None = None, call_id: str | None = None) -> ToolResult:
        gate = await self._gate(name, arguments or {})
        if not gate.approved:
            return denied_result(name, gate)
        return await super().call_tool(name, arguments, cancellation_token, call_id)

    async def call_tool_stream(self, name: str, arguments: Mapping[str, Any] | None = None,
                               cancellation_token: CancellationToken | None = None,
                               call_id: str | None = None) -> AsyncGenerator[Any, None]:
        gate = await self._gate(name, arguments or {})
        if not gate.approved:
            yield denied_result(name, gate)
            return
        async for event in super().call_tool_stream(name, arguments, cancellation_token, call_id):
            yield event

    def _to_config(self) -> Any:
        return self.inner._to_config()


class GovernedWorkbench(Workbench):
    """Any other workbench (MCP, custom): list its tools, gate each call, then delegate."""

    component_type = "workbench"

    def __init__(self, inner: Workbench, gate: Gate) -> None:
        self.inner = inner
        self._gate = gate

    async def list_tools(self) -> Any:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None,
                        cancellation_token: CancellationToken | None = None, call_id: str | None = None) -> ToolResult:
        gate = await self._gate(name, arguments or {})
        if not gate.approved:
            return denied_result(name, gate)
        return await self.inner.call_tool(name, arguments, cancellation_token, call_id)

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def reset(self) -> None:
        await self.inner.reset()

    async def save_state(self) -> Mapping[str, Any]:
        return await self.inner.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await self.inner.load_state(state)

    def dump_component(self) -> Any:
        return self.inner.dump_component()

    def _to_config(self) -> Any:
        return self.inner._to_config()
