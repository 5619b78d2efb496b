"""A governed RoundRobin team (replay model, local executor, 20 turns) against the same stock team,
same process. Prints the ratio (goal <= 1.10x).

    python benchmarks/team.py [--repeat N] [--breakdown] [--long]

``--long``: each step's block is 73 lines of plain Python (loops, dicts, prints) instead of two, as
a model's analysis step might be: its analysis is no longer negligible beside the run.

``--breakdown`` also says where each execution's time goes (medians over every execution of every
repeat): the stock executor against the governed sandbox's run (``run_code``, from its start to its
report), the gate's work before the sandbox starts, the execution receipt after it, and the rest of
the turn (AutoGen's own work, the same for both). The timers wrap those calls, so the team figures of
a ``--breakdown`` run are a little higher than without it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
_STEP = """rows = [{{'region': r, 'price': p, 'quantity': q}} for r, p, q in [('n', 3.0, {i}), ('s', 4.5, 2), ('e', 1.0, 7)]]
totals = {{}}
for row in rows:
    totals[row['region']] = totals.get(row['region'], 0) + row['price'] * row['quantity']
for region, total in sorted(totals.items()):
    if total > 10:
        print(region, round(total, 2))
    else:
        print(region, 'small')
values = [1, 2, 3, {i}]
mean = sum(values) / len(values)
print(mean, max(values) - min(values))
"""
LONG_SCRIPT = [f"Step {i}:\n```python\n" + "\n".join(_STEP.format(i=i * 10 + k) for k in range(6)) + "```"
               for i in range(TURNS // 2)]


async def stock_run(work: Path, script: list[str] = SCRIPT) -> float:
    team = RoundRobinGroupChat(
        [AssistantAgent("agent_analysis", model_client=ReplayChatCompletionClient(script)),
         CodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=work))],
        termination_condition=MaxMessageTermination(TURNS + 1))
    start = time.perf_counter()
    await team.run(task="go")
    return time.perf_counter() - start


async def governed_run(work: Path, receipts: Path, script: list[str] = SCRIPT) -> float:
    governor = Governor(ROOT / "policies" / "seed.policy", receipts)
    assert governor.receipts is not None
    governor.receipts.checkpoint()  # set-up: a new log makes its key pair when it first signs, once per log
    team = GovernedRoundRobinGroupChat(
        [GovernedAssistantAgent("agent_analysis", model_client=ReplayChatCompletionClient(script), governor=governor),
         GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=work), governor=governor)],
        termination_condition=MaxMessageTermination(TURNS + 1))
    start = time.perf_counter()
    result = await team.run(task="go")
    assert all(m.metadata.get("governed.approved") == "true" for m in result.messages if m.source == "user_proxy")
    return time.perf_counter() - start


async def main(repeat: int, breakdown: bool, script: list[str]) -> None:
    spans = _timers() if breakdown else None
    stock, governed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            stock.append(await stock_run(Path(tmp) / f"s{i}", script))
            governed.append(await governed_run(Path(tmp) / f"g{i}", Path(tmp) / f"r{i}.db", script))
    s, g = min(stock), min(governed)
    print(f"{TURNS} turns ({TURNS // 2} executions): stock {s * 1e3:.0f} ms, governed {g * 1e3:.0f} ms "
          f"(best of {repeat}): {g / s:.2f}x (goal <= 1.10x)")
    # each governed team ran right after its stock one: under a load that drifts, their ratio pair by pair
    # says more than two minima taken at different moments
    paired = sorted(b / a for a, b in zip(stock, governed, strict=True))
    print(f"  governed/stock run by run: median {statistics.median(paired):.2f}x "
          f"(from {paired[0]:.2f}x to {paired[-1]:.2f}x)")
    if spans is not None:
        _report(spans, stock, governed)


def _timers() -> dict[str, list[float]]:
    """Wrap the calls each execution passes through with timers (durations in seconds)."""
    import governed_agents.runtime

    spans: dict[str, list[float]] = defaultdict(list)

    def timed(owner: Any, name: str, label: str) -> None:
        call: Callable[..., Any] = getattr(owner, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                spans[label].append(time.perf_counter() - start)

        setattr(owner, name, wrapper)

    timed(LocalCommandLineCodeExecutor, "execute_code_blocks", "stock executor")
    timed(Governor, "execute", "governed execute")
    timed(Governor, "record_execution", "execution receipt")
    run_code = governed_agents.runtime.run_code

    async def sandbox(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        hold = kwargs.get("hold")
        if hold is not None:
            async def answered() -> Any:
                answer = await hold
                spans["decision recorded"].append(time.perf_counter() - start)
                return answer

            kwargs["hold"] = answered()
        spans["gate before the sandbox"].append(start - entered[-1])
        try:
            return await run_code(*args, **kwargs)
        finally:
            spans["sandbox run"].append(time.perf_counter() - start)

    entered: list[float] = []
    execute = Governor.execute

    async def entering(*args: Any, **kwargs: Any) -> Any:
        entered.append(time.perf_counter())
        return await execute(*args, **kwargs)

    Governor.execute = entering  # type: ignore[method-assign]
    governed_agents.runtime.run_code = sandbox
    return spans


def _report(spans: dict[str, list[float]], stock: list[float], governed: list[float]) -> None:
    def ms(label: str) -> float:
        return statistics.median(spans[label]) * 1e3 if spans[label] else 0.0

    def rest(totals: list[float], label: str) -> float:  # the turn outside the executor, mean per execution
        return (sum(totals) - sum(spans[label])) * 1e3 / len(spans[label])

    print(f"per execution, medians of {len(spans['stock executor'])}:\n"
          f"  stock executor {ms('stock executor'):.1f} ms (write the file, start python, run)\n"
          f"  governed execute {ms('governed execute'):.1f} ms: the gate before the sandbox starts "
          f"{ms('gate before the sandbox'):.2f} ms, the sandbox's run {ms('sandbox run'):.1f} ms (the decision "
          f"recorded {ms('decision recorded'):.1f} ms after it started), the execution receipt "
          f"{ms('execution receipt'):.2f} ms\n"
          f"  the rest of each turn pair (AutoGen, the assistant), mean: stock {rest(stock, 'stock executor'):.1f} ms, "
          f"governed {rest(governed, 'governed execute'):.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--long", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.repeat, arguments.breakdown, LONG_SCRIPT if arguments.long else SCRIPT))
