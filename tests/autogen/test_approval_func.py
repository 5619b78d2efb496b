"""approval_func is honoured exactly as stock, after the policy, and its answer is receipted."""

from __future__ import annotations

import pytest
from autogen_agentchat.agents import ApprovalRequest, ApprovalResponse
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

from governed_agents import GovernedCodeExecutorAgent, Governor

POLICY = """agent "ops" {
    can "code_execution" with constraints {
        allowed_imports: ["pathlib"],
        disallowed_imports: ["os"],
        allowed_file_operations: ["read", "write"],
        allowed_file_paths: ["WORK"]
    }
}
"""


@pytest.fixture
def governor(tmp_path) -> Governor:
    policy = tmp_path / "ops.policy"
    policy.write_text(POLICY.replace("WORK", str(tmp_path)))
    return Governor(policy, tmp_path / "receipts.db")


def write_block(tmp_path) -> CodeBlock:
    return CodeBlock(code=f"import pathlib\npathlib.Path('{tmp_path}/made.txt').write_text('x')\nprint('wrote')",
                     language="python")


async def test_a_refusing_approval_func_stops_code_the_policy_allows(tmp_path, governor):
    asked: list[ApprovalRequest] = []

    def reviewer(request: ApprovalRequest) -> ApprovalResponse:
        asked.append(request)
        return ApprovalResponse(approved=False, reason="not on a Friday")

    agent = GovernedCodeExecutorAgent("ops", LocalCommandLineCodeExecutor(work_dir=tmp_path), governor=governor,
                                      approval_func=reviewer)
    result = await agent.execute_code_block([write_block(tmp_path)], CancellationToken())

    assert result.exit_code == 1 and result.output == "Code execution was not approved. Reason: not on a Friday"
    assert not (tmp_path / "made.txt").exists()
    assert len(asked) == 1 and asked[0].code.startswith("```python\nimport pathlib")  # the stock request
    [receipt] = [r for r in governor.receipts.receipts() if not r.is_execution]
    assert receipt.outcome == "denied" and receipt.approver == "approval_func:reviewer"
    assert any("not on a Friday" in v["message"] for v in receipt.violations)


async def test_an_approving_approval_func_lets_the_code_run_and_is_the_receipts_approver(tmp_path, governor):
    async def reviewer(request: ApprovalRequest) -> ApprovalResponse:
        return ApprovalResponse(approved=True, reason="reviewed")

    agent = GovernedCodeExecutorAgent("ops", LocalCommandLineCodeExecutor(work_dir=tmp_path), governor=governor,
                                      approval_func=reviewer)
    code = f"```python\n{write_block(tmp_path).code}\n```"
    reply = await agent.on_messages([TextMessage(content=code, source="planner")], CancellationToken())

    assert reply.chat_message.content.strip() == "wrote" and (tmp_path / "made.txt").exists()
    [receipt] = [r for r in governor.receipts.receipts() if not r.is_execution]
    assert receipt.outcome == "approved" and receipt.approver == "approval_func:reviewer (reviewed)"
    assert reply.chat_message.metadata["governed.receipt_id"] == receipt.receipt_id
    [run] = [r for r in governor.receipts.receipts() if r.is_execution]
    assert run.execution is not None and run.execution.receipt_id == receipt.receipt_id


async def test_a_policy_denial_never_reaches_the_approval_func(tmp_path, governor):
    asked: list[ApprovalRequest] = []

    def rubber_stamp(request: ApprovalRequest) -> ApprovalResponse:
        asked.append(request)
        return ApprovalResponse(approved=True, reason="yes to everything")

    agent = GovernedCodeExecutorAgent("ops", LocalCommandLineCodeExecutor(work_dir=tmp_path), governor=governor,
                                      approval_func=rubber_stamp)
    block = CodeBlock(code=f"import os\nos.remove('{tmp_path}/receipts.db')", language="python")
    result = await agent.execute_code_block([block], CancellationToken())

    assert result.exit_code == 1 and "disallowed_imports" in result.output
    assert asked == [] and (tmp_path / "receipts.db").exists()
    [receipt] = [r for r in governor.receipts.receipts() if not r.is_execution]
    assert receipt.outcome == "denied" and receipt.approver is None


def test_dump_component_refuses_an_agent_with_an_approval_func_as_stock_does(tmp_path, governor):
    agent = GovernedCodeExecutorAgent("ops", LocalCommandLineCodeExecutor(work_dir=tmp_path), governor=governor,
                                      approval_func=lambda request: ApprovalResponse(approved=True, reason=""))
    with pytest.raises(ValueError, match="Cannot serialize CodeExecutorAgent with approval_func set"):
        agent.dump_component()
