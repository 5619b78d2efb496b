"""Governor.execute on the local runtime: the sandbox starts before the code is judged and waits,
held, until the decision is approved and its receipt is in the log; anything else kills it before a
line of the code runs."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import governed_agents.runtime
from governed_agents.governor import Governor
from governed_agents.policy import RuntimeLimits, parse_policy
from governed_agents.receipts import ReceiptLog
from governed_agents.runtime import available_layers

ROOT = Path(__file__).resolve().parents[1]
POLICY = """agent "reader" {{ can "code_execution" with constraints {{
    allowed_file_operations: ["read"], max_execution_time: 30_seconds }} }}
agent "asker" {{ can "code_execution" with constraints {{
    allowed_file_operations: ["read", "write"], allowed_file_paths: ["{work}"],
    requires_approval: ["file_write"], max_execution_time: 30_seconds }} }}
agent "writer" {{ can "code_execution" with constraints {{
    allowed_file_operations: ["read", "write"], allowed_file_paths: ["{work}"], max_execution_time: 30_seconds }} }}
"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def governor(tmp_path: Path, work: Path) -> Governor:
    return Governor(parse_policy(POLICY.format(work=work)), tmp_path / "receipts.db")


@pytest.fixture
def runs(monkeypatch):
    """Every run_code call the governor makes: (whether it was held, its report)."""
    seen: list[tuple[bool, object]] = []
    real = governed_agents.runtime.run_code

    async def spy(*args, **kwargs):
        report = await real(*args, **kwargs)
        seen.append((kwargs.get("hold") is not None, report))
        return report

    monkeypatch.setattr(governed_agents.runtime, "run_code", spy)
    return seen


async def test_a_denied_block_is_never_run_by_the_sandbox_started_before_its_analysis(governor, work, runs):
    code = "open('ran.txt', 'w').write('x')\n"  # the work dir is writable inside: were it let go, the file would be there
    execution = await governor.execute([("python", code)], executor="reader", work_dir=work)
    assert not execution.ran and execution.exit_code != 0
    assert "allowed_file_operations" in execution.output
    assert not (work / "ran.txt").exists()
    [(held, report)] = runs  # started before the analysis had finished, and killed while it waited
    assert held and "withdrawn" in report.stderr  # type: ignore[attr-defined]
    assert [(r.outcome, r.is_execution) for r in governor.receipts.receipts()] == [("denied", False)]


async def test_the_code_runs_once_its_decision_is_in_the_log(tmp_path, work, runs):
    # a slow log: the sandbox is ready long before the receipt is, and its first line runs after the
    # decision was committed (the host's clock is the sandbox's)
    committed: list[float] = []

    class Slow(ReceiptLog):
        async def aappend(self, receipt):
            await asyncio.sleep(0.5)
            appended = await super().aappend(receipt)
            committed.append(time.time())
            return appended

    governor = Governor(parse_policy(POLICY.format(work=work)), Slow(tmp_path / "receipts.db"))
    execution = await governor.execute([("python", "import time\nprint(time.time())\n")], executor="reader",
                                       work_dir=work)
    assert execution.ran, execution.output
    [(held, _)] = runs
    assert held
    assert float(execution.output) >= committed[0]
    assert [(r.outcome, r.is_execution) for r in governor.receipts.receipts()] == [("approved", False),
                                                                                  ("executed", True)]


TOUCH_THE_LOG = "".join(f"""try:
    open({{directory!r}} + '/{name}', '{mode}').close()
    print('{name}', '{mode}', 'done')
except OSError as exc:
    print('{name}', '{mode}', type(exc).__name__)
""" for name in ("receipts.db", "receipts.db-wal", "receipts.db.key") for mode in ("rb", "ab"))


