"""GovernedCodeExecutor on the local runtime: a layer that did not run is said in the result, once;
with every layer the output is the stock executor's."""

from __future__ import annotations

import pytest
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

from governed_agents.autogen import GovernedCodeExecutor
from governed_agents.governor import Governor
from governed_agents.runtime import _run, available_layers
from tests.autogen.conftest import SEED

WITHOUT_BWRAP = "governed-agents: ran without bubblewrap (not installed): network and filesystem isolation off"
BLOCKS = [
    CodeBlock(code="import sys\nprint('one')\nprint('a warning', file=sys.stderr)\n", language="python"),
    CodeBlock(code="print(sum([19, 23]))\n", language="python"),
]


@pytest.fixture
def no_bwrap(monkeypatch):
    monkeypatch.setattr(_run, "bwrap_path", lambda: None)
    monkeypatch.setattr(_run, "available_layers",
                        lambda: {**available_layers(), "bubblewrap": "unavailable: not installed"})


async def stock_output(tmp_path) -> str:
    stock = await LocalCommandLineCodeExecutor(work_dir=tmp_path / "stock").execute_code_blocks(
        BLOCKS, CancellationToken())
    assert stock.exit_code == 0, stock.output
    return stock.output


async def test_with_every_layer_the_output_is_the_stock_executors(tmp_path, governor):
    executor = GovernedCodeExecutor(governor, agent_name="user_proxy", work_dir=tmp_path / "gov")
    result = await executor.execute_code_blocks(BLOCKS, CancellationToken())
    assert (result.exit_code, result.output) == (0, await stock_output(tmp_path))
    assert result.output == "a warning\none\n42\n"


async def test_without_bubblewrap_the_result_says_so_once_then_the_stock_output(tmp_path, no_bwrap):
    governor = Governor(SEED, tmp_path / "receipts.db", require_isolation=False)
    executor = GovernedCodeExecutor(governor, agent_name="user_proxy", work_dir=tmp_path / "gov")
    result = await executor.execute_code_blocks(BLOCKS, CancellationToken())
    assert result.exit_code == 0
    assert result.output == f"{WITHOUT_BWRAP}\n" + await stock_output(tmp_path)


async def test_without_bubblewrap_require_isolation_denies_and_nothing_runs(tmp_path, no_bwrap, governor):
    executor = GovernedCodeExecutor(governor, agent_name="user_proxy", work_dir=tmp_path / "gov")
    result = await executor.execute_code_blocks(BLOCKS, CancellationToken())
    assert result.exit_code != 0
    assert "one" not in result.output and "ran without" not in result.output
    assert "need bubblewrap, which does not run here (not installed;" in result.output


async def test_a_busy_loop_past_max_cpu_time_is_explained_in_the_result(tmp_path):
    policy = tmp_path / "cpu.policy"
    policy.write_text('agent "worker" {\n    can "code_execution" with constraints {\n'
                      '        max_cpu_time: 1_seconds,\n        max_execution_time: 30_seconds\n    }\n}\n')
    executor = GovernedCodeExecutor(Governor(policy, tmp_path / "receipts.db"), agent_name="worker",
                                    work_dir=tmp_path / "gov")
    result = await executor.execute_code_blocks([CodeBlock(code="while True:\n    pass\n", language="python"),
                                                 CodeBlock(code="print('never')\n", language="python")],
                                                CancellationToken())
    assert executor.last_gate is not None and executor.last_gate.approved
    assert result.exit_code == 152
    assert result.output == "\ngoverned-agents: stopped: cpu limit (max_cpu_time 1 s)\nstopped: cpu limit"
