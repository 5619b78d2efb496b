"""The seed's four policies, exactly as the seed writes them (one constraint per line, no commas),
load and mean what the seed says."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import PolicyError, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
SEED = load_policy(ROOT / "policies" / "seed.policy")

# The seed's text, token for token (issue 13). policies/seed.policy must be exactly this.
SEED_TEXT = '''\
agent "agent_analysis" {
  can "code_execution" with constraints {
    allowed_imports: ["pandas", "numpy", "matplotlib"]
    disallowed_imports: ["os", "subprocess", "sys"]
    allowed_file_operations: ["read"]
    allowed_file_paths: ["/data/analysis/*"]
    max_execution_time: 30_seconds
    max_memory: 1_gigabyte
  }
}

agent "agent_admin" {
  can "code_execution" with constraints {
    allowed_imports: ["*"]
    disallowed_imports: []
    allowed_file_operations: ["read", "write", "delete"]
    allowed_file_paths: ["/"]
    max_execution_time: unlimited
    max_memory: unlimited
  }
}

agent "agent_sandbox" {
  can "code_execution" with constraints {
    allowed_imports: ["math"]
    disallowed_imports: ["*"]
    allowed_file_operations: []
    max_execution_time: 5_seconds
    max_memory: 100_megabytes
  }
}

// Policy for UserProxyAgent
agent "user_proxy" {
  can "code_execution" with constraint {
    max_execution_time: 10_seconds
    disallowed_imports: ["os", "subprocess", "socket"]
    allowed_file_operations: "read_only"
  }
}
'''


def decide(agent: str, code: str):
    return SEED.evaluate(analyze(code), executor=agent)


def test_policies_seed_policy_is_the_seed_text_verbatim():
    assert (ROOT / "policies" / "seed.policy").read_text() == SEED_TEXT
    assert parse_policy(SEED_TEXT).agents == SEED.agents


def test_the_seed_values_load_as_written():
    analysis = SEED.agents["agent_analysis"].code_execution
    assert analysis.allowed_imports == ("pandas", "numpy", "matplotlib")
    assert analysis.disallowed_imports == ("os", "subprocess", "sys")
    assert analysis.allowed_file_operations == ("read",)
    assert analysis.allowed_file_paths == ("/data/analysis/*",)
    assert (analysis.max_execution_time, analysis.max_memory) == (30, 1_000_000_000)
    admin = SEED.agents["agent_admin"].code_execution
    assert admin.allowed_imports == ("*",) and admin.disallowed_imports == ()
    assert admin.allowed_file_operations == ("read", "write", "delete") and admin.allowed_file_paths == ("/",)
    assert (admin.max_execution_time, admin.max_memory) == (None, None)  # unlimited
    sandbox = SEED.agents["agent_sandbox"].code_execution
    assert sandbox.allowed_imports == ("math",) and sandbox.disallowed_imports == ("*",)
    assert sandbox.allowed_file_operations == ()
    assert (sandbox.max_execution_time, sandbox.max_memory) == (5, 100_000_000)
    proxy = SEED.agents["user_proxy"].code_execution  # `with constraint`, "read_only"
    assert proxy.max_execution_time == 10
    assert proxy.disallowed_imports == ("os", "subprocess", "socket")
    assert proxy.allowed_file_operations == ("read",) and proxy.allowed_imports is None


@pytest.mark.parametrize(
    ("agent", "code", "approved", "constraint"),
    [
        # agent_analysis: pandas/numpy/matplotlib; os, subprocess, sys denied by name
        ("agent_analysis", "import pandas as pd\nprint(pd.read_csv('/data/analysis/q1.csv'))", True, None),
        ("agent_analysis", "import matplotlib.pyplot as plt", True, None),
        ("agent_analysis", "import sys", False, "disallowed_imports"),
        ("agent_analysis", "import os.path", False, "disallowed_imports"),
        ("agent_analysis", "import subprocess", False, "disallowed_imports"),
        ("agent_analysis", "import json", False, "allowed_imports"),  # not in the allowed list
        ("agent_analysis", "open('/data/analysis/q1.csv').read()", True, None),
        ("agent_analysis", "open('/data/analysis/2024/q1.csv').read()", True, None),  # /* covers a subtree
        ("agent_analysis", "open('/data/other/q1.csv').read()", False, "allowed_file_paths"),
        ("agent_analysis", "open('/data/analysis-old/q1.csv').read()", False, "allowed_file_paths"),
        ("agent_analysis", "open('/data/analysis/q1.csv', 'w').write('x')", False, "allowed_file_operations"),
        # agent_admin: every import, every file operation, anywhere
        ("agent_admin", "import os, subprocess, sys, socket", True, None),
        ("agent_admin", "import os\nos.remove('/tmp/x')", True, None),
        # agent_sandbox: math, and nothing else
        ("agent_sandbox", "import math\nprint(math.sqrt(2))", True, None),
        ("agent_sandbox", "from math import pi", True, None),
        ("agent_sandbox", "import random", False, "disallowed_imports"),
        ("agent_sandbox", "import json", False, "disallowed_imports"),
        ("agent_sandbox", "import mathx", False, "disallowed_imports"),
        ("agent_sandbox", "print(open('/etc/hostname').read())", False, "allowed_file_operations"),
        # user_proxy: anything but os/subprocess/socket; read-only files
        ("user_proxy", "import json\nprint(json.dumps(open('/tmp/data.json').read()))", True, None),
        ("user_proxy", "import socket", False, "disallowed_imports"),
        ("user_proxy", "open('/tmp/notes.txt', 'w').write('x')", False, "allowed_file_operations"),
    ],
)
def test_the_seed_means_what_it_says(agent, code, approved, constraint):
    decision = decide(agent, code)
    assert decision.approved is approved, decision.explain()
    if constraint is not None:
        assert constraint in {v.constraint for v in decision.violations}, decision.explain()


def test_the_seed_limits_reach_the_runtime():
    assert decide("agent_sandbox", "import math").limits.max_execution_time == 5
    assert decide("agent_sandbox", "import math").limits.max_memory == 100_000_000
    assert decide("agent_analysis", "x = 1").limits.readable_paths == ("/data/analysis/*",)
    assert decide("agent_admin", "x = 1").limits.max_memory is None


# -- separators -----------------------------------------------------------------------------

def rule(body: str):
    return parse_policy('agent "a" {\n  can "code_execution" with constraints {\n' + body + '\n  }\n}')


def test_commas_line_breaks_and_both_mixed_mean_the_same():
    commas = rule('allowed_imports: ["math", "json"], max_memory: 1_gigabyte, allowed_file_operations: ["read"]')
    lines = rule('allowed_imports: ["math", "json"]\nmax_memory: 1_gigabyte\nallowed_file_operations: ["read"]')
    mixed = rule('allowed_imports: ["math", "json"],\nmax_memory: 1_gigabyte\n'
                 'allowed_file_operations: ["read"],')
    list_lines = rule('allowed_imports: [\n  "math"\n  "json",\n]\nmax_memory: 1_gigabyte // a comment\n'
                      'allowed_file_operations: ["read"]')
    assert commas.agents == lines.agents == mixed.agents == list_lines.agents


@pytest.mark.parametrize(
    ("body", "line", "column", "fragment"),
    [
        # two constraints on one line need a comma
        ('    allowed_imports: ["math"] max_memory: 1_gigabyte', 3, 31, "expected ',', a line break or '}'"),
        ('    allowed_imports: ["math" "json"]', 3, 30, "expected ',', a line break or ']'"),
        ('    allowed_imports: ["math"],, max_memory: 1_gigabyte', 3, 31, "a constraint name or '}'"),
        ('    allowed_imports: [\n      "math"\n', 6, 3, "']' to close the list opened at line 3, column 22"),
    ],
)
def test_a_missing_separator_is_still_an_error(body, line, column, fragment):
    with pytest.raises(PolicyError) as info:
        parse_policy('agent "a" {\n  can "code_execution" with constraints {\n' + body + '\n  }\n}',
                     filename="p.policy")
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert fragment in str(info.value)
