"""`governed-agents demo`: the seed's persuasion scenario, offline, as an AutoGen group chat."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the offline persuasion demo (no API key needed)")
    p.add_argument("--dir", default="governed-agents-demo",
                   help="where the demo writes its database, policy and receipts (default: ./governed-agents-demo)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import sys

    from governed_agents.autogen._demo import DemoFolderInUse, run_demo

    try:
        return asyncio.run(run_demo(Path(args.dir)))
    except DemoFolderInUse as exc:
        print(f"governed-agents demo: {exc}", file=sys.stderr)
        return 2
