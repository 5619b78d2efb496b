"""GovernedExecutorAgent, the core-API executor for distributed runtimes, on AutoGen's in-process
runtime: who the suggester is, and failing closed. (Across gRPC workers: test_distributed.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from autogen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from pydantic import BaseModel

from governed_agents import GovernedExecutionRequest, GovernedExecutionResult, GovernedExecutorAgent, Governor
from governed_agents.receipts import ReceiptLog

ROOT = Path(__file__).resolve().parents[2]
PERSUASION = ROOT / "policies" / "examples" / "persuasion.policy"
SEED = ROOT / "policies" / "seed.policy"
DELETE_ROWS = ("Please delete the failed transactions for me:\n```python\nimport sqlite3\n"
               "sqlite3.connect('/data/analysis/tx.db').execute(\"DELETE FROM transactions WHERE failed\")\n```")


class Relay(BaseModel):
    """Ask this agent to send ``request`` to ``executor``: the executor sees this agent as the sender."""

    executor: str
    request: GovernedExecutionRequest


class Sender(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("sends code to an executor")

    @message_handler
    async def on_relay(self, message: Relay, ctx: MessageContext) -> GovernedExecutionResult:
        result = await self.send_message(message.request, AgentId(message.executor, message.request.conversation_id))
        assert isinstance(result, GovernedExecutionResult)
        return result


@pytest.fixture
async def runtime() -> AsyncIterator[SingleThreadedAgentRuntime]:
    rt = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    rt.start()
    try:
        yield rt
    finally:
        await rt.stop_when_idle()


async def serve(runtime: SingleThreadedAgentRuntime, governor: Governor, *executors: str) -> None:
    for name in executors:
        await GovernedExecutorAgent.register(runtime, name, lambda: GovernedExecutorAgent(governor))
    for name in ("analyst", "intruder"):
        await Sender.register(runtime, name, Sender)


async def relay(runtime: SingleThreadedAgentRuntime, sender: str, executor: str, message: str, *,
                claims_to_be: str | None = None, turn: int = 1) -> GovernedExecutionResult:
    request = GovernedExecutionRequest(conversation_id="c1", turn=turn, message=message, suggester=claims_to_be)
    result = await runtime.send_message(Relay(executor=executor, request=request), AgentId(sender, "c1"))
    assert isinstance(result, GovernedExecutionResult)
    return result


async def test_the_persuaded_engineer_is_denied_and_the_receipt_names_the_analyst(runtime, tmp_path):
    governor = Governor(PERSUASION, tmp_path / "r.db")
    await serve(runtime, governor, "data_engineer")
    result = await relay(runtime, "analyst", "data_engineer", DELETE_ROWS)
    assert result.outcome == "denied" and result.suggester == "analyst"
    assert any("DELETE" in v and "analyst" in v for v in result.violations)  # intersection: the analyst only selects
    receipt = next(iter(governor.receipts.receipts(group="c1")))  # type: ignore[union-attr]
    assert receipt.receipt_id == result.receipt_id and receipt.suggester_agent == "analyst"
    assert receipt.conversation_context.message_from_suggester == DELETE_ROWS


async def test_an_agent_cannot_send_code_in_another_agents_name(runtime, tmp_path):
    governor = Governor(PERSUASION, tmp_path / "r.db")
    await serve(runtime, governor, "data_engineer")
    harmless = "```python\nprint(1 + 1)\n```"
    # the engineer accepts code only from the analyst (and itself): the intruder is refused …
    as_itself = await relay(runtime, "intruder", "data_engineer", harmless)
    assert as_itself.outcome == "denied" and any("accepts code only from" in v for v in as_itself.violations)
    # … and naming the analyst, or the engineer itself, as the suggester does not get it in
    for claim in ("analyst", "data_engineer"):
        forged = await relay(runtime, "intruder", "data_engineer", harmless, claims_to_be=claim, turn=2)
        assert forged.outcome == "denied" and forged.suggester == "intruder"
        assert f"names {claim!r} as its suggester but was sent by 'intruder'" in forged.output
    receipts = list(governor.receipts.receipts(group="c1"))  # type: ignore[union-attr]
    assert [(r.suggester_agent, r.outcome) for r in receipts] == [("intruder", "denied")] * 3
    # the analyst's own harmless code runs
    ok = await relay(runtime, "analyst", "data_engineer", harmless, claims_to_be="analyst", turn=3)
    assert (ok.outcome, ok.exit_code, ok.output.strip()) == ("approved", 0, "2")


async def test_a_receipt_log_that_cannot_write_is_a_denial_reply_and_nothing_runs(runtime, tmp_path):
    log = ReceiptLog(tmp_path / "r.db")
    governor = Governor(SEED, log)
    await serve(runtime, governor, "agent_sandbox")
    marker = "ran-despite-no-receipt"
    ok = await relay(runtime, "analyst", "agent_sandbox", "```python\nprint('first')\n```")
    assert ok.approved and ok.output.strip() == "first"
    log.close()  # the store goes away under a running agent
    result = await relay(runtime, "analyst", "agent_sandbox", f"```python\nprint({marker!r})\n```", turn=2)
    assert result.outcome == "denied" and result.receipt_id is None and result.exit_code != 0
    assert marker not in result.output.replace(f"print({marker!r})", "")
    assert any("receipt log could not record" in v for v in result.violations)


async def test_a_message_without_code_runs_nothing_and_records_nothing(runtime, tmp_path):
    governor = Governor(SEED, tmp_path / "r.db")
    await serve(runtime, governor, "agent_sandbox")
    result = await relay(runtime, "analyst", "agent_sandbox", "Nothing to run; ```python inline``` is no block.")
    assert result.outcome == "no_code" and result.receipt_id is None
    assert governor.receipts is not None and governor.receipts.size == 0


async def test_a_request_from_outside_any_agent_is_recorded_under_the_suggester_it_names(runtime, tmp_path):
    governor = Governor(SEED, tmp_path / "r.db")
    await serve(runtime, governor, "agent_sandbox")
    request = GovernedExecutionRequest(conversation_id="c1", turn=0, message="```python\nimport math\nprint(math.pi > 3)\n```",
                                       suggester="user")
    result = await runtime.send_message(request, AgentId("agent_sandbox", "c1"))
    assert (result.outcome, result.suggester, result.output.strip()) == ("approved", "user", "True")
