"""The analyser's parse skips libcst's per-node checks for ASCII text, and only there."""

from __future__ import annotations

import threading

import libcst as cst
import pytest

from governed_agents import analyze
from governed_agents.analysis._parse import parse
from tests.analysis._corpus import CORPUS, dev_snippets

SNIPPETS = [
    "import os\nos.system('ls')\n",
    "async def f(x: int = 1, *a, **k) -> None:\n    async with g() as h:\n        await h\n",
    "match p:\n    case {'a': [1, *rest]} if rest:\n        print(f'{rest!r:>10}')\n",
    "x = lambda a, /, b=2, *, c: (yield from c) if a else b @ c\n",
    "class C[T](B, metaclass=M):\n    type A = list[T]\n",
    "try:\n    pass\nexcept* (E, F) as e:\n    del e\nfinally:\n    0x1F + 1_000j + 1e-3\n",
]


def _codes() -> list[str]:
    codes = list(SNIPPETS)
    if CORPUS.exists():
        codes += dev_snippets()
    return codes


def test_the_tree_is_the_one_libcst_builds_with_its_checks() -> None:
    for code in _codes():
        tree = parse(code)
        assert tree.deep_equals(cst.parse_module(code)), code
        assert tree.code == code


def test_nodes_built_outside_the_parse_are_still_checked() -> None:
    parse("x = 1\n")
    with pytest.raises(cst.ParserSyntaxError):
        parse("x = (\n")
    with pytest.raises(cst.CSTValidationError):  # after a parse that failed half way too
        cst.Name("1x")


def test_another_thread_building_nodes_during_a_parse_is_checked() -> None:
    big = "".join(f"v{i} = f(a[{i}], b={i}) + g.h(*c)\n" for i in range(2_000))
    done = threading.Event()
    tries = refused = 0

    def parse_big() -> None:
        try:
            parse(big)
        finally:
            done.set()

    thread = threading.Thread(target=parse_big)
    thread.start()
    while not done.is_set():
        tries += 1
        try:
            cst.Name("not a name")
        except cst.CSTValidationError:
            refused += 1
    thread.join()
    assert tries > 10  # the two threads did overlap
    assert refused == tries


def test_a_non_ascii_name_that_is_no_identifier_is_still_a_parse_error() -> None:
    # libcst's tokenizer reads U+200C (zero width non-joiner) inside a name; Python does not.
    ir = analyze("a\u200c = 1\nimport os\nos.system('ls')\n")
    assert not ir.operations
    assert [problem.kind for problem in ir.unresolved] == ["parse_error"]
