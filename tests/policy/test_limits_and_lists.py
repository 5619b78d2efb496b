"""Policy values that could weaken a limit or be misread are errors, and single strings are lists."""

from __future__ import annotations

import pytest

from governed_agents.policy import PolicyError, load_policy


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1"])
def test_a_limit_that_is_not_a_finite_number_is_an_error(tmp_path, value):
    path = tmp_path / "p.json"
    path.write_text('{"agents": {"a": {"code_execution": {"max_execution_time": %s}}}}' % value)
    with pytest.raises(PolicyError, match="max_execution_time"):
        load_policy(path)


def test_requires_approval_takes_one_kind_as_a_string_in_every_rule(tmp_path):
    path = tmp_path / "p.policy"
    path.write_text('agent "a" {\n  can "code_execution" with constraints { requires_approval: "network" }\n'
                    '  can "tool_use" with constraints { requires_approval: "network" }\n}\n')
    policy = load_policy(path)
    agent = policy.agent("a")
    assert agent is not None
    assert agent.code_execution is not None and agent.code_execution.requires_approval == ("network",)


@pytest.mark.parametrize(("paths", "ok"), [('["data/"]', False), ('["./out"]', False), ('["/data/analysis"]', True),
                                            ('["**/*.csv"]', True), ('["*.csv"]', False), ('["*"]', True)])
def test_allowed_file_paths_are_absolute_or_match_nothing_so_relative_ones_are_errors(tmp_path, paths, ok):
    path = tmp_path / "p.policy"
    path.write_text('agent "a" {\n  can "code_execution" with constraints {\n'
                    f'    allowed_file_paths: {paths}\n  }}\n}}\n')
    if ok:
        load_policy(path)
    else:
        with pytest.raises(PolicyError, match=r"p\.policy:3:5: allowed_file_paths: .* is not an absolute path"):
            load_policy(path)
