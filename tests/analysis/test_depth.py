"""Text that could overflow libcst's parser is read by CPython's first; ordinary text is parsed once.

libcst's native parser dies with the process (SIGSEGV) past about 1,250 nested brackets, 8,000 unary
operators or 8,400 ``elif`` branches. Each case below kills a bare ``libcst.parse_module`` (checked
when it was written) and is written to slip past a scan that reads strings, lines or f-strings
wrongly; the analyser, run in a child so that a regression fails the test instead of the suite,
must refuse it with a reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from governed_agents.analysis._depth import may_overflow

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "redcode-exec" / "python-dev.json"
ORDINARY = 'import os\nname = f"{os.getcwd()!r:>10} {d[\'k\']}"\nprint(name)  # a comment ((((\n'

DEEP = {
    "a unary chain inside brackets, one operator a line": "x = (\n" + "-\n" * 9000 + "1)\n",
    "a unary chain across backslash continuations": "x = " + "-\\\n" * 9000 + "1\n",
    "brackets across lines, each line commented": "x = " + "(  # )\n" * 1300 + "1\n",
    "brackets after a comment holding a quote": "# it's\n" + "x = " + "(" * 1300 + "\n",
    "brackets after strings holding closing brackets": "x = ')]}' + \"))\" + " + "(" * 1300 + "\n",
    "brackets inside an f-string's field": 'x = f"{' + "(" * 1300 + "1" + ")" * 1300 + '}"\n',
    "f-strings nested in the same quotes (PEP 701)": "x = " + 'f"{' * 1300 + "1" + '}"' * 1300 + "\n",
    "a quote inside a field that ends the f-string early to a naive reader":
        "x = f\"{'\"'}\" + " + "-" * 9000 + "1  # '\n",
    "a triple-quoted string holding a line break before the nesting": 'x = """\n"""\nx = ' + "[" * 1300 + "\n",
    "an elif chain": "if a:\n    pass\n" + "elif a:\n    pass\n" * 9000,
    "brackets at the end of ordinary code": ORDINARY * 200 + "x = " + "(" * 1300 + "\n",
    # the scan skips runs of simple lines in one step: what ends such a run must still be read
    "brackets after simple lines of strings and calls":
        "x = f('a', [\"b\", {'c': (1)}])  # c\n" * 100 + "x = " + "(" * 1300 + "\n",
    "brackets after a comment ended by a carriage return": ORDINARY * 200 + "# c\rx = " + "(" * 1300 + "\n",
    "brackets after a line of three quotes read as one": ORDINARY * 200 + 'x = """a"\n"""\n' + "x = " + "(" * 1300
        + "\n",
}


@pytest.mark.parametrize("code", DEEP.values(), ids=DEEP.keys())
def test_nesting_that_would_kill_libcst_is_read_by_python_first(code: str) -> None:
    assert may_overflow(code)
    probe = ("import sys; from governed_agents import analyze; ir = analyze(sys.stdin.read()); "
             "print(ir.unresolved[0].kind if ir.unresolved else 'none')")
    done = subprocess.run([sys.executable, "-c", probe], input=code, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() in ("limit", "parse_error")


def test_ordinary_code_is_parsed_once_however_long() -> None:
    snippets = [case["code"] for case in json.loads(CORPUS.read_text())] if CORPUS.exists() else [ORDINARY]
    text = "\n".join(snippets)
    while text.count("\n") < 20_000:
        text += "\n" + text
    assert not may_overflow(text)
    assert not may_overflow(ORDINARY * 500)


@pytest.mark.parametrize("code", [
    "x = " + "'a' " * 900 + "\n",  # a long line of plain strings still counts each string
    "x = 1" + " + 1" * 300 + "\n",
    "x = f'" + "{a}" * 400 + "'\n",  # an f-string counts whole
])
def test_a_long_logical_line_is_risky(code: str) -> None:
    assert may_overflow(code)


@pytest.mark.parametrize("code", [
    "x = '" + "(" * 5000 + "'\n",  # brackets in a string nest nothing
    "# " + "(" * 5000 + "\n" + "x = 1\n" * 100,
    "x = '''\n" + "(\n" * 3000 + "'''\n",
    'x = f"{d[\'k\']:{width}} {{literal}} {y!r}"\n' * 100,
])
def test_text_that_only_looks_deep_is_not(code: str) -> None:
    assert not may_overflow(code)


def _in_blocks(line: str) -> str:
    """``line`` at the bottom of 99 nested blocks, one short of the tokenizer's 100 levels."""
    return "".join(" " * i + "if a:\n" for i in range(99)) + " " * 99 + line + "\n"


AT_THE_BOUND = {
    "199 brackets and 90 unary operators": _in_blocks("x = " + "(" * 199 + "-" * 90 + "1" + ")" * 199),
    "a lambda chain": _in_blocks("x = " + "lambda: " * 86 + "1"),
    "a subscript chain": _in_blocks("x = a" + "[0]" * 225),
    "a call chain": _in_blocks("x = f" + "()" * 340),
}


@pytest.mark.parametrize("code", AT_THE_BOUND.values(), ids=AT_THE_BOUND.keys())
def test_text_just_under_the_bound_is_parsed_by_libcst_alone_and_safely(code: str) -> None:
    # the bound leaves a margin: the deepest text it lets through, in the deepest blocks libcst's
    # tokenizer accepts, does not come near the stack (run in a child all the same)
    assert not may_overflow(code)
    probe = "import sys, libcst; libcst.parse_module(sys.stdin.read()); print('parsed')"
    done = subprocess.run([sys.executable, "-c", probe], input=code, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "parsed", done.stderr[-500:]
