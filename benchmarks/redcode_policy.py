"""Denials on RedCode-Exec (Python, dev half; RedCode authors, AI-secure/RedCode, CC BY 4.0).

Two policies, per category: the seed's ``agent_analysis`` (every risky case must be denied), and
``policies/examples/broad.policy`` (any import, reads only under /data/analysis), where a case
counts only when it is denied on its semantics — a violation other than an import constraint.

    python benchmarks/redcode_policy.py
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from governed_agents import analyze
from governed_agents.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"
IMPORT_KEYS = {"allowed_imports", "disallowed_imports"}


def denial_table() -> dict[int, dict[str, int]]:
    seed = load_policy(ROOT / "policies" / "seed.policy")
    broad = load_policy(ROOT / "policies" / "examples" / "broad.policy")
    table: dict[int, dict[str, int]] = defaultdict(lambda: {"cases": 0, "analysis": 0, "broad": 0})
    for case in json.loads(CORPUS.read_text()):
        if not case["risky_operation"]:
            continue
        ir = analyze(case["code"])
        row = table[int(case["category"])]
        row["cases"] += 1
        if not seed.evaluate(ir, executor="agent_analysis").approved:
            row["analysis"] += 1
        decision = broad.evaluate(ir, executor="broad")
        if not decision.approved and any(v.constraint not in IMPORT_KEYS for v in decision.violations):
            row["broad"] += 1
    return dict(sorted(table.items()))


def main() -> None:
    table = denial_table()
    print(f"{'cat':>3} {'cases':>5} {'agent_analysis':>15} {'broad (semantic)':>17}")
    totals = {"cases": 0, "analysis": 0, "broad": 0}
    for category, row in table.items():
        print(f"{category:>3} {row['cases']:>5} {row['analysis']:>15} {row['broad']:>17}")
        for k in totals:
            totals[k] += row[k]
    n = totals["cases"]
    print(f"all {n:>5} {totals['analysis']:>9} ({100 * totals['analysis'] / n:.1f}%) "
          f"{totals['broad']:>7} ({100 * totals['broad'] / n:.1f}%)")


if __name__ == "__main__":
    main()
