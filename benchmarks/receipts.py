"""Receipt log costs, with the per-append SHA-256 cost measured in the same run as the floor.

Prints appends/s (one per transaction, and batched), full verify time, and inclusion-proof size
and verify time at --size receipts (default 1,000,000).

    python benchmarks/receipts.py [--size N]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from governed_agents._provenance import ConversationContext
from governed_agents.receipts import PolicyEvaluation, Receipt, ReceiptLog


def make(i: int) -> Receipt:
    return Receipt(code_hash=f"sha256:{i:064x}", executor_agent="agent_exec", suggester_agent="agent_research",
                   conversation_context=ConversationContext(group_chat="bench", turn_number=i),
                   policy_evaluation=PolicyEvaluation(approved=True), outcome="approved")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = make(0).canonical()
        n = 20_000
        start = time.perf_counter()
        for _ in range(n):
            hashlib.sha256(b"\x00" + sample).digest()
        sha = (time.perf_counter() - start) / n
        print(f"floor: SHA-256 of one {len(sample)}-byte leaf: {sha * 1e6:.2f} us")

        single = ReceiptLog(Path(tmp) / "single.db")
        receipts = [make(i) for i in range(300)]
        start = time.perf_counter()
        for r in receipts:
            single.append(r)
        per_single = (time.perf_counter() - start) / len(receipts)
        print(f"single appends (one durable transaction + signed checkpoint each): {1 / per_single:,.0f}/s "
              f"({per_single * 1e3:.2f} ms each, {per_single / sha:,.0f}x the hash floor)")

        log = ReceiptLog(Path(tmp) / "big.db")
        start = time.perf_counter()
        made = 0
        while made < args.size:
            count = min(args.batch, args.size - made)
            log.append_many([make(made + i) for i in range(count)])
            made += count
        batched = (time.perf_counter() - start) / args.size
        print(f"batched appends ({args.batch} per transaction): {1 / batched:,.0f}/s "
              f"({batched * 1e6:.1f} us each incl. building the receipt, {batched / sha:,.0f}x the hash floor)")

        start = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - start
        print(f"full verify at {report.size:,} receipts: {verify_s:.1f} s, ok={report.ok}")

        times, sizes = [], []
        for index in range(0, args.size, max(1, args.size // 200)):
            proof = log.prove(index)
            start = time.perf_counter()
            assert proof.verify()
            times.append(time.perf_counter() - start)
            sizes.append(len(proof.path))
        print(f"inclusion proof at {args.size:,}: {statistics.mean(sizes):.1f} hashes on average (max {max(sizes)}), "
              f"verify {statistics.median(times) * 1e6:.0f} us median (goal < 1 ms)")


if __name__ == "__main__":
    main()
