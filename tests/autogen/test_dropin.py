"""Drop-in details AutoGen's own tests rely on: stock configurations, workbenches as given, state."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent, CodeExecutorAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken
from autogen_core.tools import FunctionTool, StaticWorkbench, ToolResult
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

from governed_agents import (
    GovernanceConfigError,
    GovernedAssistantAgent,
    GovernedCodeExecutorAgent,
    GovernedRoundRobinGroupChat,
    Governor,
)
from tests.autogen.conftest import SEED, replay, tool_call

TOOLS_POLICY = """agent "helper" {
    can "tool_use" with constraints { allowed_tools: ["add", "wait_for_the_other"] }
}
"""

ran: list[str] = []


def add(a: int, b: int) -> int:
    ran.append("add")
    return a + b


def wipe(path: str) -> str:
    ran.append("wipe")
    return "wiped"


@pytest.fixture
def tools_governor(tmp_path) -> Governor:
    policy = tmp_path / "tools.policy"
    policy.write_text(TOOLS_POLICY)
    return Governor(policy, tmp_path / "receipts.db")


# -- configurations --------------------------------------------------------------------------


def stock_team_config(tmp_path):
    analyst = AssistantAgent("agent_analysis", model_client=replay("```python\nimport os\nos.remove('x')\n```"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        executor = CodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=tmp_path / "work"))
    return RoundRobinGroupChat([analyst, executor], termination_condition=MaxMessageTermination(3)).dump_component()


async def test_a_stock_team_config_loads_governed_with_the_environments_governor(tmp_path, monkeypatch):
    config = stock_team_config(tmp_path)
    assert config.provider == "autogen_agentchat.teams.RoundRobinGroupChat"
    monkeypatch.setenv("GOVERNED_AGENTS_POLICY", str(SEED))
    monkeypatch.setenv("GOVERNED_AGENTS_RECEIPTS", str(tmp_path / "env.db"))

    team = GovernedRoundRobinGroupChat.load_component(config)

    assert isinstance(team, GovernedRoundRobinGroupChat)
    analyst, executor = team._participants
    assert isinstance(analyst, GovernedAssistantAgent) and isinstance(executor, GovernedCodeExecutorAgent)
    assert analyst.governor is executor.governor and analyst.governor.policy.source == str(SEED)
    result = await team.run(task="tidy up")
    assert result.messages[-1].metadata["governed.approved"] == "false"  # the seed's user_proxy: no os
    receipts = [r for r in executor.governor.receipts.receipts() if not r.is_execution]
    assert [(r.executor_agent, r.suggester_agent, r.outcome) for r in receipts] == [
        ("user_proxy", "agent_analysis", "denied")]


def test_a_stock_agent_config_loads_into_the_governed_class(tmp_path, monkeypatch):
    config = AssistantAgent("agent_analysis", model_client=replay("hi"), system_message="be brief").dump_component()
    assert config.provider == "autogen_agentchat.agents.AssistantAgent"
    monkeypatch.setenv("GOVERNED_AGENTS_POLICY", str(SEED))
    monkeypatch.setenv("GOVERNED_AGENTS_RECEIPTS", str(tmp_path / "env.db"))
    agent = GovernedAssistantAgent.load_component(config)
    assert type(agent) is GovernedAssistantAgent
    assert GovernedAssistantAgent.load_component(agent.dump_component()).governor.policy.source == str(SEED)


def test_a_stock_config_without_a_governor_in_the_environment_is_refused_clearly(tmp_path, monkeypatch):
    config = stock_team_config(tmp_path)
    monkeypatch.delenv("GOVERNED_AGENTS_POLICY", raising=False)
    with pytest.raises(GovernanceConfigError, match="GOVERNED_AGENTS_POLICY"):
        GovernedRoundRobinGroupChat.load_component(config)


# -- workbenches -----------------------------------------------------------------------------


class KeywordWorkbench(StaticWorkbench):
    """A workbench that takes AutoGen's keyword call only (as some MCP-style workbenches do)."""

    async def call_tool(self, name: str, **kwargs: Any) -> ToolResult:  # type: ignore[override]
        assert isinstance(kwargs["cancellation_token"], CancellationToken)
        return await super().call_tool(name, kwargs["arguments"], kwargs["cancellation_token"], kwargs["call_id"])


