"""YAML and JSON policies: syntax errors at the parser's line:col, other errors at the key they are about."""

from __future__ import annotations

import pytest

from governed_agents.governor import Governor
from governed_agents.policy import PolicyError, load_policy

UNKNOWN_KEY = ("agents.user_proxy.code_execution.allowed_imprts: unknown constraint 'allowed_imprts' for "
               "code_execution (did you mean 'allowed_imports'?)")


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "message"),
    [
        # syntax errors: where the parser says
        ("p.yaml", "agents:\n  a:\n    code_execution: [\n", 4, 1,
         "not valid YAML: while parsing a flow node: expected the node content, but found '<stream end>'"),
        ("p.yaml", "agents:\n  a:\n\tcode_execution: {}\n", 3, 1,
         "not valid YAML: while scanning for the next token: found character '\\t' that cannot start any token"),
        ("p.yaml", "agents:\n  a: \x07\n", 2, 6,
         "not valid YAML: unacceptable character #x0007: special characters are not allowed"),
        ("p.json", '{"agents": {"a": }}', 1, 18, "not valid JSON: Expecting value"),
        ("p.json", '{\n  "agents": {\n    "a": {"code_execution": {},}\n  }\n}', 3, 32,
         "not valid JSON: Expecting property name enclosed in double quotes"),
        # validation errors: the key path, at the key
        ("p.yaml", "agents:\n  user_proxy:\n    code_execution:\n      allowed_imprts: [os]\n", 4, 7, UNKNOWN_KEY),
        ("p.json", '{\n  "agents": {\n    "user_proxy": {\n      "code_execution": {"allowed_imports": ["os"],\n'
                   '        "allowed_imprts": ["os"]}}}}', 5, 9, UNKNOWN_KEY),
        ("p.yaml", "agents:\n  a:\n    code_execution:\n      max_memory: 3_parsecs\n", 4, 7,
         "agents.a.code_execution.max_memory: unknown unit 'parsecs' for a size (use e.g. byte, bytes, b, "
         "kilobyte, kilobytes, kb)"),
        ("p.yaml", "agents:\n  a:\n    code_execution:\n      allowed_file_operations: [read, wrte]\n", 4, 7,
         "agents.a.code_execution.allowed_file_operations[1]: Input should be 'read', 'write' or 'delete'"),
        ("p.yml", "agents:\n  a:\n    code_executon: {}\n", 3, 5,
         "agents.a.code_executon: unknown action 'code_executon' (did you mean 'code_execution'?); known actions: "
         "code_execution, tool_use, speak"),
        ("p.yaml", "agents:\n  my agent:\n    tool_use: {allowed_tool: [x]}\n", 3, 16,
         "agents[\"my agent\"].tool_use.allowed_tool: unknown constraint 'allowed_tool' for tool_use "
         "(did you mean 'allowed_tools'?)"),
        ("p.yaml", "agent:\n  a:\n    code_execution: {}\n", 1, 1,
         "agent: unknown top-level key 'agent' (did you mean 'agents'?)"),
        ("p.json", '{"agents": {"a": {"code_execution": null}}, "version": 1}', 1, 45,
         "version: unknown top-level key 'version' (expected agents)"),
        ("p.json", '{"agents": []}', 1, 2, "agents: expected a mapping of agent name → actions"),
        ("p.yaml", "agents:\n  a: [code_execution]\n", 2, 3, "agents.a: expected a mapping of action → constraints"),
        ("p.yaml", "", 1, 1, 'expected a mapping with an "agents" mapping of agent name → actions'),
        # a key given twice is an error, not the last one silently
        ("p.yaml", "agents:\n  a:\n    code_execution: {}\n  a:\n    tool_use: {}\n", 4, 3,
         "agents.a: key 'a' is given twice"),
        ("p.json", '{"agents": {"a": {"code_execution": {"allowed_imports": ["math"], "allowed_imports": ["*"]}}}}',
         1, 67, "agents.a.code_execution.allowed_imports: key 'allowed_imports' is given twice"),
    ],
)
def test_yaml_and_json_errors_name_file_line_column_and_key_path(tmp_path, name, text, line, column, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == f"{path}:{line}:{column}: {message}"
    assert (info.value.line, info.value.column) == (line, column)


def test_policy_from_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "p.policy"
    path.write_bytes(b'agent "a" {\n  can "code_execution" with constraints { allowed_commands: ["caf\xe9"] }\n}\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == f"{path}:2:66: not UTF-8 text (byte 0xe9)"


def test_governor_with_a_broken_yaml_policy_raises_a_policy_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("agents:\n  a:\n    code_execution: [\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml:4:1: not valid YAML"):
        Governor(path, False)
