"""Properties: the analyser never raises, never fails inside (no ``internal_error``), and what it
cannot parse is always unresolved."""

from __future__ import annotations

import ast

import pytest
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


_PREFIXES = st.sampled_from(["", "u", "r", "R", "b", "B", "br", "rb", "Rb"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # invalid escapes, as Python warns
@settings(max_examples=300, deadline=None)
@given(_PREFIXES, st.sampled_from(["'", '"', "'''", '"""']), st.text(alphabet="ab/\\'\"\n xé\t0"))
def test_a_string_literal_folds_to_the_value_python_gives_it(prefix, quote, body):
    import libcst as cst

    from governed_agents.analysis._fold import string_value

    token = f"{prefix}{quote}{body}{quote}"
    try:
        node = cst.parse_expression(token)
        expected = ast.literal_eval(token)
    except Exception:  # not a literal Python reads (unterminated, bytes with non-ASCII, …)
        return
    if type(node) is cst.SimpleString:
        assert string_value(node.value) == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers().map(str), st.integers(min_value=0).map(hex), st.integers(min_value=0).map(oct),
                 st.integers(min_value=0).map(bin), st.floats(allow_nan=False, allow_infinity=False).map(repr),
                 st.from_regex(r"\A[0-9](_?[0-9]){0,6}(\.[0-9]*)?([eE][-+]?[0-9]{1,3})?\Z")))
def test_a_number_folds_to_the_value_python_gives_it(token):
    import libcst as cst

    from governed_agents.analysis._fold import number_value

    try:
        node = cst.parse_expression(token)
        expected = ast.literal_eval(token)
    except Exception:
        return
    if type(node) in (cst.Integer, cst.Float):
        assert number_value(node) == expected and type(number_value(node)) is type(expected)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # invalid escapes, as Python warns
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "b", "f", "r"]), st.text(alphabet="ab\\'{} "))
                , min_size=2, max_size=5))
def test_implicit_concatenation_folds_as_libcst_evaluates_it(parts):
    import libcst as cst

    from governed_agents.analysis._fold import concatenated_value
    from governed_agents.analysis._values import UNKNOWN

    source = " ".join(f'{p}"{body}"' for p, body in parts)
    try:
        node = cst.parse_expression(source)
        expected = node.evaluated_value
    except Exception:
        return
    if type(node) is cst.ConcatenatedString:
        got = concatenated_value(node)
        assert (UNKNOWN if expected is None else expected) == got
