"""Policy evaluation cost as a share of analysis, same snippets, same run (goal <= 10%).

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0), evaluated
under every agent of policies/seed.policy.

    python benchmarks/policy.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from governed_agents import analyze
from governed_agents.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    codes = [c["code"] for c in json.loads(CORPUS.read_text())]
    policy = load_policy(ROOT / "policies" / "seed.policy")
    agents = list(policy.agents)
    irs = [analyze(c) for c in codes]
    analysis = evaluation = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        for code in codes:
            analyze(code)
        analysis = min(analysis, time.perf_counter() - start)
        start = time.perf_counter()
        for ir in irs:
            for agent in agents:
                policy.evaluate(ir, executor=agent)
        evaluation = min(evaluation, (time.perf_counter() - start) / len(agents))
    print(f"snippets: {len(codes)}, agents: {len(agents)}")
    print(f"analysis {1e6 * analysis / len(codes):.0f} us/snippet, evaluation {1e6 * evaluation / len(codes):.0f} "
          f"us/snippet/agent: evaluation adds {100 * evaluation / analysis:.1f}% (goal <= 10%)")


if __name__ == "__main__":
    main()
