"""Per-execution cost of the governed local runtime against AutoGen's stock
LocalCommandLineCodeExecutor on the same snippet, same run, with each layer's share and the cost of
the filesystem view (built from the policy) reported separately.

    python benchmarks/runtime.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from governed_agents.policy import RuntimeLimits
from governed_agents.runtime import _layers, _run, _view, run_code

SNIPPET = "print(1)\n"


async def timed(fn, runs: int) -> float:
    for _ in range(3):
        await fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def interleaved(first, second, runs: int) -> tuple[float, float]:
    """Medians of ``first`` and ``second`` timed in alternation, so that drift in the machine's load
    falls on both sides of the ratio alike."""
    for _ in range(3):
        await first()
        await second()
    a, b = [], []
    for _ in range(runs):
        for fn, samples in ((first, a), (second, b)):
            start = time.perf_counter()
            await fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


async def main(runs: int) -> None:
    from autogen_core import CancellationToken
    from autogen_core.code_executor import CodeBlock
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stock = LocalCommandLineCodeExecutor(work_dir=work / "stock")
        token = CancellationToken()

        async def run_stock():
            result = await stock.execute_code_blocks([CodeBlock(code=SNIPPET, language="python")], token)
            assert result.exit_code == 0

        data = work / "data"
        data.mkdir()
        # a policy with allowed_file_paths: the run builds the view from it (the seed's agent_analysis shape)
        limits = RuntimeLimits(max_execution_time=30, max_memory=1_000_000_000, readable_paths=(str(data),))

        async def run_governed():
            report = await run_code(SNIPPET, "python", limits, work_dir=work / "gov")
            assert report.exit_code == 0, report.output

        whole_root = limits.model_copy(update={"readable_paths": ("/",)})

        async def run_whole_root():
            report = await run_code(SNIPPET, "python", whole_root, work_dir=work / "gov")
            assert report.exit_code == 0, report.output

        baseline, full = await interleaved(run_stock, run_governed, runs)
        root = await timed(run_whole_root, runs)
        print(f"stock LocalCommandLineCodeExecutor: {baseline * 1e3:.1f} ms per run (median of {runs})")
        print(f"governed runtime, all layers:        {full * 1e3:.1f} ms per run: {full / baseline:.2f}x (goal <= 1.2x)")
        interpreter = _view.interpreter_roots()
        start = time.perf_counter()
        for _ in range(1000):  # with the opening of the /etc files it copies
            _view.build_view(limits, work / "gov", interpreter=interpreter).close()
        build = (time.perf_counter() - start) / 1000
        print(f"  the filesystem view: built in {build * 1e3:.3f} ms per run (in the parent); mounting it costs "
              f"{(full - root) * 1e3:+.1f} ms against a read-only root ({root * 1e3:.1f} ms per run)")

        # the programs view: a shell block under allowed_commands ["ls"] (only ls, the shells and the
        # interpreter in /usr/bin) against the same block under "*" (the whole /usr/bin)
        async def run_shell(allowed):
            report = await run_code("ls / >/dev/null\n", "bash", limits.model_copy(update={"allowed_commands": allowed}),
                                    work_dir=work / "gov")
            assert report.exit_code == 0, report.output

        every, named = await interleaved(lambda: run_shell(("*",)), lambda: run_shell(("ls",)), runs)
        print(f"  the programs view: a shell block with allowed_commands [\"ls\"] {named * 1e3:.1f} ms, with "
              f"[\"*\"] {every * 1e3:.1f} ms: {named / every:.2f}x")

        # each layer's share: switch layers off one at a time
        original_layers, original_bwrap = _layers.available_layers, _run.bwrap_path
        for layer in ("seccomp", "cgroup", "memory_cgroup", "bubblewrap"):
            def without(layer=layer):
                layers = dict(original_layers())
                layers[layer] = "off: benchmark"
                return layers

            _run.available_layers = without
            _run.bwrap_path = (lambda: None) if layer == "bubblewrap" else original_bwrap
            try:
                async def run_without():
                    report = await run_code(SNIPPET, "python", limits, work_dir=work / "gov", require_isolation=False)
                    assert report.exit_code == 0, report.output

                cost = await timed(run_without, runs)
            finally:
                _run.available_layers, _run.bwrap_path = original_layers, original_bwrap
            note = ""
            print(f"  without {layer:<10}: {cost * 1e3:.1f} ms -> the layer costs {(full - cost) * 1e3:+.1f} ms{note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
