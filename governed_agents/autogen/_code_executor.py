"""GovernedCodeExecutor: an autogen-core ``CodeExecutor`` that gates every batch, then runs it
under the decision's runtime limits.

Without an ``inner`` executor the code runs through ``governed_agents.runtime`` (own process
group, rlimits, cgroup, bubblewrap, seccomp, audit hook). With an ``inner`` executor (Docker,
Jupyter, …) the gate still decides first, and the inner executor runs the approved code under a
wall-clock limit; limits it cannot hold are named in the result, and deny when
``require_isolation`` is set.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Self

from autogen_core import CancellationToken, Component, ComponentModel
from autogen_core.code_executor import CodeBlock, CodeExecutor
from autogen_ext.code_executors._common import CommandLineCodeResult

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._state import GovernorReference, loading_governor
from governed_agents.governor import ApprovalHandler, GateResult, Governor
from governed_agents.policy._decision import Decision, RuntimeLimits

__all__ = ["GovernedCodeExecutor", "GovernedCodeExecutorConfig"]

DENIED_EXIT_CODE = 1


class GovernedCodeExecutorConfig(GovernorReference):
    agent_name: str
    work_dir: str | None = None
    timeout: int = 60
    inner: ComponentModel | None = None


class GovernedCodeExecutor(CodeExecutor, Component[GovernedCodeExecutorConfig]):
    """Gate, then run. ``agent_name`` is the executing agent whose policy decides.

    ``approval_handler`` answers "needs approval" decisions (the governed agents connect it to
    AutoGen's ``approval_func`` or the user proxy's ``input_func``); without one they are denied.
    After each call ``last_gate`` holds the decision and its receipt. ``provenance``, when set,
    names the suggester and conversation context for code that reaches ``execute_code_blocks``
    without them (a ``PythonCodeExecutionTool`` of a governed assistant).
    """

    component_type = "code_executor"
    component_config_schema = GovernedCodeExecutorConfig
    component_provider_override = "governed_agents.autogen.GovernedCodeExecutor"

    def __init__(
        self,
        governor: Governor,
        *,
        agent_name: str,
        inner: CodeExecutor | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        timeout: int = 60,
        approval_handler: ApprovalHandler | None = None,
    ) -> None:
        if timeout < 1:
            raise ValueError("timeout must be at least 1 second")
        self.governor = governor
        self.agent_name = agent_name
        self.inner = inner
        self.timeout = timeout
        self.approval_handler = approval_handler
        self.last_gate: GateResult | None = None
        self.provenance: Callable[[], tuple[str | None, ConversationContext]] | None = None
        self._work_dir = Path(work_dir) if work_dir is not None else None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if self._work_dir is not None:
            self._work_dir.mkdir(parents=True, exist_ok=True)

    @property
    def work_dir(self) -> Path:
        if self._work_dir is not None:
            return self._work_dir
        if self._temp_dir is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="governed-")
        return Path(self._temp_dir.name)

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        try:
            suggester, context = self.provenance() if self.provenance is not None else (None, None)
            _, result = await self.gate_and_run(code_blocks, cancellation_token, suggester=suggester,
                                                context=context)
            return result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never raise into AutoGen: that would end the whole group chat
            return _failed_closed(exc)

    async def gate_and_run(
        self,
        code_blocks: list[CodeBlock],
        cancellation_token: CancellationToken,
        *,
        suggester: str | None = None,
        context: ConversationContext | None = None,
    ) -> tuple[GateResult, CommandLineCodeResult]:
        """``gate`` then ``run_gated``, overlapped where that is safe: an approved batch on the local
        runtime starts its sandbox while the receipt is written, and the code inside waits for the
        receipt (a log that cannot write withdraws the approval, and the code never runs)."""
        decision = self.governor.decide_blocks([(b.language, b.code) for b in code_blocks],
                                               executor=self.agent_name, suggester=suggester,
                                               work_dir=self.work_dir)
        runtime = self._runtime_plan() if decision.outcome != "denied" else None
        if decision.outcome != "approved" or self.inner is not None or not code_blocks:
            gate = await self._settle(await self.governor.record_gate(decision, context=context, runtime=runtime),
                                      context)
            return gate, await self.run_gated(code_blocks, gate, cancellation_token)
        recording = asyncio.ensure_future(self.governor.record_gate(decision, context=context, runtime=runtime))
        approval: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answer(done: asyncio.Future[GateResult]) -> None:
            if not approval.done():
                approval.set_result(not done.cancelled() and done.exception() is None and done.result().approved)

        recording.add_done_callback(answer)
        try:
            result = await self._run(code_blocks, decision.limits, cancellation_token, hold=approval)
        except asyncio.CancelledError:
            raise  # the receipt is still written: the decision was made
        except Exception as exc:
            result = _failed_closed(exc)
        gate = await recording
        self.last_gate = gate
        return gate, (result if gate.approved else _refusal(gate.decision))

    def _runtime_plan(self) -> dict[str, Any]:
        """What the receipt says will hold the code while it runs: the governed local runtime's
        layers on this machine, or the inner executor (which enforces what it can itself)."""
        if self.inner is not None:
            return {"executor": f"{type(self.inner).__module__}.{type(self.inner).__name__}"}
        from governed_agents.runtime import available_layers

        return {"executor": "governed local runtime", "layers": available_layers(),
                "require_isolation": self.governor.require_isolation}

    async def run_gated(
        self, code_blocks: list[CodeBlock], gate: GateResult, cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run blocks the gate already decided on: a refusal starts no process."""
        try:
            if not gate.approved:
                return _refusal(gate.decision)
            return await self._run(code_blocks, gate.decision.limits, cancellation_token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return _failed_closed(exc)

    async def gate(
        self,
        code_blocks: list[CodeBlock],
        *,
        suggester: str | None = None,
        context: ConversationContext | None = None,
    ) -> GateResult:
        """Decide (and record) whether this agent may run these blocks; settles approvals."""
        gate = await self.governor.gate_code(
            [(block.language, block.code) for block in code_blocks],
            executor=self.agent_name,
            suggester=suggester,
            context=context,
            work_dir=self.work_dir,
        )
        return await self._settle(gate, context)

    async def _settle(self, gate: GateResult, context: ConversationContext | None) -> GateResult:
        """A "needs approval" gate answered by the approval handler (denied without one)."""
        if gate.decision.outcome == "needs_approval":
            if self.approval_handler is None:
                gate = await self.governor.settle_approval(
                    gate, approved=False, approver="governed-agents", reason="no approver is configured",
                    context=context,
                )
            else:
                approved, approver, reason = await self.approval_handler(gate.decision)
                gate = await self.governor.settle_approval(
                    gate, approved=approved, approver=approver, reason=reason, context=context
                )
        self.last_gate = gate
        return gate

    async def _run(
        self, code_blocks: list[CodeBlock], limits: RuntimeLimits, cancellation_token: CancellationToken,
        hold: Awaitable[bool] | None = None,
    ) -> CommandLineCodeResult:
        if self.inner is not None:
            assert hold is None, "an inner executor cannot hold its code until the receipt is written"
            return await self._run_inner(code_blocks, limits, cancellation_token)
        from governed_agents.runtime import run_code

        cancelled = asyncio.Event()
        cancellation_token.add_callback(cancelled.set)
        output, exit_code = "", 0
        for block in code_blocks:
            report = await run_code(
                block.code,
                block.language,
                limits,
                work_dir=self.work_dir,
                require_isolation=self.governor.require_isolation,
                timeout=self.timeout,
                cancellation=cancelled,
                hold=hold,
            )
            hold = None  # only the first block waits for the receipt
            # a layer that did not run is named once (the runtime puts the line first in each block's
            # stderr); with every layer active the output is the program's alone, as the stock executor's
            weakened = report.weakened()
            text = report.output
            if weakened and weakened in output:
                text = text.removeprefix(weakened + "\n")
            output += text
            exit_code = report.exit_code
            if report.limit_broken or report.exit_code != 0:
                note = report.summary()
                if note:
                    output += ("\n" if output and not output.endswith("\n") else "") + note
                break
        return CommandLineCodeResult(exit_code=exit_code, output=output, code_file=None)

    async def _run_inner(
        self, code_blocks: list[CodeBlock], limits: RuntimeLimits, cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        assert self.inner is not None
        name = type(self.inner).__name__
        unheld = [key for key in ("max_memory", "max_cpu_time", "max_processes", "max_file_size")
                  if getattr(limits, key) is not None]
        if unheld and self.governor.require_isolation:
            return CommandLineCodeResult(
                exit_code=DENIED_EXIT_CODE,
                output=(
                    f"governed-agents: the policy sets {', '.join(unheld)}, which {name} cannot enforce; "
                    "denied (require_isolation=True). Use the governed local executor, or "
                    "Governor(require_isolation=False) to run with a wall-clock limit only."
                ),
                code_file=None,
            )
        budget = min(t for t in (limits.max_execution_time, float(self.timeout)) if t is not None)
        try:
            result = await asyncio.wait_for(self.inner.execute_code_blocks(code_blocks, cancellation_token), budget)
        except TimeoutError:
            return CommandLineCodeResult(
                exit_code=124, output=f"governed-agents: stopped: time limit ({budget:g} s)", code_file=None
            )
        note = f"\n[governed-agents: ran in {name}; not enforced: {', '.join(unheld)}]" if unheld else ""
        return CommandLineCodeResult(
            exit_code=result.exit_code,
            output=result.output + note,
            code_file=getattr(result, "code_file", None),
        )

    async def start(self) -> None:
        if self.inner is not None:
            await self.inner.start()

    async def stop(self) -> None:
        if self.inner is not None:
            await self.inner.stop()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    async def restart(self) -> None:
        if self.inner is not None:
            await self.inner.restart()

    def _to_config(self) -> GovernedCodeExecutorConfig:
        return GovernedCodeExecutorConfig(
            **GovernorReference.of(self.governor),
            agent_name=self.agent_name,
            work_dir=str(self._work_dir) if self._work_dir is not None else None,
            timeout=self.timeout,
            inner=self.inner.dump_component() if self.inner is not None else None,
        )

    @classmethod
    def _from_config(cls, config: GovernedCodeExecutorConfig) -> Self:
        governor = loading_governor.get() or config.governor()  # the enclosing agent's, when one is loading
        inner = CodeExecutor.load_component(config.inner) if config.inner is not None else None
        return cls(governor, agent_name=config.agent_name, inner=inner, work_dir=config.work_dir,
                   timeout=config.timeout)


def _failed_closed(exc: Exception) -> CommandLineCodeResult:
    """Never raise into AutoGen (that would end the whole group chat): a failure is a refusal."""
    return CommandLineCodeResult(
        exit_code=DENIED_EXIT_CODE,
        output=f"governed-agents: execution failed closed ({type(exc).__name__}: {exc})",
        code_file=None,
    )


def _refusal(decision: Decision) -> CommandLineCodeResult:
    return CommandLineCodeResult(
        exit_code=DENIED_EXIT_CODE, output=f"governed-agents: {decision.explain()}", code_file=None
    )
