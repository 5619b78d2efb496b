"""The ``governed-agents`` command. Each subcommand lives in ``governed_agents/_cli/<name>.py``
and exposes ``register(subparsers)``; heavy imports (AutoGen, SQLite, rich) happen inside the
handlers, so ``analyze`` and ``check`` start fast.

argparse (standard library) rather than click/typer: no extra dependency and no import cost on the
hot CLI path; subcommands stay small.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

_SUBCOMMANDS = ("analyze", "check", "policy", "audit", "run", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="governed-agents", description="Execution authority for AutoGen agents."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS:
        importlib.import_module(f"governed_agents._cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except BrokenPipeError:  # `governed-agents ... | head`
        return 0
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