async def test_the_users_workbench_is_kept_and_called_as_stock_calls_it(tools_governor):
    ran.clear()
    workbench = KeywordWorkbench([FunctionTool(add, description="add"), FunctionTool(wipe, description="wipe")])
    agent = GovernedAssistantAgent(
        "helper", governor=tools_governor, workbench=workbench,
        model_client=replay(tool_call("add", '{"a": 2, "b": 3}'), tool_call("wipe", '{"path": "/"}', "call_2"),
                            "done"))

    assert agent._workbench[0] is workbench
    first = await agent.run(task="add")
    second = await agent.run(task="wipe")

    assert "5" in first.messages[-1].to_text() and first.messages[-1].metadata["governed.approved"] == "true"
    assert "denied" in second.messages[-1].to_text() and ran == ["add"]  # wipe never ran
    outcomes = [(r.action, r.outcome) for r in tools_governor.receipts.receipts() if not r.is_execution]
    assert outcomes == [("tool_use", "approved"), ("tool_use", "denied")]


async def test_concurrent_tool_calls_run_concurrently(tools_governor):
    started: list[str] = []
    both = asyncio.Event()

    async def wait_for_the_other(who: str) -> str:
        started.append(who)
        if len(started) == 2:
            both.set()
        await both.wait()  # a call that waits for the other hangs when calls are serialised
        return f"{who} met the other"

    calls = tool_call("wait_for_the_other", '{"who": "a"}', "c1")
    calls.content.append(tool_call("wait_for_the_other", '{"who": "b"}', "c2").content[0])  # type: ignore[union-attr]
    model = replay(calls, "done")
    agent = GovernedAssistantAgent("helper", model_client=model, governor=tools_governor,
                                   workbench=StaticWorkbench([FunctionTool(wait_for_the_other, description="w")]))
    result = await asyncio.wait_for(agent.run(task="meet"), timeout=120)  # a hang guard, not a timing check
    assert sorted(started) == ["a", "b"] and "a met the other" in result.messages[-1].to_text()


async def test_a_reassigned_workbench_list_is_refused_not_run_ungated(tools_governor):
    ran.clear()
    agent = GovernedAssistantAgent("helper", model_client=replay(tool_call("add", '{"a": 1, "b": 1}'), "done"),
                                   governor=tools_governor, tools=[add])
    agent._workbench = list(agent._workbench)  # someone bypasses the gated list
    result = await agent.run(task="add")
    assert ran == [] and "cannot be gated" in result.messages[-1].to_text()


# -- state -----------------------------------------------------------------------------------


async def test_a_restored_team_goes_on_numbering_turns(tmp_path, governor):
    def team() -> GovernedRoundRobinGroupChat:
        analyst = GovernedAssistantAgent("agent_analysis", model_client=replay(*["```python\nprint(1)\n```"] * 4),
                                         governor=governor)
        executor = GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=tmp_path),
                                             governor=governor)
        return GovernedRoundRobinGroupChat([analyst, executor], termination_condition=MaxMessageTermination(3))

    first = team()
    await first.run(task="one")
    saved = await first.save_state()
    restored = team()
    await restored.load_state(saved)
    await restored.run(task="two")

    turns = [r.conversation_context.turn_number for r in governor.receipts.receipts() if not r.is_execution]
    assert turns == [2, 4]  # the restored team's first execution is turn 4, not turn 2 again


async def test_a_governed_agent_alone_keeps_its_turn_count_across_save_and_load(tmp_path, governor):
    def agent() -> GovernedCodeExecutorAgent:
        return GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=tmp_path),
                                         governor=governor)

    first = agent()
    await first.run(task="```python\nprint(1)\n```")
    restored = agent()
    await restored.load_state(await first.save_state())
    await restored.run(task="```python\nprint(2)\n```")
    turns = [r.conversation_context.turn_number for r in governor.receipts.receipts() if not r.is_execution]
    assert turns[1] > turns[0]


# -- the stock executor's warning ------------------------------------------------------------


async def test_the_replaced_local_executors_warning_is_not_shown(tmp_path, governor):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # over pyproject's and conftest's filters
        agent = GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=tmp_path),
                                          governor=governor)
        reply = await agent.run(task="```python\nprint('hi')\n```")
    assert reply.messages[-1].to_text().strip() == "hi"
    assert not [w for w in caught if "may execute code on the local machine" in str(w.message)]


async def test_a_stock_local_executor_still_warns_before_it_runs_code(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
        agent = CodeExecutorAgent("stock", executor)
        await agent.run(task="```python\nprint('hi')\n```")
        await agent.run(task="```python\nprint('again')\n```")
    shown = [w for w in caught if "may execute code on the local machine" in str(w.message)]
    assert len(shown) == 1 and shown[0].category is UserWarning
