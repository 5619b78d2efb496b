"""Text evaluated as a type (typing.get_type_hints, pydantic, inspect.get_annotations): more than a type is code."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import load_policy

BROAD = load_policy(Path(__file__).resolve().parents[2] / "policies" / "examples" / "broad.policy")
RUN_ID = "__import__('os').system('id')"


def _evals(code: str) -> list[tuple[int, str]]:
    return [(o.line, o.detail) for o in analyze(code).operations if o.type == "dynamic_code" and o.kind == "eval"]


@pytest.mark.parametrize("code", [
    f'import pydantic\nclass M(pydantic.BaseModel):\n    x: "{RUN_ID} or int"\n',
    f'import typing\ndef f(x: "{RUN_ID}"): pass\ntyping.get_type_hints(f)\n',
    "def f() -> 'list[\"__import__(1)\"]': pass\n",  # a forward reference inside a subscript, itself text
    f'x: "Literal[{RUN_ID}]" = 1\n',  # a call inside Literal[…] is evaluated with the rest
    f'import typing\nT = typing.TypeVar("T", bound="{RUN_ID}")\n',
    f'from typing import ForwardRef\nForwardRef("{RUN_ID}")\n',
    'from typing import ForwardRef\nForwardRef(text)\n',
    # a type alias: get_type_hints evaluates the forward reference where the alias is used
    f'import typing\nAlias = typing.Optional["{RUN_ID}"]\ndef f(x: Alias): pass\ntyping.get_type_hints(f)\n',
    f'Alias = list["{RUN_ID}"]\n',
    f'from collections.abc import Callable\nAlias = Callable[["{RUN_ID}"], int]\n',
    f'import pydantic\npydantic.create_model("M", x=("{RUN_ID}", ...))\n',
])
def test_type_text_that_runs_code_is_eval_and_denied_under_the_broad_policy(code):
    assert _evals(code), code
    assert BROAD.evaluate(analyze(code), executor="broad").outcome == "denied"


def test_a_subscript_in_an_annotation_is_judged_once():
    assert len(_evals(f'from typing import List\ndef f(x: List["{RUN_ID}"]): pass\n')) == 1


def test_the_operation_is_where_the_text_is():
    assert _evals(f'import pydantic\nclass M(pydantic.BaseModel):\n    x: "{RUN_ID}"\n') == [
        (3, f"an annotation whose text typing.get_type_hints and pydantic evaluate: {RUN_ID!r}")]


@pytest.mark.parametrize("annotation", [
    "Node", "list[Node]", "dict[str, list['Node']]", "Optional['x.Y'] | None", "Literal['a-b', 1, -1]",
    "Annotated[int, 'any text, a doc!']", "Callable[[int], str]", "typing.Tuple[int, ...]", "not (valid",
])
def test_text_that_names_a_type_is_no_operation(annotation):
    code = f"import typing\nT = typing.TypeVar('T', bound={annotation!r})\ndef f(x: {annotation!r}): pass\n"
    assert _evals(code) == []
    # a Literal's or an Annotated's strings in a real annotation are values, not types
    assert _evals("from typing import Literal, Annotated\ndef f(m: Literal['r+w', 'a b'], "
                  "n: Annotated[int, 'more than (a type)']): pass\n") == []
    assert _evals("from typing import Literal, Optional\nA = Optional['Node']\nB = Literal['a-b']\nC = list['x.Y']\n"
                  "import pydantic\npydantic.create_model('M', x=(int, 1), y=('Node', None))\n") == []
