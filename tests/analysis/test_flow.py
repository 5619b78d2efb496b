"""Where control flow meets: a value bound in a branch that may not run, or rebound by a loop body
that runs again, is not the only value the name may hold (analysis/_flow.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
BROAD = load_policy(ROOT / "policies" / "examples" / "broad.policy")  # reads under /data/analysis only


def _decide(code: str):
    return BROAD.evaluate(analyze(code), executor="broad")


@pytest.mark.parametrize("code", [
    # the last binding in the text is in a branch that may not run
    "import sys\np = '/etc/passwd'\nif len(sys.argv) > 5:\n    p = '/data/analysis/x'\nopen(p).read()",
    "import sys\np = '/etc/passwd'\nif len(sys.argv) > 5:\n    pass\nelse:\n    p = '/data/analysis/x'\nopen(p).read()",
    "p = '/etc/passwd'\nfor q in []:\n    p = '/data/analysis/x'\nopen(p).read()",
    "p = '/etc/passwd'\nwhile False:\n    p = '/data/analysis/x'\nopen(p).read()",
    "p = '/etc/passwd'\ntry:\n    1 / 0\n    p = '/data/analysis/x'\nexcept Exception:\n    pass\nopen(p).read()",
    "p = '/etc/passwd'\nmatch input():\n    case 'x':\n        p = '/data/analysis/x'\nopen(p).read()",
    "p = '/etc/passwd'\n[p := '/data/analysis/x' for _ in []]\nopen(p).read()",
    "import sys\np = '/etc/passwd'\nlen(sys.argv) > 5 and (p := '/data/analysis/x')\nopen(p).read()",
    # a later iteration sees what the body bound in the one before
    "p = '/data/analysis/a'\nwhile True:\n    open(p).read()\n    p = '/etc/passwd'",
    "p = '/data/analysis/a'\nfor i in range(2):\n    open(p).read()\n    p = '/etc/passwd'",
    "p = '/data/analysis'\nfor i in range(3):\n    open(p + '/x').read()\n    p = p + '/..'",
    "def f():\n    p = '/data/analysis/a'\n    for _ in range(2):\n        open(p).read()\n        p = '/etc/shadow'\nf()",
])
def test_a_value_from_a_branch_or_a_later_iteration_is_not_the_only_one(code):
    decision = _decide(code)
    assert not decision.approved
    assert "allowed_file_paths" in {v.constraint for v in decision.violations}, decision.violations


def test_an_api_a_later_iteration_calls_is_reported():
    decision = _decide("import os\nf = print\nfor i in range(2):\n    f('id')\n    f = os.system")
    assert not decision.approved and "allowed_commands" in {v.constraint for v in decision.violations}


@pytest.mark.parametrize("code", [
    # both branches within the readable paths: each is checked
    "import sys\np = '/data/analysis/a.csv'\nif len(sys.argv) > 1:\n    p = '/data/analysis/b.csv'\nopen(p).read()",
    # a loop over literal names: each path computed
    "import pandas as pd\nfor name in ['a', 'b']:\n    df = pd.read_csv('/data/analysis/' + name + '.csv')\n"
    "    df = df.dropna()\n    print(df.shape)",
    # rebound before use in every iteration: the first value is gone
    "p = '/etc/passwd'\nfor i in range(2):\n    p = '/data/analysis/b'\n    open(p).read()",
    "total = 0\nfor x in range(3):\n    total = total + x\nprint(total)",
    "with open('/data/analysis/a') as f:\n    text = f.read()\nprint(text)",
])
def test_precise_enough_for_ordinary_code(code):
    decision = _decide(code)
    assert decision.approved, decision.violations


def test_both_paths_are_named_and_a_loop_walked_again_reports_nothing_twice():
    ir = analyze("import sys\np = 'a.csv'\nif len(sys.argv) > 1:\n    p = 'b.csv'\nopen(p).read()", work_dir="/w")
    reads = [o.paths for o in ir.operations if o.type == "file_operation"]
    assert reads == [("/w/a.csv",), ("/w/b.csv",)]
    ir = analyze("import os\np = 'a'\nfor i in range(3):\n    os.remove('/w/x')\n    open(p).read()\n    p = 'b'",
                 work_dir="/w")
    removes = [o for o in ir.operations if o.type == "file_operation" and o.operation == "delete"]
    assert len(removes) == 1  # the second pass found it again: reported once
    reads = sorted(o.paths for o in ir.operations if o.type == "file_operation" and o.operation == "read")
    assert reads == [("/w/a",), ("/w/b",)]


def test_a_second_pass_leaves_the_signature_as_one_pass_makes_it():
    one = analyze("p = 'a'\nfor i in range(3):\n    open(p)\n    p = 'b'\n")
    spaced = analyze("p = 'a'   # first\nfor i in range(3):\n\n    open(p)\n    p = 'b'\n")
    assert one.code_signature == spaced.code_signature
    other = analyze("p = 'a'\nfor i in range(3):\n    open(p)\n    p = 'c'\n")
    assert one.code_signature != other.code_signature
