"""`governed-agents run`: run a file as an agent's governed executor would (gate, then runtime).

Exit codes: the program's own exit code when it ran; 126 when the gate denied it (nothing ran);
the program's non-zero code (or 125) when a runtime limit stopped it; 2 for usage or policy errors
and for a ``--receipts`` log that cannot be opened (a directory, a path that cannot be created, a
file that is not a receipt log): one line naming the path and the cause, and nothing runs, as in
``check``. A decision the opened log fails to record is a denial (126): code never runs unrecorded.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
from pathlib import Path
from typing import Any

DENIED = 126
LIMIT = 125
USAGE = 2

_LANGUAGE_BY_SUFFIX = {".py": "python", ".sh": "bash", ".bash": "bash"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a file under an agent's policy and runtime limits",
        description="Gate FILE for AGENT, then run it under the policy's runtime limits.",
    )
    p.add_argument("--policy", required=True, help="policy file (.policy, .yaml, .json)")
    p.add_argument("--agent", required=True, help="the executing agent whose policy decides")
    p.add_argument("--suggester", help="the agent that suggested the code (for delegation rules)")
    p.add_argument("--language", help="python or bash (default: from the file's suffix)")
    p.add_argument("--work-dir", help="where the code runs (default: a fresh temporary folder)")
    p.add_argument("--receipts", help="receipt log to append the decision to (SQLite file or postgresql:// URL)")
    p.add_argument(
        "--allow-missing-isolation",
        action="store_true",
        help="run with the layers this machine has when bubblewrap is missing (default: deny)",
    )
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    gc.disable()  # one file, one decision: no collection passes over the imports (cli.main turns it on again)
    path = Path(args.file)
    try:
        code = sys.stdin.read() if args.file == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"governed-agents run: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return USAGE
    language = args.language or _LANGUAGE_BY_SUFFIX.get(path.suffix.lower(), "python")
    with tempfile.TemporaryDirectory(prefix="governed-run-") as tmp:
        work_dir = Path(args.work_dir) if args.work_dir else Path(tmp)
        return _gate(args, code, language, work_dir)


def _gate(args: argparse.Namespace, code: str, language: str, work_dir: Path) -> int:
    from governed_agents.analysis._prefetch import prefetch

    prefetch(code, language, str(work_dir))  # the analysis runs on the other core while the rest loads
    from governed_agents._cli.check import open_receipts
    from governed_agents.governor import Governor
    from governed_agents.policy import PolicyError, load_policy

    try:
        policy = load_policy(args.policy)
    except (PolicyError, OSError) as exc:
        print(f"governed-agents run: {exc}", file=sys.stderr)
        return USAGE
    log = None
    if args.receipts:
        from governed_agents.receipts import ReceiptStoreError

        try:
            log = open_receipts(args.receipts)
        except ReceiptStoreError as exc:
            print(f"governed-agents run: {exc}; nothing ran", file=sys.stderr)
            return USAGE
    governor = Governor(policy, log if log is not None else False,
                        require_isolation=not args.allow_missing_isolation)
    try:
        return asyncio.run(_gate_and_run(governor, code, language, work_dir, args))
    finally:
        if log is not None:
            log.close()
        # what exists now (the imports, all still in the youngest generation) is moved out of the
        # collector's way before cli.main turns it on again: otherwise the next collection, or the
        # interpreter's exit, walks all of it (65 ms of a one-line run's wall clock)
        gc.freeze()


async def _gate_and_run(governor: Any, code: str, language: str, work_dir: Path, args: argparse.Namespace) -> int:
    """The Governor's one gate-then-run path, as every governed executor takes it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    execution = await governor.execute([(language, code)], executor=args.agent, suggester=args.suggester,
                                       work_dir=work_dir)
    gate = execution.gate
    where = f" (receipt {gate.receipt_id})" if gate.receipt_id else ""
    if not gate.approved:
        print(f"governed-agents run: {args.file}: {gate.decision.explain()}{where}", file=sys.stderr)
        return DENIED
    if not execution.reports:
        print(f"governed-agents run: {args.file}: {execution.output}", file=sys.stderr)
        return DENIED
    report = execution.reports[0]
    sys.stdout.write(report.stdout)
    sys.stderr.write(report.stderr)
    for note in execution.notes:
        print(f"governed-agents run: {args.file}: {note}", file=sys.stderr)
    if report.limit_broken or report.exit_code != 0:
        summary = report.summary()
        if summary:
            print(f"governed-agents run: {args.file}: {summary}", file=sys.stderr)
    if report.limit_broken:
        return report.exit_code if report.exit_code not in (0, None) else LIMIT
    return int(report.exit_code)
