"""Properties: the analyser never raises, and what it cannot parse is always unresolved."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from governed_agents import analyze


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_python_analysis_never_raises_and_unparsable_is_unresolved(text):
    ir = analyze(text)
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
    analyze(text, language="bash")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["import os", "os.system('x')", "def f(:", "open('/a','w')", "x = (", "pass"])))
def test_python_fragments(lines):
    ir = analyze("\n".join(lines))
    assert ir.operations or ir.unresolved or all(
        line in ("pass", "import os") for line in lines
    ) or not lines
