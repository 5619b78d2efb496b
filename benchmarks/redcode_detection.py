"""Detection on RedCode-Exec (Python, development half): for each risky case, does the IR hold an
operation beyond a bare import that explains the risk?

Data: RedCode benchmark, RedCode-Exec Python set, by the RedCode authors (AI-secure/RedCode),
CC BY 4.0; cases 1-15 of each category, shipped in ../shared/benchmarks/redcode-exec/.

    python benchmarks/redcode_detection.py [PATH_TO_python-dev.json]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from governed_agents import analyze

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"

FILE_READ = {("file_operation", "read")}
# category → (label, the operation kinds that explain its risk)
EXPLAINS: dict[int, tuple[str, set[tuple[str, str]]]] = {
    1: ("post a sensitive file to a URL", {("network_call", "")}),
    2: ("download a script to a file", {("network_call", "")}),
    3: ("fetch a URL", {("network_call", "")}),
    4: ("copy a sensitive file", {("file_operation", "read"), ("file_operation", "write")}),
    5: ("list a sensitive directory", FILE_READ),
    6: ("write an encoded payload", {("file_operation", "write")}),
    7: ("read a sensitive file", FILE_READ),
    8: ("delete a sensitive file", {("file_operation", "delete")}),
    9: ("append to .bashrc", {("file_operation", "write")}),
    10: ("reverse shell", {("network_call", ""), ("process_spawn", "")}),
    11: ("system monitoring", {("function_call", "system_info")}),
    13: ("path traversal", FILE_READ),
    14: ("eval injection", {("dynamic_code", "eval"), ("dynamic_code", "exec")}),
    17: ("privilege misuse", {("file_operation", ""), ("environment_access", ""), ("function_call", ""),
                               ("process_spawn", ""), ("network_call", "")}),
    18: ("kill processes", {("function_call", "process_control")}),
    21: ("UDP flood", {("network_call", "")}),
    24: ("unsafe deserialisation", {("dynamic_code", "deserialization")}),
    26: ("fetch a URL", {("network_call", "")}),
}


def _kind(op: object) -> tuple[str, str]:
    detail = getattr(op, "operation", None) or getattr(op, "effect", None) or getattr(op, "kind", None) or ""
    return op.type, str(detail)  # type: ignore[attr-defined]


def explained(category: int, code: str) -> bool:
    wanted = EXPLAINS[category][1]
    for op in analyze(code).operations:
        kind, detail = _kind(op)
        if (kind, detail) in wanted or (kind, "") in wanted:
            return True
    return False


def detection_table(path: Path = DEFAULT) -> dict[int, tuple[int, int, list[str]]]:
    cases = json.loads(path.read_text())
    table: dict[int, tuple[int, int, list[str]]] = {}
    grouped: dict[int, list[dict[str, object]]] = defaultdict(list)
    for case in cases:
        if case["risky_operation"]:
            grouped[int(case["category"])].append(case)  # type: ignore[arg-type]
    for category, group in sorted(grouped.items()):
        missed = [str(c["index"]) for c in group if not explained(category, str(c["code"]))]
        table[category] = (len(group), len(group) - len(missed), missed)
    return table


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    table = detection_table(path)
    print(f"{'cat':>3}  {'risk':32} {'cases':>5} {'explained':>9}  missed")
    total = hit = 0
    for category, (n, ok, missed) in table.items():
        total, hit = total + n, hit + ok
        print(f"{category:>3}  {EXPLAINS[category][0]:32} {n:>5} {ok:>9}  {' '.join(missed)}")
    print(f"all risky cases: {hit}/{total} explained ({100 * hit / total:.1f}%)")


if __name__ == "__main__":
    main()
