"""Module-level imports are bound before the walk only when one follows another statement; when
they all come first, the walk binds them before anything can read a name: the same IR."""

from __future__ import annotations

import libcst as cst
import pytest

from governed_agents import analyze
from governed_agents.analysis import _python
from governed_agents.analysis._walker import Walker
from tests.analysis._corpus import CORPUS, dev_snippets

CASES = [
    'import os\nos.remove("/etc/passwd")',
    'def f():\n    o.system("ls")\nimport os as o\n',
    'f = lambda: o.system("ls")\nimport os as o\n',
    'import os as o\nx = 1\nimport subprocess as o\no.run("ls")\n',
    'import subprocess as o; import os as o\no.system("ls")\n',
    'import sys\nsys = None\nimport os as sys\nsys.system("ls")\n',
    'from os import *\nsystem("ls")\nfrom subprocess import run\n',
    '"""doc"""\nimport os\nos.system("ls")\n',
    'import os\nclass A:\n    def m(self):\n        return p.run("x")\nimport subprocess as p\n',
]


class _AlwaysPrebind(Walker):
    """The walker as it was: every module-level import bound before the walk."""

    def prebind_imports(self) -> None:
        for statement in self.module.body:
            if type(statement) is not cst.SimpleStatementLine:
                continue
            for small in statement.body:
                if type(small) is cst.Import:
                    self.bind_import(small)
                elif type(small) is cst.ImportFrom and type(small.names) is not cst.ImportStar:
                    self.bind_import_from(small)


def _codes() -> list[str]:
    codes = list(CASES)
    if CORPUS.exists():
        codes += dev_snippets()
    return codes


def test_skipping_prebind_changes_no_ir(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = _codes()
    now = [analyze(code).model_dump_json() for code in codes]
    monkeypatch.setattr(_python, "Walker", _AlwaysPrebind)
    before = [analyze(code).model_dump_json() for code in codes]
    assert now == before


@pytest.mark.parametrize("code", CASES[1:3])
def test_a_scope_above_its_import_still_sees_it(code: str) -> None:
    assert [op.type for op in analyze(code).operations if op.type == "process_spawn"]
