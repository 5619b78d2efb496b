"""Properties: the analyser never raises, never fails inside (no ``internal_error``), and what it
cannot parse is always unresolved."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from governed_agents import analyze


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_python_analysis_never_raises_and_unparsable_is_unresolved(text):
    ir = analyze(text)
    assert not [u for u in ir.unresolved if u.kind == "internal_error"], ir.unresolved
    try:
        ast.parse(text)
        parses = True
    except (SyntaxError, ValueError):
        parses = False
    if not parses:
        assert ir.unresolved, "unparsable text must be unresolved"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_shell_analysis_never_raises(text):
    ir = analyze(text, language="bash")
    assert not [u for u in ir.unresolved if u.kind == "internal_error"], ir.unresolved


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["import os", "os.system('x')", "def f(:", "open('/a','w')", "x = (", "pass"])))
def test_python_fragments(lines):
    ir = analyze("\n".join(lines))
    assert not [u for u in ir.unresolved if u.kind == "internal_error"], ir.unresolved
    assert ir.operations or ir.unresolved or all(
        line in ("pass", "import os") for line in lines
    ) or not lines


_PIECES = [
    "import os", "import pathlib", "from pathlib import Path", "p = Path('/data/analysis')", "q = p / x",
    "q = p / '/etc'", "p.joinpath(*parts).read_text()", "p.with_name(n).read_text()", "p.with_suffix('')",
    "for n in ['a', 'b']:\n    getattr(os, n)", "{n: getattr(o, n) for n in ('x', 'y')}", "os.environb[b'K']",
    "ｏｐｅｎ('x')", "# coding: latin-1", "f(open=1, vars=2)", "import io\nb = io.BytesIO()", "np.save(b, a)",
    "import pandas as pd", "pd.io.parsers.read_csv(b)", "pd.DataFrame.to_csv()", "Path()", "Path(*a, **k)",
    "os.path.join()", "import pkgutil", "pkgutil.resolve_name()", "x = (", "getattr()", "os.environ[",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8))
def test_combinations_of_new_routes_never_fail_inside(lines):
    ir = analyze("\n".join(lines))
    assert not [u for u in ir.unresolved if u.kind == "internal_error"], ir.unresolved
