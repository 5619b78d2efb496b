"""Tool calls are gated where AutoGen runs them, without touching the user's workbenches.

``AssistantAgent._execute_tool_call`` is a static method that knows only the agent's name, but it
is handed the agent's own ``_workbench`` list. The governed assistant keeps that list's items —
the very ``StaticWorkbench``/``McpWorkbench`` objects the user passed (``agent._workbench[0] is
workbench``) — in a list that also carries the agent's gate (:class:`GatedWorkbenches`), and
overrides ``_execute_tool_call``: each call is gated by tool name and arguments first; a denied
call returns an error result with the reason and nothing runs; an approved call goes on through
the stock method, so the workbench is called exactly as stock calls it (keywords, the same
cancellation token, ``call_tool_stream`` for stream workbenches, concurrent calls concurrent).
A wrapper was the alternative: it replaced the user's object (``isinstance(…, McpWorkbench)``
failed) and had to re-implement every workbench method. Handoffs are not workbench calls: the
governed assistant gates them where the handoff message is produced.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult
from autogen_core.tools import BaseTool, Workbench

from governed_agents.governor import GateResult

__all__ = ["Gate", "GatedWorkbenches", "execute_gated_tool_call"]

Gate = Callable[[str, Mapping[str, Any]], Awaitable[GateResult]]  # (tool name, arguments) -> GateResult


class GatedWorkbenches(list[Workbench]):
    """The agent's workbenches, unchanged, and the gate every call through them passes first."""

    def __init__(self, workbenches: Iterable[Workbench], gate: Gate) -> None:
        super().__init__(workbenches)
        self.gate = gate


async def execute_gated_tool_call(
    stock: Callable[..., Awaitable[tuple[FunctionCall, FunctionExecutionResult]]],
    tool_call: FunctionCall,
    workbench: Any,
    handoff_tools: list[BaseTool[Any, Any]],
    agent_name: str,
    cancellation_token: CancellationToken,
    stream: Any,
) -> tuple[FunctionCall, FunctionExecutionResult]:
    """The gate, then AutoGen's own ``_execute_tool_call`` (``stock``)."""
    if any(tool_call.name == tool.name for tool in handoff_tools):
        return await stock(tool_call=tool_call, workbench=workbench, handoff_tools=handoff_tools,
                           agent_name=agent_name, cancellation_token=cancellation_token, stream=stream)
    if not isinstance(workbench, GatedWorkbenches):  # the agent's list was replaced after construction
        text = (f"governed-agents: tool call {tool_call.name} denied: {agent_name}'s workbenches are not the "
                "gated list it was built with (was _workbench reassigned?), so the call cannot be gated")
        return tool_call, FunctionExecutionResult(content=text, call_id=tool_call.id, is_error=True,
                                                  name=tool_call.name)
    try:
        arguments = json.loads(tool_call.arguments)
    except json.JSONDecodeError:
        arguments = None  # the stock method answers with the parse error and runs nothing
    if isinstance(arguments, dict):
        gate = await workbench.gate(tool_call.name, arguments)
        if not gate.approved:
            text = f"governed-agents: tool call {tool_call.name} {gate.decision.explain()}"
            return tool_call, FunctionExecutionResult(content=text, call_id=tool_call.id, is_error=True,
                                                      name=tool_call.name)
    elif arguments is not None:  # valid JSON but no object of arguments: nothing to gate by, so refused
        text = f"governed-agents: tool call {tool_call.name} denied: its arguments are not a JSON object"
        return tool_call, FunctionExecutionResult(content=text, call_id=tool_call.id, is_error=True,
                                                  name=tool_call.name)
    return await stock(tool_call=tool_call, workbench=workbench, handoff_tools=handoff_tools,
                       agent_name=agent_name, cancellation_token=cancellation_token, stream=stream)
