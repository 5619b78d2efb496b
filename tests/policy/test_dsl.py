"""The seed's DSL parses verbatim; errors name file:line:col and the nearest known key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governed_agents.policy import PolicyError, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]


def test_the_four_seed_policies_parse_verbatim():
    policy = load_policy(ROOT / "policies" / "seed.policy")
    assert list(policy.agents) == ["agent_analysis", "agent_admin", "agent_sandbox", "user_proxy"]
    analysis = policy.agents["agent_analysis"].code_execution
    assert analysis.allowed_imports == ("pandas", "numpy", "matplotlib")
    assert analysis.max_execution_time == 30
    assert analysis.max_memory == 1_000_000_000
    assert policy.agents["agent_admin"].code_execution.max_execution_time is None  # unlimited
    assert policy.agents["agent_sandbox"].code_execution.max_memory == 100_000_000
    proxy = policy.agents["user_proxy"].code_execution  # `with constraint` and "read_only"
    assert proxy.allowed_file_operations == ("read",)
    assert proxy.max_execution_time == 10
    assert len(policy.sha256) == 64 and policy.source.endswith("seed.policy")


def test_several_can_blocks_and_agents_per_file():
    policy = parse_policy('''
        // two agents, several actions
        agent "a" {
            can "code_execution" with constraints { allowed_imports: ["math"], max_memory: 512_mebibytes }
            can "tool_use" with constraints { allowed_tools: ["get_weather", "transfer_to_*"] }
            can "speak" with constraints { after: ["b"] }
        }
        agent "b" { can "code_execution" }
    ''')
    assert policy.agents["a"].code_execution.max_memory == 512 * 2**20
    assert policy.agents["a"].tool_use.allowed_tools == ("get_weather", "transfer_to_*")
    assert policy.agents["b"].code_execution.allowed_file_operations == ()  # closed by default


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('agent "x" {\n  can "code_execution" with constraints {\n    alowed_imports: ["os"]\n  }\n}',
         3, 5, "did you mean 'allowed_imports'"),
        ('agent "x" {\n  can "code_executon"\n}', 2, 7, "did you mean 'code_execution'"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    max_memory: 3_parsecs\n  }\n}',
         3, 5, "unknown unit"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    allowed_imports: ["os"\n  }\n}',
         4, 3, "expected ']' to close the list opened at line 3, column 22"),
        ('agent x {}', 1, 7, "agent name in double quotes"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    allowed_file_operations: "wrte"\n  }\n}',
         3, 5, "allowed_file_operations"),
        ('agent "x" {\n  can "code_execution" with constraints { delegation: "both" }\n}', 2, 43, "delegation"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    allowed_imports: ["a"],\n'
         '    allowed_imports: ["b"]\n  }\n}', 4, 5, "given twice"),
        ('agent "x" { can "code_execution" } @', 1, 36, "unexpected character"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    allowed_commands: ["a\tb"]\n  }\n}',
         3, 26, "control character U+0009 (tab) in a string"),
        ('agent "x\x00" { can "code_execution" }', 1, 9, "control character U+0000"),
        ('agent "x" {\n  can "code_execution" with constraints {\n    allowed_file_paths: ["C:\\data\\", "D:"]\n'
         '  }\n}', 3, 41, 'an unterminated string (a string ends on the line it starts; \\" is a quote'),
    ],
)
def test_errors_name_file_line_column(text, line, column, fragment):
    with pytest.raises(PolicyError) as info:
        parse_policy(text, filename="team.policy")
    error = info.value
    assert (error.filename, error.line, error.column) == ("team.policy", line, column), str(error)
    assert fragment in str(error)
    assert str(error).startswith(f"team.policy:{line}:{column}: ")


@pytest.mark.parametrize(
    ("written", "value"),
    [
        (r'"grep \d+ *.log"', "grep \\d+ *.log"),  # a regex-like pattern keeps its backslash
        (r'"C:\data\*.csv"', "C:\\data\\*.csv"),
        (r'"\n\t\u0041"', "\\n\\t\\u0041"),  # no JSON escapes: a backslash and the letter
        (r'"say \"hi\""', 'say "hi"'),  # \" is a quote
        (r'"C:\data\\"', "C:\\data\\"),  # \\ is one backslash, so a string can end in one
        (r'"a\\\\b"', "a\\\\b"),
    ],
)
def test_backslashes_in_strings_are_kept_except_two_escapes(written, value):
    policy = parse_policy(f'agent "x" {{ can "code_execution" with constraints {{ allowed_commands: [{written}] }} }}')
    assert policy.agents["x"].code_execution.allowed_commands == (value,)


def test_yaml_and_json_load_into_the_same_model(tmp_path):
    data = {"agents": {"agent_analysis": {"code_execution": {
        "allowed_imports": ["pandas", "numpy", "matplotlib"], "disallowed_imports": ["os", "subprocess", "sys"],
        "allowed_file_operations": ["read"], "allowed_file_paths": ["/data/analysis/*"],
        "max_execution_time": "30_seconds", "max_memory": "1_gigabyte"}}}}
    (tmp_path / "p.json").write_text(json.dumps(data))
    import yaml

    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    seed = load_policy(ROOT / "policies" / "seed.policy").agents["agent_analysis"]
    assert load_policy(tmp_path / "p.json").agents["agent_analysis"] == seed
    assert load_policy(tmp_path / "p.yaml").agents["agent_analysis"] == seed


def test_unknown_key_in_yaml_is_an_error_too(tmp_path):
    (tmp_path / "p.yaml").write_text("agents:\n  a:\n    code_execution:\n      allowed_import: [os]\n")
    with pytest.raises(PolicyError, match="did you mean 'allowed_imports'"):
        load_policy(tmp_path / "p.yaml")


def test_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.policy")
    assert str(info.value) == f"{tmp_path / 'nope.policy'}: no such file"  # no :0:0 position
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a policy file"


def test_quote_writes_every_string_so_that_it_reads_back():
    from itertools import product

    from governed_agents.policy._dsl import quote

    assert quote("grep \\d+ *.log") == '"grep \\d+ *.log"'  # a lone backslash is left as written
    assert quote('C:\\data\\') == '"C:\\data\\\\"'
    for size in range(6):
        for chars in product('a\\"', repeat=size):
            value = "".join(chars)
            assert list(parse_policy(f'agent {quote(value)} {{ can "speak" }}').agents) == [value], quote(value)
