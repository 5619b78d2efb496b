"""The ``governed-agents`` command. Each subcommand lives in ``governed_agents/_cli/<name>.py``
and exposes ``register(subparsers)``; heavy imports (AutoGen, SQLite, rich) happen inside the
handlers, so ``analyze`` and ``check`` start fast.

argparse (standard library) rather than click/typer: no extra dependency and no import cost on the
hot CLI path; subcommands stay small.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

_SUBCOMMANDS = ("analyze", "check", "policy", "audit", "run", "demo")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command, or with ``only`` just that subcommand (the others' modules, which import
    asyncio or SQLite at the top, are then never loaded: ``check FILE`` starts faster)."""
    import argparse
    import importlib

    parser = argparse.ArgumentParser(
        prog="governed-agents", description="Execution authority for AutoGen agents."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS if only is None else (only,):
        importlib.import_module(f"governed_agents._cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command with ``argv`` (default: this process's arguments). Run as the process's own
    command (no ``argv`` given), ``analyze``, ``check`` and ``run`` go to the user's warm server
    when one is up (see ``_cli/_warm_client``: same output, same exit, a fraction of the
    start-up) and otherwise run here, starting one for the next command."""
    if argv is None and sys.argv[1:2] and sys.argv[1] in ("analyze", "check", "run"):
        from governed_agents._cli._warm_client import served

        try:
            code = served(sys.argv[1:])
        except KeyboardInterrupt:
            return 130
        if code is not None:
            return code
    collecting = gc.isenabled()
    try:
        return _main(argv)
    finally:
        if collecting:  # analyze, check and run turn the collector off for their start-up
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `governed-agents check …` needs only check's parser; anything else (no command, an option
    # first, a typo) gets the whole parser, so help and "invalid choice" list every command.
    parser = build_parser(argv[0] if argv and argv[0] in _SUBCOMMANDS else None)
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
