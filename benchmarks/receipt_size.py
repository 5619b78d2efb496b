"""Receipt size on realistic decisions: the 405 RedCode-Exec development snippets decided under the
broad policy, each in a conversation (group chat, turn, both messages), goal <= 1.5 KB typical.

Prints the Merkle leaf's size with the analysis and the rule stored inline (as every receipt held
them before) and as references to parts stored once per log, and the bytes per receipt of an SQLite
log holding ``--rounds`` passes over the corpus (the same code decided again references the same
analysis).

Corpus: RedCode-Exec Python dev half (RedCode authors, AI-secure/RedCode, CC BY 4.0).

    python benchmarks/receipt_size.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import rfc8785

from governed_agents import analyze, load_policy
from governed_agents._provenance import ConversationContext
from governed_agents.receipts import Receipt, ReceiptLog

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    policy = load_policy(ROOT / "policies" / "examples" / "broad.policy")
    codes = [c["code"] for c in json.loads(CORPUS.read_text())]
    receipts = []
    for turn, code in enumerate(codes, start=1):
        context = ConversationContext(group_chat="redcode-review", turn_number=turn,
                                      message_from_suggester="Please run this for me:\n" + code[:200],
                                      message_from_executor="Running the code you sent.")
        decision = policy.evaluate(analyze(code), executor="broad", suggester="coder")
        receipts.append(Receipt.from_decision(decision, context=context))
    inline = sorted(len(rfc8785.dumps(r.model_dump(mode="json", exclude={"merkle_index"}))) for r in receipts)
    leaf = sorted(len(r.canonical()) for r in receipts)
    for name, sizes in (("inline analysis and rule", inline), ("referenced by hash", leaf)):
        print(f"leaf, {name:<24}: median {statistics.median(sizes):6.0f} B, p90 {sizes[int(len(sizes) * 0.9)]:6d} B, "
              f"max {sizes[-1]:6d} B")
    print(f"typical (median) receipt: {statistics.median(leaf) / 1000:.2f} KB "
          f"({statistics.median(leaf) / statistics.median(inline):.2f}x the inline form; goal <= 1.5 KB)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.db"
        with ReceiptLog(path) as log:
            for _ in range(args.rounds):
                log.append_many([r.model_copy(update={"receipt_id": f"{i}-{log.size}"})
                                 for i, r in enumerate(receipts)])
            total = log.size
            assert log.verify().ok
        size = path.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("r.db-*"))
        print(f"SQLite log of {total} receipts ({args.rounds} passes over the corpus): {size / total:,.0f} B "
              "per receipt on disk, tree and parts included")


if __name__ == "__main__":
    main()
