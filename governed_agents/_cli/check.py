"""`governed-agents check --policy FILE --agent NAME [--suggester NAME] … PATH…`.

Exit 0 when every input is approved, 1 when any is denied or needs approval, 2 for usage or
policy errors. ``--receipts LOG`` appends one receipt per decision. A receipt store that cannot
write never lets an approval through and never ends in a traceback: a log that cannot be opened
(a directory, a path that cannot be created, a file that is not a receipt log) is a setup error
like a broken policy — one line naming the path and the cause, nothing checked, exit 2 — and a
decision the opened log then fails to record is reported as denied (exit 1). ``run`` uses the same
rule (exit 2, or its own denial code 126).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

from governed_agents._cli._paths import JOBS_HELP, collect_inputs, jobs_argument


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check", help="decide whether an agent may run code",
        description="Analyse code and evaluate it under an agent's policy (intersected with the suggester's "
                    "where the policy says delegation: intersection).",
    )
    p.add_argument("--policy", required=True, help="policy file (.policy, .yaml, .json)")
    p.add_argument("--agent", required=True, help="the executing agent")
    p.add_argument("--suggester", help="the agent that suggested the code")
    p.add_argument("--language", help="python or bash (default: from each file's suffix)")
    p.add_argument("--work-dir", help="the directory the code would run in (resolves relative paths)")
    p.add_argument("--receipts", help="append a receipt per decision to this log (SQLite file or postgresql:// URL)")
    p.add_argument("--json", action="store_true", help="one JSON object per input")
    p.add_argument("--jobs", type=jobs_argument, metavar="N", help=JOBS_HELP)
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, a directory, or - for stdin")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    gc.disable()  # start-up only: on again once the first input is done (ordered_map)
    from governed_agents._cli._parallel import ordered_map
    from governed_agents.analysis import analyze
    from governed_agents.policy import PolicyError, load_policy

    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(f"governed-agents check: {exc}", file=sys.stderr)
        return 2
    log = None
    if args.receipts:
        from governed_agents.receipts import ReceiptStoreError

        try:
            log = open_receipts(args.receipts)
        except ReceiptStoreError as exc:
            print(f"governed-agents check: {exc}; nothing was checked", file=sys.stderr)
            return 2
    deciding, missing = policy.resolve(args.agent)
    if deciding is None:
        print(f"governed-agents check: {args.policy}: {missing} (agents: "
              f"{', '.join(policy.agents)}); every decision would be a denial", file=sys.stderr)

    def decide(item: tuple[str, str, str]) -> Any:
        """The decision (to be recorded here), or with no log what is printed for it."""
        path, language, text = item
        decision = policy.evaluate(analyze(text, language=language, work_dir=args.work_dir),
                                   executor=args.agent, suggester=args.suggester)
        return decision if log is not None else (decision.approved, _render(path, decision, None, as_json=args.json))

    inputs, error = collect_inputs(args.paths, args.language)
    worst = 0
    try:
        decided = ordered_map(decide, inputs, args.jobs, weight=lambda item: len(item[2]), kind=lambda item: item[1])
        for (path, _, _), result in zip(inputs, decided, strict=True):
            if log is None:
                approved, shown = result
            else:
                recorded = _record(log, result)  # False: not recorded, so denied
                decision = result if recorded is not False else result.model_copy(update={"outcome": "denied"})
                receipt_id = recorded if isinstance(recorded, str) else None
                approved, shown = decision.approved, _render(path, decision, receipt_id, as_json=args.json)
            worst = max(worst, 0 if approved else 1)
            sys.stdout.write(shown)
    finally:
        if log is not None:
            log.close()
    if error is not None:
        print(f"governed-agents check: {error}", file=sys.stderr)
        return 2
    return worst


def open_receipts(path: str) -> Any:
    """The receipt log at ``path`` (``check`` and ``run``). Raises ``ReceiptStoreError`` naming the
    path and the cause; SQLite's own words for a directory ("unable to open database file") do not
    say what is wrong, so that case is named here."""
    from governed_agents.receipts import ReceiptLog, ReceiptStoreError

    if Path(path).is_dir():
        raise ReceiptStoreError(f"cannot open the receipt log {path}: it is a directory")
    return ReceiptLog(path)


def _record(log: Any, decision: Any) -> str | bool:
    from governed_agents.receipts import Receipt

    try:
        return str(log.append(Receipt.from_decision(decision)).receipt_id)
    except Exception as exc:  # an unrecorded decision is a denial
        print(f"governed-agents check: receipt log could not write ({exc}); denied", file=sys.stderr)
        return False


def _render(path: str, decision: Any, receipt_id: Any, *, as_json: bool) -> str:
    if as_json:
        return json.dumps({
            "path": path,
            "approved": decision.approved,
            "outcome": decision.outcome,
            "executor": decision.executor,
            "suggester": decision.suggester,
            "violations": [v.model_dump(mode="json", exclude={"operation"}) for v in decision.violations],
            "approval_reasons": list(decision.approval_reasons),
            "limits": decision.limits.model_dump(mode="json"),
            "code_signature": decision.ir.code_signature,
            "receipt_id": receipt_id,
        }) + "\n"
    mark = {"approved": "APPROVED", "denied": "DENIED", "needs_approval": "NEEDS APPROVAL"}[decision.outcome]
    lines = [f"{path}: {mark}" + (f"  (receipt {receipt_id})" if receipt_id else "")]
    for v in decision.violations:
        lines.append(f"  {path}:{v.line}:{v.column}: [{v.constraint}] {v.message}" if v.line
                     else f"  {path}: [{v.constraint}] {v.message}")
    for reason in decision.approval_reasons:
        lines.append(f"  {path}: [requires_approval] {reason}")
    return "\n".join(lines) + "\n"
