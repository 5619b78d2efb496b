"""Shared by the CLI subcommands that take PATH…: a file, a directory (its .py/.sh files), or -."""

from __future__ import annotations

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
