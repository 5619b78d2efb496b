"""One PostgreSQL receipt log with many writer processes, against one SQLite writer in the same run.

Prints appends/s (one durable transaction and signed checkpoint per append) for 1, 4 and 16
writer processes into PostgreSQL and for one SQLite writer (the baseline), the same with the
coalescing writer (``aappend``: concurrent tasks in a process share a transaction), then fills one
PostgreSQL log to --size receipts through the bulk path (``append_many``: COPY, one transaction
per --batch) and prints how long that took, a full verify, and inclusion/consistency proof times.

    python benchmarks/receipts_postgres.py [--size 1000000] [--url postgresql://…]

Without --url it starts a throwaway server like the tests do (tests/_postgres.py: initdb as the
postgres user, 127.0.0.1, default durability settings: fsync on, synchronous_commit on).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from governed_agents._provenance import ConversationContext  # noqa: E402
from governed_agents.receipts import PolicyEvaluation, Receipt, ReceiptLog, verify_consistency  # noqa: E402


def make(i: int, agent: str = "agent_exec") -> Receipt:
    return Receipt(code_hash=f"sha256:{i:064x}", executor_agent=agent, suggester_agent="agent_research",
                   conversation_context=ConversationContext(group_chat="bench", turn_number=i),
                   policy_evaluation=PolicyEvaluation(approved=True), outcome="approved")


def _writer(target: str, key: str, name: str, seconds: float, tasks: int, start: mp.synchronize.Event,
            out: mp.Queue) -> None:  # type: ignore[type-arg]
    log = ReceiptLog(target, key_path=key)
    log.append(make(0, name))  # connected, key loaded
    start.wait()
    done, t0 = 0, time.perf_counter()
    if tasks == 1:
        while time.perf_counter() - t0 < seconds:
            log.append(make(done, name))
            done += 1
    else:
        async def run() -> int:
            count = 0
            while time.perf_counter() - t0 < seconds:
                await asyncio.gather(*(log.aappend(make(count + i, name)) for i in range(tasks)))
                count += tasks
            return count
        done = asyncio.run(run())
    out.put((done, time.perf_counter() - t0))
    log.close()


def throughput(target: str, key: str, processes: int, seconds: float, tasks: int = 1) -> float:
    """Total appends/s of ``processes`` writers started together, each for ``seconds``."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_writer, args=(target, key, f"w{n}", seconds, tasks, start, out))
               for n in range(processes)]
    for w in workers:
        w.start()
    time.sleep(2.0 + 0.2 * processes)  # every writer connected and waiting
    start.set()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    return sum(n for n, _ in results) / max(t for _, t in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput measurement")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway server)")
    args = parser.parse_args()
    cluster = None
    if args.url is None:
        from tests._postgres import PostgresCluster

        cluster = PostgresCluster()
    print(f"machine: {os.cpu_count()} cores; other work on it skews absolute figures, the ratios less so")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            key = str(Path(tmp) / "bench.key")

            def database() -> str:
                return args.url if cluster is None else cluster.new_database()

            base = throughput(str(Path(tmp) / "baseline.db"), key + ".sqlite", 1, args.seconds)
            print(f"SQLite, 1 writer process, one append per transaction: {base:,.0f} appends/s (baseline)")
            for n in (1, 4, 16):
                rate = throughput(database(), key, n, args.seconds)
                print(f"PostgreSQL, {n:2d} writer process(es), one append per transaction: {rate:,.0f} appends/s "
                      f"({rate / base:.2f}x the SQLite writer)")
            base_c = throughput(str(Path(tmp) / "coalesced.db"), key + ".sqlite", 1, args.seconds, tasks=32)
            print(f"SQLite, 1 writer process, 32 concurrent aappend tasks (coalesced): {base_c:,.0f} appends/s")
            for n in (1, 4, 16):
                rate = throughput(database(), key, n, args.seconds, tasks=32)
                print(f"PostgreSQL, {n:2d} writer process(es) x 32 concurrent aappend tasks: {rate:,.0f} appends/s "
                      f"({rate / base_c:.2f}x the coalesced SQLite writer)")

            big = database() if cluster is not None else args.url
            log = ReceiptLog(big, key_path=key)
            t0 = time.perf_counter()
            made = 0
            while made < args.size:
                count = min(args.batch, args.size - made)
                log.append_many([make(made + i) for i in range(count)])
                made += count
            fill = time.perf_counter() - t0
            print(f"bulk fill: {args.size:,} receipts in {fill:.0f} s ({args.size / fill:,.0f}/s, "
                  f"{args.batch} per transaction through COPY, building each receipt included)")
            t0 = time.perf_counter()
            report = log.verify(public_key=key + ".pub")
            print(f"full verify at {report.size:,} receipts: {time.perf_counter() - t0:.1f} s, ok={report.ok}")
            prove, check, sizes = [], [], []
            for index in range(0, args.size, max(1, args.size // 200)):
                t0 = time.perf_counter()
                proof = log.prove(index)
                prove.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert proof.verify()
                check.append(time.perf_counter() - t0)
                sizes.append(len(proof.path))
            print(f"inclusion proof at {args.size:,}: made in {statistics.median(prove) * 1e3:.1f} ms median "
                  f"(server round trips), {statistics.mean(sizes):.1f} hashes, verified in "
                  f"{statistics.median(check) * 1e6:.0f} us median")
            old = args.size // 3
            old_root = log.root(old)
            t0 = time.perf_counter()
            path = log.consistency(old)
            made_s = time.perf_counter() - t0
            ok = verify_consistency(old, log.size, old_root, log.root(), [bytes.fromhex(p) for p in path])
            print(f"consistency proof {old:,} -> {log.size:,}: made in {made_s * 1e3:.1f} ms, {len(path)} hashes, "
                  f"ok={ok}")
            log.close()
    finally:
        if cluster is not None:
            cluster.remove()


if __name__ == "__main__":
    main()
