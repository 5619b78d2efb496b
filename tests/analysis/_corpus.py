"""The RedCode-Exec Python development snippets (RedCode authors, AI-secure/RedCode, CC BY 4.0),
from ../shared beside the checkout."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CORPUS", "dev_snippets"]

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"


def dev_snippets() -> list[str]:
    """Each snippet's code; raises when the corpus is not there."""
    return [case["code"] for case in json.loads(CORPUS.read_text())]
