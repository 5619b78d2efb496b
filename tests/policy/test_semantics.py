"""What each constraint means, checked on real code through the analyser."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governed_agents import analyze
from governed_agents.policy import load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
SEED = load_policy(ROOT / "policies" / "seed.policy")


def decide(policy, agent, code, suggester=None, language="python", work_dir=None):
    return policy.evaluate(analyze(code, language=language, work_dir=work_dir), executor=agent, suggester=suggester)


def one_rule(constraints: str, agent: str = "a"):
    return parse_policy(f'agent "{agent}" {{ can "code_execution" with constraints {{ {constraints} }} }}')


# -- the seed's own claims ------------------------------------------------------------------

def test_seed_claims():
    assert not decide(SEED, "agent_analysis", "import os").approved
    assert decide(SEED, "agent_admin", "import os").approved
    assert not decide(SEED, "agent_sandbox", "import numpy").approved
    assert decide(SEED, "agent_sandbox", "import math\nprint(math.sqrt(2))").approved
    assert not decide(SEED, "user_proxy", "import socket").approved
    assert not decide(SEED, "user_proxy", "open('notes.txt', 'w').write('x')").approved
    assert decide(SEED, "user_proxy", "print(open('data.csv').read())").approved


def test_violations_say_what_where_and_which_constraint():
    d = decide(SEED, "agent_analysis", "import pandas as pd\n\nimport os\nos.remove('/data/analysis/x.csv')")
    keys = {v.constraint for v in d.violations}
    assert keys == {"disallowed_imports", "allowed_file_operations"}
    delete = next(v for v in d.violations if v.constraint == "allowed_file_operations")
    assert delete.line == 4 and "deletes /data/analysis/x.csv" in delete.message
    assert delete.operation is not None and delete.operation.type == "file_operation"
    assert d.policy.agent_exec_policy == "agent_analysis" and d.policy.sha256 == SEED.sha256


# -- imports ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("constraints", "module", "allowed"),
    [
        ('allowed_imports: ["*"], disallowed_imports: ["os"]', "os.path", False),
        ('allowed_imports: ["*"], disallowed_imports: ["os"]', "json", True),
        ('disallowed_imports: ["*"], allowed_imports: ["math"]', "math", True),
        ('disallowed_imports: ["os"], allowed_imports: ["os"]', "os", False),  # deny wins at equal rank
        ('allowed_imports: ["matplotlib"]', "matplotlib.pyplot", True),  # a pattern covers submodules
        ('disallowed_imports: ["subprocess"]', "numpy", True),  # no allowed list: all but the denied
        ('allowed_imports: ["numpy"]', "numpyx", False),
    ],
)
def test_import_rules(constraints, module, allowed):
    assert decide(one_rule(constraints), "a", f"import {module}").approved is allowed


# -- files --------------------------------------------------------------------------------------

def test_file_paths_cover_subtrees_and_unknown_paths_fall_outside():
    p = one_rule('allowed_file_operations: ["read"], allowed_file_paths: ["/data/analysis"]')
    assert decide(p, "a", "open('/data/analysis/2024/q1.csv')").approved
    assert not decide(p, "a", "open('/data/analysis/../secrets.txt')").approved
    assert not decide(p, "a", "open('/data/analysis-old/x.csv')").approved
    assert not decide(p, "a", "import sys\nopen(sys.argv[1])").approved
    assert decide(p, "a", "open('q1.csv')", work_dir="/data/analysis").approved
    assert not decide(p, "a", "open('q1.csv')").approved  # relative to an unknown directory


def test_with_no_path_list_the_allowed_operations_apply_anywhere():
    p = one_rule('allowed_file_operations: ["read"]')
    assert decide(p, "a", "import sys\nopen(sys.argv[1])").approved
    assert not decide(p, "a", "open('/tmp/x', 'w')").approved


# -- capabilities the seed does not name are closed until granted -----------------------------------

@pytest.mark.parametrize(
    ("code", "grant"),
    [
        ("import requests\nrequests.get('https://api.example.com/x')", 'allowed_network_destinations: ["*.example.com"]'),
        ("import subprocess\nsubprocess.run(['ls', '-l'])", 'allowed_commands: ["ls"]'),
        ("eval('1 + 1')", "allow_dynamic_code: true"),
        ("import os\nos.getenv('HOME')", 'allowed_environment_variables: ["HOME"]'),
        ("def f(c):\n    c.execute('SELECT * FROM t')", 'allowed_database_operations: ["select"]'),
        ("import psutil\npsutil.cpu_percent()", 'allowed_system_operations: ["system_info"]'),
        ("ls -la", 'allowed_languages: ["bash"], allowed_commands: ["ls"]'),
    ],
)
def test_closed_by_default_and_granted_by_their_key(code, grant):
    language = "bash" if code == "ls -la" else "python"
    assert not decide(one_rule("allowed_imports: [\"*\"]"), "a", code, language=language).approved
    assert decide(one_rule(f'allowed_imports: ["*"], {grant}'), "a", code, language=language).approved


def test_network_grant_is_per_host_and_unknown_host_is_outside():
    p = one_rule('allowed_imports: ["*"], allowed_network_destinations: ["api.example.com"]')
    assert not decide(p, "a", "import requests\nrequests.get('https://evil.example.net/')").approved
    assert not decide(p, "a", "import requests, sys\nrequests.get(sys.argv[1])").approved


def test_limits_travel_in_the_decision():
    d = decide(SEED, "agent_sandbox", "import math")
    assert d.limits.max_execution_time == 5 and d.limits.max_memory == 100_000_000
    assert d.limits.network is False and d.limits.writable_paths == ()
    assert decide(SEED, "agent_admin", "x = 1").limits.writable_paths == ("/",)


def test_requires_approval_turns_approval_into_needs_approval():
    p = one_rule('allowed_file_operations: ["read", "write"], requires_approval: ["file_write"]')
    assert decide(p, "a", "open('/tmp/a')").outcome == "approved"
    d = decide(p, "a", "open('/tmp/a', 'w')")
    assert d.outcome == "needs_approval" and d.approval_reasons
    assert decide(p, "a", "import os\nos.remove('/tmp/a')").outcome == "denied"


def test_agent_or_action_without_rule_is_denied():
    assert not decide(SEED, "nobody", "print(1)").approved
    tools = parse_policy('agent "a" { can "tool_use" with constraints { allowed_tools: ["t"] } }')
    assert not decide(tools, "a", "print(1)").approved


def test_unparsable_code_is_denied_even_for_admin():
    d = decide(SEED, "agent_admin", "def broken(:")
    assert not d.approved and d.violations[0].constraint == "analysis"


# -- delegation: the persuasion scenario -------------------------------------------------------

DELETE = ("import sqlite3\nconn = sqlite3.connect('/data/analysis/finance.db')\n"
          "conn.execute(\"DELETE FROM transactions WHERE status = 'failed'\")\nconn.commit()\n")


def test_persuasion_executor_only_approves_and_intersection_denies():
    text = (ROOT / "policies" / "examples" / "persuasion.policy").read_text()
    intersection = parse_policy(text)
    executor_only = parse_policy(text.replace('delegation: "intersection"', 'delegation: "executor"'))
    assert decide(executor_only, "data_engineer", DELETE, suggester="analyst").approved
    d = decide(intersection, "data_engineer", DELETE, suggester="analyst")
    assert not d.approved
    assert d.delegation == "intersection" and d.suggester == "analyst" and d.executor == "data_engineer"
    assert any("analyst" in v.message and "DELETE" in v.message for v in d.violations)
    # the engineer's own code keeps the engineer's rights
    assert decide(intersection, "data_engineer", DELETE).approved
    # reading is in both, so the analyst may still ask for a SELECT, through a read-only connection
    select = DELETE.replace("DELETE FROM transactions WHERE", "SELECT * FROM transactions WHERE")
    read_only = select.replace("sqlite3.connect('/data/analysis/finance.db')",
                               "sqlite3.connect('file:/data/analysis/finance.db?mode=ro', uri=True)")
    assert decide(intersection, "data_engineer", read_only, suggester="analyst").approved
    # a plain connect opens the file read-write (and creates it): not within the analyst's read-only rights
    d = decide(intersection, "data_engineer", select, suggester="analyst")
    assert not d.approved and {v.constraint for v in d.violations} == {"allowed_file_operations"}


def test_accept_code_from_and_suggesters_without_rights():
    text = (ROOT / "policies" / "examples" / "persuasion.policy").read_text()
    p = parse_policy(text)
    d = decide(p, "data_engineer", "import pandas", suggester="stranger")
    assert {v.constraint for v in d.violations} >= {"accept_code_from"}
    assert p.accepts_code_from("data_engineer", "stranger")[0] is False
    assert p.accepts_code_from("data_engineer", "analyst")[0] is True


def test_speak_rules():
    p = parse_policy('agent "exec" { can "code_execution" can "speak" with constraints { after: ["research"] } }\n'
                     'agent "research" { can "code_execution" }')
    assert p.may_speak_after("exec", "research")[0]
    assert not p.may_speak_after("exec", "user")[0]
    assert p.may_speak_after("research", "anyone")[0]  # no speak rule: speaking is not an execution


# -- tools ------------------------------------------------------------------------------------

def test_tool_use_rule_and_code_arguments():
    p = parse_policy('agent "a" {\n can "tool_use" with constraints { allowed_tools: ["get_*", "run_python"] }\n'
                     ' can "code_execution" with constraints { allowed_imports: ["math"] }\n}')
    assert p.evaluate_tool("get_weather", {"city": "Paris"}, executor="a").approved
    assert not p.evaluate_tool("delete_user", {}, executor="a").approved
    assert p.evaluate_tool("run_python", {"code": "import math"}, executor="a", code="import math").approved
    d = p.evaluate_tool("run_python", {"code": "import os"}, executor="a", code="import os")
    assert not d.approved and any(v.constraint == "allowed_imports" for v in d.violations)


# -- properties -------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_input_makes_evaluation_raise_or_approve_unparsable_code(text):
    ir = analyze(text)
    for agent in SEED.agents:
        d = SEED.evaluate(ir, executor=agent)
        if ir.unresolved:
            assert not d.approved


def test_limits_and_constraints_follow_the_rules_that_decide_each_time():
    """Computed once per set of rule objects: another suggester, or the same text loaded again with
    other limits, decides with its own."""
    text = ('agent "e" { can "code_execution" with constraints { allowed_imports: ["*"], max_memory: 1_gigabyte, '
            'delegation: "intersection" } }\nagent "s" { can "code_execution" with constraints { allowed_imports: '
            '["*"], max_memory: 100_megabytes } }')
    policy = parse_policy(text)
    own = decide(policy, "e", "print(1)")
    handed = decide(policy, "e", "print(1)", suggester="s")
    assert own.limits.max_memory == 1_000_000_000 and handed.limits.max_memory == 100_000_000
    assert decide(policy, "e", "print(2)").limits == own.limits
    assert set(handed.constraints) == {"executor:e", "suggester:s"} and "max_memory" in own.constraints
    again = parse_policy(text.replace("1_gigabyte", "2_gigabytes"))
    assert decide(again, "e", "print(1)").limits.max_memory == 2_000_000_000
    assert decide(policy, "e", "print(1)").limits.max_memory == 1_000_000_000
