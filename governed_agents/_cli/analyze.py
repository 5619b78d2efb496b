"""`governed-agents analyze [--language L] [--work-dir D] [--json] PATH…`: code → SovereignIR."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import Any

from governed_agents._cli._paths import JOBS_HELP, collect_inputs, jobs_argument


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "analyze", help="print what code does (SovereignIR)",
        description="Analyse Python or shell code into the operations a policy judges.",
    )
    p.add_argument("--language", help="python or bash (default: from each file's suffix; python for -)")
    p.add_argument("--work-dir", help="resolve relative paths against this directory")
    p.add_argument("--json", action="store_true", help="one JSON object per file: the IR plus 'path'")
    p.add_argument("--jobs", type=jobs_argument, metavar="N", help=JOBS_HELP)
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, a directory, or - for stdin")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    gc.disable()  # start-up only: on again once the first input is done (ordered_map)
    from governed_agents._cli._parallel import ordered_map
    from governed_agents.analysis import analyze

    def render(item: tuple[str, str, str]) -> str:
        path, language, text = item
        ir = analyze(text, language=language, work_dir=args.work_dir)
        return json.dumps({"path": path, **ir.model_dump(mode="json")}) + "\n" if args.json else _table(path, ir)

    inputs, error = collect_inputs(args.paths, args.language)
    for shown in ordered_map(render, inputs, args.jobs, weight=lambda item: len(item[2]), kind=lambda item: item[1]):
        sys.stdout.write(shown)
    if error is not None:
        print(f"governed-agents analyze: {error}", file=sys.stderr)
        return 2
    return 0


def _table(path: str, ir: Any) -> str:
    lines = [f"{path}  [{ir.language}]  {ir.code_signature[:19]}…"]
    for problem in ir.unresolved:
        lines.append(f"  {problem.line:>4}:{problem.column:<3} UNRESOLVED  {problem.kind}: {problem.reason}")
    for op in ir.operations:
        detail = {k: v for k, v in op.model_dump().items() if k not in ("type", "line", "column", "api")}
        shown = ", ".join(f"{k}={_short(v)}" for k, v in detail.items() if v not in (None, (), [], {}))
        lines.append(f"  {op.line:>4}:{op.column:<3} {op.type:<19} {shown}" + (f"  ({op.api})" if op.api else ""))
    if not ir.operations and not ir.unresolved:
        lines.append("  (no operations)")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("?" if v is None else str(v) for v in value) + "]"
    return str(value)
