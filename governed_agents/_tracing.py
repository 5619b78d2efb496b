"""OpenTelemetry spans for governance: one per gate decision, one per sandboxed run.

``governed_agents.gate`` is started in the current OpenTelemetry context, so inside an AutoGen team
it is a child of AutoGen's own span for the agent that executes (AgentChat's ``invoke_agent`` and
the runtime's ``process`` spans). Its attributes: the agent, the suggester, the outcome, the
violated constraints, the receipt id, the code signature (and the deciding policy block, the
action, the approver, the group and turn when known). ``governed_agents.run`` covers one sandboxed
run: its language, exit code, duration, every runtime layer and its state, and the limit broken.

Which tracer provider: the one given to :func:`configure_tracing`, else OpenTelemetry's global
provider (``opentelemetry.trace.set_tracer_provider``), the one AgentChat's spans use. With neither,
nothing is traced and a gate or a run costs a few attribute look-ups (well under a microsecond):
the wrapped coroutine is returned as it is, and OpenTelemetry is not even imported by this module
(AutoGen imports it; the CLI does not need it).

Framework-free: nothing here imports AutoGen.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    from governed_agents.governor import GateResult
    from governed_agents.runtime import RunReport

__all__ = ["GATE_SPAN", "RUN_SPAN", "configure_tracing", "traced_gate", "traced_run"]

GATE_SPAN = "governed_agents.gate"
RUN_SPAN = "governed_agents.run"
_SCOPE = "governed_agents"

_P = ParamSpec("_P")
_configured: Any = None  # the provider given to configure_tracing, or None: the global one
_cached: tuple[Any, Any] = (None, None)  # (provider, its tracer)
_UNKNOWN = object()
# OpenTelemetry also loads a global provider named by this variable (read once: it is set at start)
_ENV_PROVIDER = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ


def configure_tracing(tracer_provider: Any = None) -> None:
    """Send governance spans to ``tracer_provider`` (an OpenTelemetry ``TracerProvider``, such as the
    one given to AutoGen's ``SingleThreadedAgentRuntime(tracer_provider=...)``); ``None`` goes back to
    the global provider."""
    global _configured
    _configured = tracer_provider


def _tracer() -> Any:
    """The tracer to use, or None when no provider would record anything. The common case (no
    provider anywhere) is decided without a call into OpenTelemetry."""
    global _cached
    provider = _configured
    if provider is None:
        trace = sys.modules.get("opentelemetry.trace")
        if trace is None:  # nobody has imported OpenTelemetry, so nobody has configured it
            return None
        if getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is None and not _ENV_PROVIDER:
            return None  # set_tracer_provider was never called (get_tracer_provider() costs ~2 us)
        provider = trace.get_tracer_provider()
        if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
            return None
    if _cached[0] is not provider:
        from governed_agents import __version__

        _cached = (provider, provider.get_tracer(_SCOPE, __version__))
    return _cached[1]


def traced_gate(record: Callable[_P, Coroutine[Any, Any, GateResult]]
                ) -> Callable[_P, Coroutine[Any, Any, GateResult]]:
    """Wraps the Governor's recording of a decision (every gate passes there) in a gate span.
    Without a tracer the wrapped method's own coroutine is returned: no extra frame."""

    async def traced(tracer: Any, args: Any, kwargs: Any) -> GateResult:
        with _span(tracer, GATE_SPAN) as span:
            result = await record(*args, **kwargs)
            _safely(_gate_attributes, span, result)
            return result

    @functools.wraps(record)
    def gate(*args: _P.args, **kwargs: _P.kwargs) -> Coroutine[Any, Any, GateResult]:
        tracer = _tracer_or_none()
        return record(*args, **kwargs) if tracer is None else traced(tracer, args, kwargs)

    return gate


def traced_run(run: Callable[_P, Coroutine[Any, Any, RunReport]]) -> Callable[_P, Coroutine[Any, Any, RunReport]]:
    """Wraps ``run_code`` in a run span. A held run (``hold=``) is a run once its hold says go: a
    sandbox killed while it waited (a denial, a withdrawn approval) ran no code and has no span."""

    async def traced(tracer: Any, args: Any, kwargs: Any) -> RunReport:
        language = str(args[1] if len(args) > 1 else kwargs.get("language"))
        with _span(tracer, RUN_SPAN) as span:
            _safely(lambda s, v: s.set_attribute("governed_agents.run.language", v), span, language)
            report = await run(*args, **kwargs)
            _safely(_run_attributes, span, report)
            return report

    async def traced_held(tracer: Any, args: Any, kwargs: Any) -> RunReport:
        language = str(args[1] if len(args) > 1 else kwargs.get("language"))
        hold, started = kwargs["hold"], []

        async def go() -> Any:
            answer = await hold
            if answer is True:
                started.append(_start(tracer, RUN_SPAN))
                _safely(lambda s, v: s.set_attribute("governed_agents.run.language", v), started[0], language)
            return answer

        report: RunReport | None = None
        try:
            report = await run(*args, **{**kwargs, "hold": go()})
            return report
        finally:
            for span in started:
                if report is not None:
                    _safely(_run_attributes, span, report)
                _safely(lambda s, _: s.end(), span, None)

    @functools.wraps(run)
    def run_traced(*args: _P.args, **kwargs: _P.kwargs) -> Coroutine[Any, Any, RunReport]:
        tracer = _tracer_or_none()
        if tracer is None:
            return run(*args, **kwargs)
        return traced(tracer, args, kwargs) if kwargs.get("hold") is None else traced_held(tracer, args, kwargs)

    return run_traced


def _tracer_or_none() -> Any:
    try:
        return _tracer()
    except Exception:  # a provider that fails is no reason to fail a gate: it goes untraced
        return None


def _start(tracer: Any, name: str) -> Any:
    """A span started in the current context (not made current), or None when the tracer raises."""
    try:
        return tracer.start_span(name)
    except Exception:
        return None


@contextlib.contextmanager
def _span(tracer: Any, name: str) -> Iterator[Any]:
    """The span, current while the body runs. A tracer or span processor that raises never reaches
    the gate or the run: the body then runs with no span (``None``), or the span is left unended."""
    from opentelemetry import trace

    span = _start(tracer, name)
    if span is None:
        yield None
        return
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            yield span
    finally:
        _safely(lambda s, _: s.end(), span, None)


def _safely(describe: Callable[[Any, Any], None], span: Any, value: Any) -> None:
    """Tracing never changes a decision or a run: what cannot be recorded is left out."""
    if span is None:
        return
    try:
        describe(span, value)
    except Exception:
        with contextlib.suppress(Exception):
            span.set_attribute("governed_agents.tracing_error", True)


def _gate_attributes(span: Any, result: GateResult) -> None:
    decision = result.decision
    attributes: dict[str, Any] = {
        "governed_agents.agent": decision.executor,
        "governed_agents.suggester": decision.suggester or "",
        "governed_agents.action": decision.action,
        "governed_agents.outcome": decision.outcome,
        "governed_agents.violated_constraints": list(dict.fromkeys(v.constraint for v in decision.violations)),
        "governed_agents.code_signature": decision.ir.code_signature,
        "governed_agents.receipt_id": result.receipt_id or "",
    }
    if decision.policy is not None:
        attributes["governed_agents.policy_rule"] = decision.policy.agent_exec_policy
        attributes["governed_agents.policy_sha256"] = decision.policy.sha256
    receipt = result.receipt
    if receipt is not None:
        if receipt.approver:
            attributes["governed_agents.approver"] = receipt.approver
        if receipt.merkle_index is not None:
            attributes["governed_agents.merkle_index"] = receipt.merkle_index
        context = receipt.conversation_context
        if context.group_chat:
            attributes["governed_agents.group_chat"] = context.group_chat
        if context.turn_number is not None:
            attributes["governed_agents.turn"] = context.turn_number
    span.set_attributes(attributes)


def _run_attributes(span: Any, report: RunReport) -> None:
    attributes: dict[str, Any] = {
        "governed_agents.run.exit_code": report.exit_code,
        "governed_agents.run.duration_s": report.duration,
        "governed_agents.run.layers": [f"{name}={state}" for name, state in report.layers.items()],
        "governed_agents.run.limit_broken": report.limit_broken or "",
    }
    for name, state in report.layers.items():
        attributes[f"governed_agents.run.layer.{name}"] = state
    if report.blocked:
        attributes["governed_agents.run.blocked"] = list(report.blocked)
    span.set_attributes(attributes)
