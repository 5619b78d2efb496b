"""`agent "*"` and name globs are default rules; the most specific name decides."""

from __future__ import annotations

import pytest

from governed_agents import analyze
from governed_agents.policy import parse_policy

POLICY = parse_policy('''
agent "*" {
  can "code_execution" with constraints {
    allowed_imports: ["math"]
  }
}
agent "analyst_*" {
  can "code_execution" with constraints {
    allowed_imports: ["pandas"]
  }
}
agent "analyst_senior_*" {
  can "code_execution" with constraints {
    allowed_imports: ["json"]
  }
}
agent "*_reader" {
  can "code_execution" with constraints {
    allowed_imports: ["csv"]
  }
}
agent "analyst_bob" {
  can "tool_use" with constraints { allowed_tools: ["lookup"] }
}
''')


def decide(policy, agent, code, suggester=None):
    return policy.evaluate(analyze(code), executor=agent, suggester=suggester)


@pytest.mark.parametrize(
    ("agent", "decides"),
    [
        ("anyone", "*"),
        ("analyst_alice", "analyst_*"),
        ("analyst_senior_carol", "analyst_senior_*"),  # the longer literal prefix
        ("analyst_reader", "analyst_*"),  # literal prefix 8 beats 0
        ("team_reader", "*_reader"),  # more literal characters than "*"
        ("analyst_bob", "analyst_bob"),  # an exact name beats every glob
    ],
)
def test_the_most_specific_name_decides(agent, decides):
    assert POLICY.agent(agent).name == decides


def test_a_glob_decides_whole_and_is_recorded_as_the_deciding_rule():
    d = decide(POLICY, "analyst_alice", "import pandas")
    assert d.approved and d.policy.agent_exec_policy == "analyst_*"
    assert not decide(POLICY, "analyst_alice", "import math").approved  # not merged with "*"
    # the exact block grants tool_use only: its code_execution is not borrowed from a glob
    bob = decide(POLICY, "analyst_bob", "import math")
    assert not bob.approved and "analyst_bob has no code_execution rule" in bob.explain()
    assert POLICY.evaluate_tool("lookup", {}, executor="analyst_bob").approved


def test_star_is_a_default_for_every_agent_and_tool_use_too():
    everything = parse_policy('agent "*" {\n can "code_execution" with constraints {\n allowed_imports: ["*"]\n'
                              ' allowed_file_operations: "all"\n }\n can "tool_use" with constraints {'
                              ' allowed_tools: ["*"] }\n}')
    assert decide(everything, "assistant_17", "import os\nos.remove('/tmp/x')").approved
    assert everything.evaluate_tool("anything", {"a": 1}, executor="whoever").approved


def test_no_matching_block_is_still_a_denial():
    policy = parse_policy('agent "analyst_*" { can "code_execution" }')
    d = decide(policy, "engineer", "x = 1")
    assert not d.approved and "engineer has no policy" in d.explain()


def test_equally_specific_globs_are_an_ambiguity_and_deny_naming_both():
    policy = parse_policy('''
agent "a*b*" { can "code_execution" with constraints { allowed_imports: ["*"] } }
agent "a*c*" { can "code_execution" with constraints { allowed_imports: ["*"] } }
''')
    d = decide(policy, "abc", "x = 1")
    assert not d.approved
    assert 'matches agent "a*b*" and agent "a*c*" equally specifically' in d.explain()
    assert policy.agent("abc") is None
    assert decide(policy, "abx", "x = 1").approved  # only one glob matches: no ambiguity


def test_intersection_and_accept_code_from_resolve_globs_too():
    policy = parse_policy('''
agent "engineer" {
  can "code_execution" with constraints {
    allowed_imports: ["pandas", "os"]
    delegation: "intersection"
  }
}
agent "analyst_*" {
  can "code_execution" with constraints {
    allowed_imports: ["pandas"]
  }
}
''')
    assert decide(policy, "engineer", "import pandas", suggester="analyst_x").approved
    d = decide(policy, "engineer", "import os", suggester="analyst_x")
    assert not d.approved and "analyst_x" in d.explain()
    assert policy.accepts_code_from("analyst_x", "engineer")[0]


def test_speak_rules_resolve_globs():
    policy = parse_policy('agent "critic_*" { can "speak" with constraints { after: ["writer"] } }')
    assert policy.may_speak_after("critic_1", "writer")[0]
    assert not policy.may_speak_after("critic_1", "critic_2")[0]


def test_the_defaults_example_means_what_its_comments_say():
    from pathlib import Path

    from governed_agents.policy import load_policy

    policy = load_policy(Path(__file__).resolve().parents[2] / "policies" / "examples" / "defaults.policy")
    assert decide(policy, "summariser", "import statistics").approved  # "*"
    assert not decide(policy, "summariser", "import pandas").approved
    assert decide(policy, "analyst_eu", "import pandas as pd\npd.read_csv('/data/analysis/q1.csv')").approved
    assert not decide(policy, "analyst_eu", "open('/data/analysis/q1.csv', 'w')").approved
    assert policy.evaluate_tool("lookup_customer", {}, executor="analyst_eu").approved
    reporting = "import pandas as pd\npd.read_csv('/data/analysis/q1.csv').to_csv('/data/reports/q1.csv')"
    assert decide(policy, "analyst_reporting", reporting).approved  # the exact block
    assert not decide(policy, "analyst_eu", reporting).approved
    assert not policy.evaluate_tool("lookup_customer", {}, executor="analyst_reporting").approved  # not merged
