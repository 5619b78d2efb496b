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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from autogen_core import CancellationToken, Component, ComponentModel
from autogen_core.code_executor import CodeBlock, CodeExecutor
from autogen_ext.code_executors._common import CommandLineCodeResult

from governed_agents._provenance import ConversationContext
from governed_agents.autogen._state import GovernorReference, loading_governor
from governed_agents.governor import DENIED_EXIT_CODE, ApprovalHandler, Execution, GateResult, Governor

__all__ = ["DENIED_EXIT_CODE", "GovernedCodeExecutor", "GovernedCodeExecutorConfig"]


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
        """Gate, then run — the Governor's one path (``Governor.execute``), which the CLI shares: on
        the local runtime the sandbox starts before the blocks are judged and the code inside waits
        until the decision is approved and its receipt written; every run appends its execution receipt."""
        execution = await self.governor.execute(
            [(b.language, b.code) for b in code_blocks], executor=self.agent_name, suggester=suggester,
            context=context, work_dir=self.work_dir, timeout=float(self.timeout),
            cancellation=self._cancellation(cancellation_token), approval_handler=self.approval_handler,
            **self._inner(code_blocks, cancellation_token))
        self.last_gate = execution.gate
        return execution.gate, _result(execution)

    async def run_gated(
        self, code_blocks: list[CodeBlock], gate: GateResult, cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run blocks the gate already decided on: a refusal starts no process."""
        try:
            execution = await self.governor.run_approved(
                gate, [(b.language, b.code) for b in code_blocks], work_dir=self.work_dir,
                timeout=float(self.timeout), cancellation=self._cancellation(cancellation_token),
                **self._inner(code_blocks, cancellation_token))
            return _result(execution)
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
            runtime=self.governor.runtime_plan(self._inner_name()),
        )
        gate = await self.governor.settle(gate, self.approval_handler, context=context)
        self.last_gate = gate
        return gate

    async def setup_functions(self, stock: Any, cancellation_token: CancellationToken) -> None:
        """The stock local executor's ``functions=`` module, written into the work dir the way the
        stock one does — but never through a symlink, FIFO or hard link a sandboxed run left there
        (the stock ``Path.write_text`` follows them, as root, on the host)."""
        from autogen_ext.code_executors._common import build_python_functions_file

        from governed_agents.runtime._host_write import write_new_file

        write_new_file(Path(stock.work_dir) / f"{stock._functions_module}.py",
                       build_python_functions_file(stock._functions))
        self.governor.vouch(self.agent_name, stock._functions_module)  # the operator's own functions
        if any(getattr(f, "python_packages", None) for f in stock._functions):
            await stock._setup_functions(cancellation_token)  # the stock pip install of their requirements
        stock._setup_functions_complete = True

    def _inner_name(self) -> str | None:
        return f"{type(self.inner).__module__}.{type(self.inner).__name__}" if self.inner is not None else None

    def _inner(self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken) -> dict[str, Any]:
        if self.inner is None:
            return {}
        inner = self.inner
        return {"inner": lambda: inner.execute_code_blocks(code_blocks, cancellation_token),
                "inner_name": type(inner).__name__}

    @staticmethod
    def _cancellation(cancellation_token: CancellationToken) -> asyncio.Event:
        cancelled = asyncio.Event()
        cancellation_token.add_callback(cancelled.set)
        return cancelled

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


def _result(execution: Execution) -> CommandLineCodeResult:
    code_file = getattr(execution.inner_result, "code_file", None)
    return CommandLineCodeResult(exit_code=execution.exit_code, output=execution.output, code_file=code_file)
