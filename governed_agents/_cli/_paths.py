"""Shared by the CLI subcommands that take PATH…: a file, a directory (its .py/.sh files), or -."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

SUFFIX_LANGUAGE = {".py": "python", ".sh": "bash", ".bash": "bash", ".zsh": "bash"}


class InputError(Exception):
    pass


def read_inputs(paths: list[str], language: str | None) -> Iterator[tuple[str, str, str]]:
    """Yield ``(path, language, text)`` for every input; raise InputError for a missing path."""
    for raw in paths:
        if raw == "-":
            yield "-", language or "python", sys.stdin.read()
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIX_LANGUAGE and p.is_file())
        elif path.is_file():
            files = [path]
        else:
            raise InputError(f"{raw}: no such file or directory")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise InputError(f"{file}: {exc.strerror}") from exc
            yield str(file), language or SUFFIX_LANGUAGE.get(file.suffix, "python"), text


def collect_inputs(paths: list[str], language: str | None) -> tuple[list[tuple[str, str, str]], InputError | None]:
    """Every input up to the first path that cannot be read, and that path's error (or None): the
    inputs before it are still decided and printed, as they were when read one at a time."""
    inputs: list[tuple[str, str, str]] = []
    try:
        for item in read_inputs(paths, language):
            inputs.append(item)
    except InputError as exc:
        return inputs, exc
    return inputs, None


def jobs_argument(value: str) -> int:
    """``--jobs N``: a whole number of processes, at least 1."""
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more), got {value!r}")
    return jobs


JOBS_HELP = ("processes that share the inputs (default: one per CPU when there are enough files to pay for it; "
             "1: all in this process); the output is the same in any case")
