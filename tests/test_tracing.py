"""OpenTelemetry: a governed_agents.gate span per decision, a child of the AutoGen span it happens
in, and a governed_agents.run span per sandboxed run; nothing at all without a tracer."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from governed_agents import _tracing
from governed_agents.governor import Governor
from governed_agents.policy import RuntimeLimits
from governed_agents.runtime import run_code

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "seed.policy"
warnings.filterwarnings("ignore", message="Using LocalCommandLineCodeExecutor")


@pytest.fixture
def spans():
    """An SDK tracer provider with an in-memory exporter, given to governed-agents (and to AutoGen's
    runtime where a test builds one). OpenTelemetry's global provider is left alone."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _tracing.configure_tracing(provider)
    try:
        yield provider, exporter
    finally:
        _tracing.configure_tracing(None)
        provider.shutdown()


def named(exporter, name):
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def test_a_gate_span_is_a_child_of_the_current_span_and_says_what_was_decided(spans, tmp_path):
    provider, exporter = spans
    governor = Governor(SEED, tmp_path / "r.db")
    with provider.get_tracer("an app").start_as_current_span("autogen process user_proxy") as parent:
        gate = await governor.gate_code([("python", "import os\nopen('/tmp/x', 'w')")], executor="agent_analysis",
                                        suggester="planner")
    assert not gate.approved
    (span,) = named(exporter, "governed_agents.gate")
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    attributes = dict(span.attributes)
    assert attributes["governed_agents.agent"] == "agent_analysis"
    assert attributes["governed_agents.suggester"] == "planner"
    assert attributes["governed_agents.outcome"] == "denied"
    assert attributes["governed_agents.violated_constraints"] == ("disallowed_imports", "allowed_file_operations")
    assert attributes["governed_agents.receipt_id"] == gate.receipt_id
    assert attributes["governed_agents.code_signature"] == gate.decision.ir.code_signature
    assert attributes["governed_agents.policy_rule"] == "agent_analysis"


async def test_every_gate_is_a_span_tools_and_approvals_included(spans, tmp_path):
    from governed_agents.policy import parse_policy

    _, exporter = spans
    policy = parse_policy('agent "*" {\n  can "tool_use" with constraints {\n    allowed_tools: ["lookup"]\n'
                          '    requires_approval: ["tool"]\n  }\n}')
    governor = Governor(policy, tmp_path / "r.db")
    pending = await governor.gate_tool("lookup", {"q": "x"}, executor="helper_7")
    settled = await governor.settle_approval(pending, approved=True, approver="alice")
    first, second = named(exporter, "governed_agents.gate")
    assert first.attributes["governed_agents.outcome"] == "needs_approval"
    assert first.attributes["governed_agents.action"] == "tool_use"
    assert first.attributes["governed_agents.policy_rule"] == "*"  # the glob that decided
    assert second.attributes["governed_agents.outcome"] == "approved"
    assert second.attributes["governed_agents.approver"] == "alice"
    assert second.attributes["governed_agents.receipt_id"] == settled.receipt_id != pending.receipt_id


async def test_gate_and_run_spans_inside_an_autogen_team_on_a_traced_runtime(spans, tmp_path):
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_core import SingleThreadedAgentRuntime
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor
    from autogen_ext.models.replay import ReplayChatCompletionClient

    from governed_agents.autogen import (
        GovernedAssistantAgent,
        GovernedCodeExecutorAgent,
        GovernedRoundRobinGroupChat,
    )

    provider, exporter = spans
    governor = Governor(SEED, tmp_path / "r.db")
    runtime = SingleThreadedAgentRuntime(tracer_provider=provider)
    runtime.start()
    script = ["```python\nprint(6 * 7)\n```", "```python\nimport os\nos.remove('/tmp/x')\n```"]
    team = GovernedRoundRobinGroupChat(
        [GovernedAssistantAgent("agent_analysis", model_client=ReplayChatCompletionClient(script), governor=governor),
         GovernedCodeExecutorAgent("user_proxy", LocalCommandLineCodeExecutor(work_dir=tmp_path / "w"),
                                   governor=governor)],
        termination_condition=MaxMessageTermination(5), runtime=runtime)
    result = await team.run(task="go")
    await runtime.stop()
    assert "42" in result.messages[2].content

    finished = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    gates = named(exporter, "governed_agents.gate")
    assert [g.attributes["governed_agents.outcome"] for g in gates] == ["approved", "denied"]
    receipts = [r for r in governor.receipts.receipts() if not r.is_execution]  # the decisions' receipts
    assert [g.attributes["governed_agents.receipt_id"] for g in gates] == [r.receipt_id for r in receipts]
    for gate in gates:
        parent = by_id[gate.parent.span_id]  # recorded by AutoGen's runtime, through its tracer_provider
        assert parent.name.startswith("autogen process user_proxy"), parent.name
        assert parent.context.trace_id == gate.context.trace_id
        assert gate.attributes["governed_agents.agent"] == "user_proxy"
        assert gate.attributes["governed_agents.suggester"] == "agent_analysis"
        assert gate.attributes["governed_agents.group_chat"] == "RoundRobinGroupChat"
    assert gates[1].attributes["governed_agents.violated_constraints"] == ("disallowed_imports",
                                                                           "allowed_file_operations")
    (run,) = named(exporter, "governed_agents.run")  # the denied block never ran
    assert by_id[run.parent.span_id].name.startswith("autogen process user_proxy")
    assert run.attributes["governed_agents.run.exit_code"] == 0
    assert run.attributes["governed_agents.run.limit_broken"] == ""
    layers = dict(item.split("=", 1) for item in run.attributes["governed_agents.run.layers"])
    assert set(layers) >= {"bubblewrap", "rlimits", "process_group"}
    assert run.attributes["governed_agents.run.layer.rlimits"] == layers["rlimits"]


