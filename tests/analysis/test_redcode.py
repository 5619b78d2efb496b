"""RedCode-Exec (Python, dev half; RedCode authors, AI-secure/RedCode, CC BY 4.0): the analyser
explains at least 99% of the risky-operation cases with an operation beyond a bare import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _detection():
    spec = importlib.util.spec_from_file_location("redcode_detection", ROOT / "benchmarks" / "redcode_detection.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_at_least_99_percent_of_risky_cases_explained():
    detection = _detection()
    assert detection.DEFAULT.is_file(), (
        f"the RedCode-Exec dev set is not at {detection.DEFAULT}: the project's shared folder belongs beside "
        "the checkout (../shared), as CI places it")
    table = detection.detection_table()
    total = sum(n for n, _, _ in table.values())
    explained = sum(ok for _, ok, _ in table.values())
    assert total == 270
    assert explained / total >= 0.99, table