@pytest.fixture
def outside_tmp():
    """A directory the sandbox's root shows (its /tmp is a private tmpfs): under /var/tmp, removed after."""
    path = Path(tempfile.mkdtemp(prefix="governed-test-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("inside", [False, True], ids=["beside the work dir", "in the work dir"])
async def test_the_code_can_neither_read_nor_change_the_receipt_log_or_its_key(outside_tmp, inside):
    # agent_admin may read and write anywhere ("/"), and the work dir is always writable
    work = outside_tmp / "work"
    work.mkdir()
    logs = work if inside else outside_tmp
    governor = Governor(ROOT / "policies" / "seed.policy", logs / "receipts.db")
    assert (await governor.execute([("python", "print(1)\n")], executor="agent_admin", work_dir=work)).ran
    execution = await governor.execute([("python", TOUCH_THE_LOG.format(directory=str(logs)))],
                                       executor="agent_admin", work_dir=work)
    assert execution.ran, execution.output
    assert [line.split()[-1] for line in execution.output.splitlines()] == ["PermissionError"] * 6, execution.output
    assert governor.receipts.verify().ok
    assert len(list(governor.receipts.receipts())) == 4


async def test_a_block_needing_approval_runs_once_approved_and_only_then(governor, work, runs):
    asked = []

    async def approve(decision):
        asked.append(decision.outcome)
        return True, "reviewer", "fine"

    code = "open('out.txt', 'a').write('x')\nprint('wrote')\n"
    execution = await governor.execute([("python", code)], executor="asker", work_dir=work, approval_handler=approve)
    assert execution.ran and execution.output.strip() == "wrote" and asked == ["needs_approval"]
    assert (work / "out.txt").read_text() == "x"  # once: the sandbox started early never ran it
    assert [held for held, _ in runs] == [True, False]
    assert [(r.outcome, r.approver) for r in governor.receipts.receipts()] == [
        ("needs_approval", None), ("approved", "reviewer"), ("executed", "reviewer")]


async def test_a_refused_approval_runs_nothing(governor, work, runs):
    async def refuse(decision):
        return False, "reviewer", "no"

    code = "open('out.txt', 'a').write('x')\n"
    execution = await governor.execute([("python", code)], executor="asker", work_dir=work, approval_handler=refuse)
    assert not execution.ran and not (work / "out.txt").exists()
    assert [held for held, _ in runs] == [True]


async def test_code_runs_under_its_decisions_limits_even_when_the_early_ones_differ(governor, work, runs, monkeypatch):
    # the early start takes its limits from the rule; should they ever differ from the decision's,
    # the early sandbox is killed and the code runs under the decision's limits
    monkeypatch.setattr(governor, "rule_limits", lambda executor, suggester: RuntimeLimits(max_execution_time=0.5))
    execution = await governor.execute([("python", "import time\ntime.sleep(1.5)\nprint('slept')\n")],
                                       executor="reader", work_dir=work)
    assert "slept" in execution.output  # the decision's 30 s, not the early 0.5 s
    assert [held for held, _ in runs] == [True, False]


async def test_an_agent_without_a_rule_starts_no_sandbox(governor, work, runs):
    execution = await governor.execute([("python", "print(1)\n")], executor="stranger", work_dir=work)
    assert not execution.ran and runs == []


async def test_a_cancelled_execute_leaves_no_sandbox_and_runs_nothing(governor, work):
    from tests.runtime.test_runtime import working_in

    task = asyncio.ensure_future(governor.execute([("python", f"open({str(work / 'ran.txt')!r}, 'w').write('x')\n")],
                                                  executor="writer", work_dir=work))
    await asyncio.sleep(0)  # the sandbox is being started, the code not yet judged
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)
    assert working_in(work) == [] and not (work / "ran.txt").exists()


def _in_a_run_cgroup() -> bool:
    """Whether a process of this test's runs is in its run's cgroups (named governed-<our pid>-…)."""
    mark = f"governed-{os.getpid()}-"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "cgroup").read_text():
                    return True
            except OSError:
                pass
    return False


async def test_the_sandbox_is_moved_into_its_cgroups_while_the_code_is_judged(tmp_path, work):
    # the move waits for the kernel (an RCU grace period): it is made beside the decision, which holds
    # the event loop while it analyses, not after it
    if available_layers()["cgroup"] != "active":
        pytest.skip(f"no cgroups here: {available_layers()['cgroup']}")
    seen = []

    class Slow(Governor):
        def decide_blocks(self, *args, **kwargs):
            deadline = time.monotonic() + 10
            while not _in_a_run_cgroup() and time.monotonic() < deadline:
                time.sleep(0.01)  # a slow analysis, holding the event loop
            seen.append(_in_a_run_cgroup())
            return super().decide_blocks(*args, **kwargs)

    governor = Slow(parse_policy(POLICY.format(work=work)), tmp_path / "receipts.db")
    execution = await governor.execute([("python", "print('ran')\n")], executor="reader", work_dir=work)
    assert execution.ran and execution.output.strip() == "ran"
    assert seen == [True]
