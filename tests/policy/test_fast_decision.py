"""evaluate builds its Decision and Violations without pydantic's validation: the same objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import Decision, Violation, load_policy

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "policies" / "examples" / "broad.policy")
CODES = ["pass", 'import os\nos.remove("/etc/passwd")', 'open("/data/analysis/x.csv").read()',
         "import requests\nrequests.get('https://example.com')", "eval(input())", "def f(:\n"]


@pytest.mark.parametrize("code", CODES)
def test_decision_is_the_validated_one(code: str) -> None:
    fast = POLICY.evaluate(analyze(code), executor="broad")
    violations = tuple(Violation(**{k: getattr(v, k) for k in v.model_fields_set}) for v in fast.violations)
    slow = Decision(**{**fast.__dict__, "violations": violations})
    assert type(fast) is Decision
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert list(fast.__dict__) == list(slow.__dict__)
    assert fast.model_fields_set == slow.model_fields_set
    for one, other in zip(fast.violations, violations, strict=True):
        assert one == other and one.model_fields_set == other.model_fields_set
        assert hash(one) == hash(other)
    assert fast.constraints is not POLICY.evaluate(analyze(code), executor="broad").constraints  # not shared


def test_caller_arguments_of_another_type_are_still_refused() -> None:
    decision = POLICY.evaluate(analyze("pass"), executor="broad", suggester=None)
    assert decision.approved
    with pytest.raises(Exception):  # noqa: B017 (pydantic's validation error, as before)
        POLICY.evaluate(analyze("pass"), executor=3)  # type: ignore[arg-type]
