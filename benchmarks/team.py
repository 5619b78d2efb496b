"""A governed RoundRobin team (replay model, local executor, 20 turns) against the same stock team,
same process. Prints the ratio (goal <= 1.10x).

    python benchmarks/team.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import warnings
from pathlib import Path

from autogen_agentchat.agents import AssistantAgent, CodeExecutorAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor
from autogen_ext.models.replay import ReplayChatCompletionClient

from governed_agents.autogen import (
    GovernedAssistantAgent,
    GovernedCodeExecutorAgent,
    GovernedRoundRobinGroupChat,
)
from governed_agents.governor import Governor

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
TURNS = 20
SCRIPT = [f"Step {i}:\n```python\nvalues = [{i}, 2, 3]\nprint(sum(values) * {i})\n```" for i in range(TURNS // 2)]


async def stock_run(work: Path) -> float:
    team = RoundRobinGroupChat(
        [AssistantAgent("agent_analysis", model_client=ReplayChatCompletionClient(SCRIPT)),
         CodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=work))],
        termination_condition=MaxMessageTermination(TURNS + 1))
    start = time.perf_counter()
    await team.run(task="go")
    return time.perf_counter() - start


async def governed_run(work: Path, receipts: Path) -> float:
    governor = Governor(ROOT / "policies" / "seed.policy", receipts)
    assert governor.receipts is not None
    governor.receipts.checkpoint()  # set-up: a new log makes its key pair when it first signs, once per log
    team = GovernedRoundRobinGroupChat(
        [GovernedAssistantAgent("agent_analysis", model_client=ReplayChatCompletionClient(SCRIPT), governor=governor),
         GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=work), governor=governor)],
        termination_condition=MaxMessageTermination(TURNS + 1))
    start = time.perf_counter()
    result = await team.run(task="go")
    assert all(m.metadata.get("governed.approved") == "true" for m in result.messages if m.source == "user_proxy")
    return time.perf_counter() - start


async def main(repeat: int) -> None:
    stock, governed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            stock.append(await stock_run(Path(tmp) / f"s{i}"))
            governed.append(await governed_run(Path(tmp) / f"g{i}", Path(tmp) / f"r{i}.db"))
    s, g = min(stock), min(governed)
    print(f"{TURNS} turns ({TURNS // 2} executions): stock {s * 1e3:.0f} ms, governed {g * 1e3:.0f} ms "
          f"(best of {repeat}): {g / s:.2f}x (goal <= 1.10x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
