"""The Governor: one object per application that ties analysis, policy and receipts together.

Every governed agent and the governed code executor ask it the same two questions — "may this
agent run this code / call this tool?" (``gate_code`` / ``gate_tool``) — and it answers with a
:class:`GateResult`: the :class:`Decision` and the receipt that records it. The gate fails closed:
an exception anywhere, or a receipt store that cannot write, turns the answer into a denial.

Framework-free: nothing here imports AutoGen.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governed_agents._provenance import ConversationContext, current_provenance
from governed_agents._tracing import traced_gate
from governed_agents.analysis import analyze
from governed_agents.ir import SovereignIR, Unresolved
from governed_agents.policy._decision import Decision, Outcome, Violation

if TYPE_CHECKING:
    from governed_agents.policy import PolicySet
    from governed_agents.policy._decision import RuntimeLimits
    from governed_agents.receipts import Receipt, ReceiptLog
    from governed_agents.runtime import RunReport

__all__ = [
    "ENV_POLICY",
    "ENV_RECEIPTS",
    "ApprovalHandler",
    "Execution",
    "GateResult",
    "GovernanceConfigError",
    "Governor",
    "InnerRunner",
]

ENV_POLICY = "GOVERNED_AGENTS_POLICY"
ENV_RECEIPTS = "GOVERNED_AGENTS_RECEIPTS"
DEFAULT_RECEIPTS = "governed-receipts.db"

# An approver is asked about a "needs approval" decision and answers (approved, who, reason).
ApprovalHandler = Callable[[Decision], Awaitable[tuple[bool, str, str]]]
# Another executor (Docker, Jupyter, …) that runs approved blocks itself: called with no arguments,
# it runs them and returns an object with ``exit_code`` and ``output`` (its own result type).
InnerRunner = Callable[[], Awaitable[Any]]
DENIED_EXIT_CODE = 1


class GovernanceConfigError(RuntimeError):
    """Raised when a governed agent is built without a policy: governance is never silently off."""


@dataclass(frozen=True)
class GateResult:
    decision: Decision
    receipt: Receipt | None = None

    @property
    def approved(self) -> bool:
        return self.decision.approved

    @property
    def receipt_id(self) -> str | None:
        return self.receipt.receipt_id if self.receipt is not None else None


@dataclass(frozen=True)
class Execution:
    """Gate, then run: the decision (and its receipt), what the run gave, and its execution receipt.

    ``ran`` is False when nothing ran (a denial, an approval refused, a receipt that could not be
    written, a layer the policy needs missing): ``exit_code``/``output`` then say why.
    ``reports`` holds one :class:`RunReport` per block the governed local runtime ran;
    ``inner_result`` the inner executor's own result, when one ran the code.
    """

    gate: GateResult
    exit_code: int
    output: str
    ran: bool = False
    reports: tuple[RunReport, ...] = ()
    inner_result: Any = None
    receipt: Receipt | None = None  # the execution receipt
    notes: tuple[str, ...] = field(default=())


class Governor:
    """Holds the policy and the receipt log of one application.

    ``policy``: a policy file (``.policy`` DSL, YAML or JSON) or a loaded ``PolicySet``.
    ``receipts``: a SQLite log path, a ``postgresql://`` URL (any other ``scheme://`` is an error,
    never a path), an open ``ReceiptLog``, ``None`` for the default
    (``$GOVERNED_AGENTS_RECEIPTS`` or ``./governed-receipts.db``), or ``False`` to keep no receipts
    (tests and benchmarks only: decisions are then not auditable).
    ``require_isolation``: when the policy's limits need a runtime layer this machine cannot give
    (bubblewrap for network/filesystem isolation), deny rather than run with fewer layers.
    """

    def __init__(
        self,
        policy: str | os.PathLike[str] | PolicySet,
        receipts: str | os.PathLike[str] | ReceiptLog | bool | None = None,
        *,
        require_isolation: bool = True,
        work_dir: str | os.PathLike[str] | None = None,
        key_path: str | os.PathLike[str] | None = None,
    ) -> None:
        from governed_agents.policy import PolicySet, load_policy

        self.policy: PolicySet = policy if isinstance(policy, PolicySet) else load_policy(policy)
        self.receipts: ReceiptLog | None = _open_receipts(receipts, key_path)
        self.require_isolation = require_isolation
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self._vouched: dict[str, tuple[str, ...]] = {}

    def vouch(self, executor: str, module: str) -> None:
        """Take ``module`` as pure in ``executor``'s decisions, as its rule's ``pure_packages`` would:
        the operator's own code that the executor provides (AutoGen's ``functions=`` module). Each
        decision records it among the rule's constraints."""
        self._vouched[executor] = tuple(sorted({*self._vouched.get(executor, ()), module}))

    @classmethod
    def from_env(cls) -> Governor:
        """The governor configured by ``$GOVERNED_AGENTS_POLICY`` (and ``$GOVERNED_AGENTS_RECEIPTS``)."""
        path = os.environ.get(ENV_POLICY)
        if not path:
            raise GovernanceConfigError(
                "no governor configured: pass governor=Governor(policy=...) to the governed agent, "
                f"or set ${ENV_POLICY} to a policy file"
            )
        return cls(path, os.environ.get(ENV_RECEIPTS) or None)

    # -- decisions ---------------------------------------------------------------------------

    def decide_code(
        self,
        code: str,
        language: str = "python",
        *,
        executor: str,
        suggester: str | None = None,
        work_dir: str | os.PathLike[str] | None = None,
    ) -> Decision:
        """Analyse ``code`` and evaluate it under ``executor``'s policy (∩ ``suggester``'s)."""
        try:
            wd = work_dir if work_dir is not None else self.work_dir
            ir = _analyze_cached(code, language, str(wd) if wd is not None else None)
            return self.policy.evaluate(ir, executor=executor, suggester=suggester,
                                        vouched=self._vouched.get(executor, ()))
        except Exception as exc:
            return _internal_denial(exc, executor=executor, suggester=suggester, code=code, language=language)

    def decide_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        executor: str,
        suggester: str | None = None,
        code: str | None = None,
        language: str = "python",
    ) -> Decision:
        """Evaluate a tool call (and, for a tool whose argument is code, that code)."""
        try:
            return self.policy.evaluate_tool(
                tool, arguments, executor=executor, suggester=suggester, code=code, language=language
            )
        except Exception as exc:
            return _internal_denial(exc, executor=executor, suggester=suggester, action="tool_use")

    # -- receipts ----------------------------------------------------------------------------

    async def record(
        self,
        decision: Decision,
        *,
        context: ConversationContext | None = None,
        approver: str | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> Receipt | None:
        """Append a receipt for ``decision``; raises ``ReceiptStoreError`` when the log cannot write."""
        if self.receipts is None:
            return None
        from governed_agents.receipts import Receipt

        receipt = Receipt.from_decision(decision, context=context, approver=approver, runtime=runtime)
        return await self.receipts.aappend(receipt)

    # -- the gate ------------------------------------------------------------------------------

    async def gate_code(
        self,
        code_blocks: Sequence[tuple[str, str]],
        *,
        executor: str,
        suggester: str | None = None,
        context: ConversationContext | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> GateResult:
        """Decide on a batch of ``(language, code)`` blocks as one, and record the decision.

        ``suggester``/``context`` default to the current provenance (set by the governed agents).
        """
        suggester, context = _with_provenance(suggester, context)
        decision = self.decide_blocks(code_blocks, executor=executor, suggester=suggester, work_dir=work_dir)
        return await self.record_gate(decision, context=context, runtime=runtime)

    def decide_blocks(
        self,
        code_blocks: Sequence[tuple[str, str]],
        *,
        executor: str,
        suggester: str | None = None,
        work_dir: str | os.PathLike[str] | None = None,
    ) -> Decision:
        """The first half of ``gate_code``: one decision for the batch, not yet recorded. Code runs
        only once ``record_gate`` has recorded it and still approves."""
        suggester, _ = _with_provenance(suggester, None)
        try:
            decisions = [
                self.decide_code(code, language, executor=executor, suggester=suggester, work_dir=work_dir)
                for language, code in code_blocks
            ]
            return merge_decisions(decisions, executor=executor, suggester=suggester)
        except Exception as exc:
            return _internal_denial(exc, executor=executor, suggester=suggester)

    async def record_gate(
        self,
        decision: Decision,
        *,
        context: ConversationContext | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> GateResult:
        """The second half of ``gate_code``: the receipt; a log that cannot write turns it into a denial."""
        _, context = _with_provenance(decision.suggester, context)
        return await self._recorded(decision, context=context, runtime=runtime)

    async def gate_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        executor: str,
        suggester: str | None = None,
        context: ConversationContext | None = None,
        code: str | None = None,
    ) -> GateResult:
        suggester, context = _with_provenance(suggester, context)
        decision = self.decide_tool(tool, arguments, executor=executor, suggester=suggester, code=code)
        return await self._recorded(decision, context=context)

    async def settle_approval(
        self,
        pending: GateResult,
        *,
        approved: bool,
        approver: str,
        reason: str = "",
        context: ConversationContext | None = None,
    ) -> GateResult:
        """Record a person's (or an approval function's) answer to a "needs approval" decision."""
        if pending.decision.outcome != "needs_approval":
            return pending
        _, context = _with_provenance(None, context)
        outcome: Outcome = "approved" if approved else "denied"
        violations = pending.decision.violations
        if not approved:
            message = f"{approver} refused approval" + (f": {reason}" if reason else "")
            violations = (*violations, Violation(constraint="requires_approval", message=message))
        decision = pending.decision.model_copy(update={"outcome": outcome, "violations": violations})
        return await self._recorded(decision, context=context, approver=approver)

    @traced_gate  # every gate is recorded here: one OpenTelemetry span each (_tracing)
    async def _recorded(
        self,
        decision: Decision,
        *,
        context: ConversationContext | None,
        approver: str | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> GateResult:
        try:
            receipt = await self.record(decision, context=context, approver=approver, runtime=runtime)
        except Exception as exc:  # a decision that cannot be recorded is not allowed to run
            denial = deny(
                decision,
                constraint="receipts",
                message=f"the receipt log could not record this decision ({type(exc).__name__}: {exc})",
            )
            return GateResult(denial, None)
        return GateResult(decision, receipt)


    # -- gate, then run (the one path the CLI and every executor share) -------------------------

    async def execute(
        self,
        code_blocks: Sequence[tuple[str, str]],
        *,
        executor: str,
        work_dir: str | os.PathLike[str],
        suggester: str | None = None,
        context: ConversationContext | None = None,
        timeout: float | None = None,
        cancellation: asyncio.Event | None = None,
        approval_handler: ApprovalHandler | None = None,
        inner: InnerRunner | None = None,
        inner_name: str | None = None,
    ) -> Execution:
        """Decide on ``(language, code)`` blocks, record the decision, settle a "needs approval",
        run what is approved — on the governed local runtime, or through ``inner`` — and append
        the execution receipt.

        On the local runtime the sandbox starts before the code is analysed: its limits come from
        the agent's rule alone (:meth:`rule_limits`), so it boots while the blocks are analysed and
        judged and the decision's receipt is made durable, and the code inside waits for that
        (the runtime's ``hold``). Only an approved decision under those same limits, recorded, lets
        it go. Anything else kills the waiting sandbox before the code runs, and the decision takes
        the ordinary path: a denial is recorded, a "needs approval" asked. A log that cannot write
        withdraws the approval.
        """
        suggester, context = _with_provenance(suggester, context)
        limits = self.rule_limits(executor, suggester) if inner is None and code_blocks else None
        if limits is not None:
            return await self._execute_held(code_blocks, limits, executor=executor, suggester=suggester,
                                            context=context, work_dir=work_dir, timeout=timeout,
                                            cancellation=cancellation, approval_handler=approval_handler)
        decision = self.decide_blocks(code_blocks, executor=executor, suggester=suggester, work_dir=work_dir)
        return await self._execute_decided(decision, code_blocks, context=context, work_dir=work_dir, timeout=timeout,
                                           cancellation=cancellation, approval_handler=approval_handler, inner=inner,
                                           inner_name=inner_name)

    def rule_limits(self, executor: str, suggester: str | None) -> RuntimeLimits | None:
        """The runtime limits ``executor``'s rule (∩ ``suggester``'s) sets, known before any code is
        read; None when the rule alone does not approve (no rule, delegation refused, python not an
        allowed language). The limits of a decision depend on the rules only, never on the code: a
        decision whose limits differ from these is still never run under these."""
        probe = SovereignIR(code_signature="sha256:" + hashlib.sha256(b"").hexdigest())
        try:
            decision = self.policy.evaluate(probe, executor=executor, suggester=suggester)
        except Exception:
            return None
        return decision.limits if decision.outcome == "approved" else None

    async def _execute_held(
        self, code_blocks: Sequence[tuple[str, str]], limits: RuntimeLimits, *, executor: str,
        suggester: str | None, context: ConversationContext | None, work_dir: str | os.PathLike[str],
        timeout: float | None, cancellation: asyncio.Event | None, approval_handler: ApprovalHandler | None,
    ) -> Execution:
        """``execute`` on the local runtime: the sandbox first, held until the decision is approved
        and durably recorded."""
        runtime = self.runtime_plan()
        loop = asyncio.get_running_loop()
        approval: asyncio.Future[bool] = loop.create_future()
        launched: asyncio.Future[None] = loop.create_future()
        started = time.monotonic()
        running = asyncio.ensure_future(self._run_local(
            code_blocks, limits, work_dir=work_dir, timeout=timeout, cancellation=cancellation, hold=approval,
            launched=functools.partial(launched.set_result, None), executor=executor))
        try:
            # the code is judged once the sandbox's process exists (or the runtime gave up): it boots,
            # and is moved into its cgroups, while the code is judged
            await asyncio.wait((launched, running), return_when=asyncio.FIRST_COMPLETED)
            decision = self.decide_blocks(code_blocks, executor=executor, suggester=suggester, work_dir=work_dir)
            if decision.outcome != "approved" or decision.limits != limits:
                approval.set_result(False)  # the waiting sandbox is killed (none of this code ran) while the
                _, execution = await asyncio.gather(running, self._execute_decided(  # decision takes its path
                    decision, code_blocks, context=context, work_dir=work_dir, timeout=timeout,
                    cancellation=cancellation, approval_handler=approval_handler))
                return execution
            recording = asyncio.ensure_future(self.record_gate(decision, context=context, runtime=runtime))

            def answer(done: asyncio.Future[GateResult]) -> None:
                if not approval.done():
                    approval.set_result(not done.cancelled() and done.exception() is None and done.result().approved)

            recording.add_done_callback(answer)
            exit_code, output, reports = await running  # a cancellation still leaves the receipt written
        except BaseException:
            if not approval.done():  # cancelled before the answer: the waiting sandbox is killed, the code never runs
                approval.set_result(False)
            with contextlib.suppress(BaseException):
                await asyncio.shield(running)  # and it is gone before this returns
            raise
        gate = await recording
        if not gate.approved:
            return Execution(gate, DENIED_EXIT_CODE, f"governed-agents: {gate.decision.explain()}")
        return await self._executed(gate, exit_code, output, reports, time.monotonic() - started)

    async def _execute_decided(
        self, decision: Decision, code_blocks: Sequence[tuple[str, str]], *, context: ConversationContext | None,
        work_dir: str | os.PathLike[str], timeout: float | None, cancellation: asyncio.Event | None,
        approval_handler: ApprovalHandler | None, inner: InnerRunner | None = None, inner_name: str | None = None,
    ) -> Execution:
        """``execute`` once decided, nothing started yet: record, settle, run what is approved."""
        runtime = self.runtime_plan(inner_name) if decision.outcome != "denied" else None
        gate = await self.record_gate(decision, context=context, runtime=runtime)
        gate = await self.settle(gate, approval_handler, context=context)
        return await self.run_approved(gate, code_blocks, work_dir=work_dir, timeout=timeout,
                                       cancellation=cancellation, inner=inner, inner_name=inner_name)

    async def settle(self, gate: GateResult, approval_handler: ApprovalHandler | None, *,
                     context: ConversationContext | None = None) -> GateResult:
        """A "needs approval" gate answered by ``approval_handler`` (denied without one)."""
        if gate.decision.outcome != "needs_approval":
            return gate
        if approval_handler is None:
            return await self.settle_approval(gate, approved=False, approver="governed-agents",
                                              reason="no approver is configured", context=context)
        try:
            approved, approver, reason = await approval_handler(gate.decision)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an approver that fails has not approved: a recorded refusal
            return await self.settle_approval(gate, approved=False, approver="governed-agents",
                                              reason=f"the approver failed ({type(exc).__name__}: {exc})",
                                              context=context)
        return await self.settle_approval(gate, approved=approved is True, approver=approver, reason=reason,
                                          context=context)

    async def run_approved(
        self,
        gate: GateResult,
        code_blocks: Sequence[tuple[str, str]],
        *,
        work_dir: str | os.PathLike[str],
        timeout: float | None = None,
        cancellation: asyncio.Event | None = None,
        inner: InnerRunner | None = None,
        inner_name: str | None = None,
    ) -> Execution:
        """Run blocks the gate already decided on (a refusal starts no process), then append the
        execution receipt."""
        if not gate.approved:
            return Execution(gate, DENIED_EXIT_CODE, f"governed-agents: {gate.decision.explain()}")
        started = time.monotonic()
        if inner is not None:
            return await self._run_inner(gate, inner, inner_name or "the inner executor", timeout, started)
        exit_code, output, reports = await self._run_local(code_blocks, gate.decision.limits, work_dir=work_dir,
                                                           executor=gate.decision.executor,
                                                           timeout=timeout, cancellation=cancellation)
        return await self._executed(gate, exit_code, output, reports, time.monotonic() - started)

    def runtime_plan(self, inner_name: str | None = None) -> dict[str, Any]:
        """What the decision receipt says will hold the code while it runs: the governed local
        runtime's layers on this machine, or the inner executor (which enforces what it can itself)."""
        if inner_name is not None:
            return {"executor": inner_name}
        from governed_agents.runtime import available_layers

        return {"executor": "governed local runtime", "layers": available_layers(),
                "require_isolation": self.require_isolation}

    async def _run_local(
        self, code_blocks: Sequence[tuple[str, str]], limits: RuntimeLimits, *, work_dir: str | os.PathLike[str],
        timeout: float | None, cancellation: asyncio.Event | None, hold: Awaitable[bool] | None = None,
        launched: Callable[[], None] | None = None, executor: str | None = None,
    ) -> tuple[int, str, list[RunReport]]:
        from governed_agents.runtime import run_code
        from governed_agents.runtime._host_write import vouched_files

        hidden = self.receipts.private_files() if self.receipts is not None else ()
        # the modules vouched for in the work dir (AutoGen's functions=): read-only inside, so that a
        # run cannot change what the next one takes as pure
        frozen = vouched_files(work_dir, self._vouched.get(executor or "", ()))
        output, exit_code, reports = "", 0, []
        for language, code in code_blocks:
            report = await run_code(code, language, limits, work_dir=work_dir,
                                    require_isolation=self.require_isolation, timeout=timeout,
                                    cancellation=cancellation, hold=hold, launched=launched,
                                    hidden=hidden, frozen=frozen)
            hold = launched = None  # only the first block waits for the receipt
            reports.append(report)
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
        return exit_code, output, reports

    async def _run_inner(self, gate: GateResult, inner: InnerRunner, name: str, timeout: float | None,
                         started: float) -> Execution:
        limits = gate.decision.limits
        unheld = [key for key in ("max_memory", "max_cpu_time", "max_processes", "max_file_size")
                  if getattr(limits, key) is not None]
        if unheld and self.require_isolation:
            return Execution(gate, DENIED_EXIT_CODE, (
                f"governed-agents: the policy sets {', '.join(unheld)}, which {name} cannot enforce; "
                "denied (require_isolation=True). Use the governed local executor, or "
                "Governor(require_isolation=False) to run with a wall-clock limit only."))
        budgets = [t for t in (limits.max_execution_time, timeout) if t is not None]
        budget = min(budgets) if budgets else None
        try:
            result = await asyncio.wait_for(inner(), budget)
        except TimeoutError:
            output = f"governed-agents: stopped: time limit ({budget:g} s)"
            return await self._executed(gate, 124, output, [], time.monotonic() - started, inner_name=name,
                                        limit_broken="time limit")
        note = f"\n[governed-agents: ran in {name}; not enforced: {', '.join(unheld)}]" if unheld else ""
        execution = await self._executed(gate, int(result.exit_code), str(result.output) + note, [],
                                         time.monotonic() - started, inner_name=name)
        return Execution(execution.gate, execution.exit_code, execution.output, True, (), result, execution.receipt,
                         execution.notes)

    async def _executed(self, gate: GateResult, exit_code: int, output: str, reports: Sequence[RunReport],
                        duration: float, *, inner_name: str | None = None,
                        limit_broken: str | None = None) -> Execution:
        """The run's result, with its execution receipt appended (after the fact: a log that cannot
        write then is named in the output, since the code already ran)."""
        ran = (bool(reports) and any(not r.stderr.startswith("governed-agents: not run:") for r in reports)) \
            or inner_name is not None
        receipt: Receipt | None = None
        notes: tuple[str, ...] = ()
        if ran and gate.receipt is not None and self.receipts is not None:
            try:
                receipt = await self.record_execution(gate, reports, exit_code=exit_code, duration=duration,
                                                      inner_name=inner_name, limit_broken=limit_broken)
            except Exception as exc:
                note = f"governed-agents: the execution receipt could not be recorded ({type(exc).__name__}: {exc})"
                output += ("\n" if output and not output.endswith("\n") else "") + note
                notes = (note,)
        return Execution(gate, exit_code, output, ran, tuple(reports), None, receipt, notes)

    async def record_execution(self, gate: GateResult, reports: Sequence[RunReport], *, exit_code: int,
                               duration: float, inner_name: str | None = None,
                               limit_broken: str | None = None) -> Receipt | None:
        """Append the execution receipt of a run of ``gate``'s approved blocks."""
        if self.receipts is None or gate.receipt is None:
            return None
        from governed_agents.receipts import ExecutionRecord, Receipt
        from governed_agents.runtime import unpredicted

        observed = [dict(op, block=i) if len(reports) > 1 else op
                    for i, report in enumerate(reports, 1) for op in report.observed_operations]
        layers: dict[str, str] = {"executor": inner_name} if inner_name else {}
        for report in reports:
            layers.update(report.layers)
        record = ExecutionRecord(
            receipt_id=gate.receipt.receipt_id,
            exit_code=exit_code,
            limit_broken=limit_broken or next((r.limit_broken for r in reports if r.limit_broken), None),
            duration_s=round(duration, 6),
            layers=layers,
            observed_operations=observed,
            unpredicted=unpredicted(observed, gate.decision.ir.operations),
        )
        return await self.receipts.aappend(Receipt.for_execution(gate.receipt, record))


# -- helpers (module-level so that they are easy to test) ---------------------------------------


def deny(decision: Decision, *, constraint: str, message: str) -> Decision:
    """``decision`` turned into a denial with one more violation."""
    violation = Violation(constraint=constraint, message=message)
    return decision.model_copy(update={"outcome": "denied", "violations": (*decision.violations, violation)})


def merge_decisions(decisions: Sequence[Decision], *, executor: str, suggester: str | None) -> Decision:
    """One decision for a batch of blocks: the strictest outcome, every violation, all operations."""
    if not decisions:
        ir = SovereignIR(code_signature="sha256:" + hashlib.sha256(b"").hexdigest())
        return Decision(outcome="approved", executor=executor, suggester=suggester, ir=ir)
    if len(decisions) == 1:
        return decisions[0]
    rank = {"approved": 0, "needs_approval": 1, "denied": 2}
    outcome = max((d.outcome for d in decisions), key=rank.__getitem__)
    violations = tuple(
        v.model_copy(update={"message": f"block {i}: {v.message}"})
        for i, d in enumerate(decisions, 1)
        for v in d.violations
    )
    languages = {d.ir.language for d in decisions}
    signature = hashlib.sha256("\n".join(d.ir.code_signature for d in decisions).encode()).hexdigest()
    ir = SovereignIR(
        canonical_action=decisions[0].ir.canonical_action,
        language=languages.pop() if len(languages) == 1 else "mixed",
        code_signature="sha256:" + signature,
        operations=tuple(op for d in decisions for op in d.ir.operations),
        unresolved=tuple(u for d in decisions for u in d.ir.unresolved),
    )
    reasons = tuple(dict.fromkeys(r for d in decisions for r in d.approval_reasons))
    return decisions[0].model_copy(
        update={"outcome": outcome, "violations": violations, "approval_reasons": reasons, "ir": ir}
    )


def _internal_denial(
    exc: BaseException,
    *,
    executor: str,
    suggester: str | None,
    code: str | None = None,
    language: str = "python",
    action: str = "code_execution",
) -> Decision:
    reason = f"internal error in the gate ({type(exc).__name__}: {exc}); denied to fail closed"
    digest = hashlib.sha256((code or "").encode("utf-8", "surrogatepass")).hexdigest()
    ir = SovereignIR(
        canonical_action="tool_use" if action == "tool_use" else "code_execution",
        language=language,
        code_signature="sha256:" + digest,
        unresolved=(Unresolved(reason=reason, kind="internal_error"),),
    )
    return Decision(
        outcome="denied",
        executor=executor,
        suggester=suggester,
        action="tool_use" if action == "tool_use" else "code_execution",
        violations=(Violation(constraint="internal_error", message=reason),),
        ir=ir,
    )


def _with_provenance(
    suggester: str | None, context: ConversationContext | None
) -> tuple[str | None, ConversationContext | None]:
    current = current_provenance.get()
    if current is None:
        return suggester, context
    return (suggester if suggester is not None else current.suggester), (context or current.context)


@lru_cache(maxsize=512)
def _analyze_cached(code: str, language: str, work_dir: str | None) -> SovereignIR:
    """AutoGen re-sends blocks an executor already saw; the IR of the same text is the same."""
    return analyze(code, language=language, work_dir=work_dir)


def _open_receipts(
    receipts: str | os.PathLike[str] | ReceiptLog | bool | None,
    key_path: str | os.PathLike[str] | None,
) -> ReceiptLog | None:
    if receipts is False:
        return None
    from governed_agents.receipts import ReceiptLog

    if isinstance(receipts, ReceiptLog):
        return receipts
    if receipts is None or receipts is True:
        receipts = os.environ.get(ENV_RECEIPTS) or DEFAULT_RECEIPTS
    return ReceiptLog(receipts, key_path=key_path)