async def test_a_run_span_names_the_limit_the_code_broke(spans, tmp_path):
    _, exporter = spans
    report = await run_code("while True:\n    pass\n", "python", RuntimeLimits(max_execution_time=1),
                            work_dir=tmp_path)
    assert report.limit_broken == "time limit"
    (span,) = named(exporter, "governed_agents.run")
    assert span.attributes["governed_agents.run.limit_broken"] == "time limit"
    assert span.attributes["governed_agents.run.language"] == "python"
    assert span.attributes["governed_agents.run.exit_code"] == report.exit_code
    assert span.attributes["governed_agents.run.layers"] == tuple(f"{k}={v}" for k, v in report.layers.items())


@pytest.mark.parametrize("go", [True, False])
async def test_a_held_run_is_a_span_only_once_its_hold_says_go(spans, tmp_path, go):
    # the governor starts a sandbox before the code is judged; one killed while it waited ran nothing
    import asyncio

    _, exporter = spans
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    answered = []

    def say() -> None:
        answered.append(time.time_ns())
        answer.set_result(go)

    asyncio.get_running_loop().call_later(0.2, say)
    report = await run_code("print(6 * 7)\n", "python", RuntimeLimits(max_execution_time=10), work_dir=tmp_path,
                            hold=answer)
    assert ("42" in report.stdout) is go
    runs = named(exporter, "governed_agents.run")
    if not go:
        assert runs == []
        return
    (span,) = runs
    assert span.attributes["governed_agents.run.exit_code"] == 0
    assert span.attributes["governed_agents.run.language"] == "python"
    assert span.start_time >= answered[0]  # the run, not the wait before it


async def test_without_a_tracer_nothing_is_traced_and_the_gate_is_the_same(tmp_path):
    from opentelemetry import trace

    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # no global provider in tests
    assert _tracing._tracer() is None  # so the gate skips tracing after one look-up
    governor = Governor(SEED, tmp_path / "r.db")
    gate = await governor.gate_code([("python", "import math")], executor="agent_sandbox")
    assert gate.approved and gate.receipt_id


def test_tracing_does_not_import_opentelemetry_for_the_cli():
    import subprocess
    import sys

    code = ("import sys, asyncio\nfrom governed_agents import _tracing\nassert _tracing._tracer() is None\n"
            "assert 'opentelemetry' not in sys.modules, sorted(m for m in sys.modules if 'opentel' in m)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_global_tracer_provider_is_used_when_none_is_configured(tmp_path):
    """In a fresh process (the global provider can be set once): set_tracer_provider, then a gate."""
    import subprocess
    import sys

    code = f'''
import asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from governed_agents import _tracing
from governed_agents.governor import Governor

governor = Governor({str(SEED)!r}, receipts=False)
assert _tracing._tracer() is None
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
gate = asyncio.run(governor.gate_code([("python", "import random")], executor="agent_sandbox"))
(span,) = exporter.get_finished_spans()
assert span.name == "governed_agents.gate", span.name
assert span.attributes["governed_agents.outcome"] == "denied"
assert span.attributes["governed_agents.violated_constraints"] == ("disallowed_imports",)
assert span.attributes["governed_agents.receipt_id"] == ""  # receipts=False: nothing recorded
print("ok")
'''
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr


async def test_a_span_processor_that_raises_never_reaches_the_gate_or_the_run(tmp_path):
    """A user's span processor that fails (on start, on end) leaves the decision and the run as they were."""
    from opentelemetry.sdk.trace import SpanProcessor

    class Failing(SpanProcessor):
        def on_start(self, span, parent_context=None):
            raise RuntimeError("exporter down")

        def on_end(self, span):
            raise RuntimeError("exporter down")

    provider = TracerProvider()
    provider.add_span_processor(Failing())
    _tracing.configure_tracing(provider)
    try:
        governor = Governor(SEED, tmp_path / "r.db")
        denied = await governor.gate_code([("python", "import os")], executor="agent_analysis")
        approved = await governor.gate_code([("python", "import math")], executor="agent_sandbox")
        report = await run_code("print(7)", "python", RuntimeLimits(max_execution_time=10), work_dir=tmp_path)
    finally:
        _tracing.configure_tracing(None)
    assert not denied.approved and denied.receipt_id
    assert approved.approved and approved.receipt_id
    assert (report.exit_code, report.stdout) == (0, "7\n")
