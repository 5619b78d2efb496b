"""Per-tool argument rules: allowed_tool_arguments entries "tool.argument=glob"."""

from __future__ import annotations

import pytest

from governed_agents.policy import PolicyError, load_policy
from governed_agents.policy._evaluate import evaluate_tool

POLICY = '''agent "weather_agent" {
    can "tool_use" with constraints {
        allowed_tools: ["get_weather", "read_file", "set_*"],
        allowed_tool_arguments: ["get_weather.city=Paris", "get_weather.city=London",
                                 "read_file.path=/data/analysis/*", "set_*.level=[1-3]"]
    }
}
'''


@pytest.mark.parametrize(
    ("tool", "arguments", "outcome"),
    [
        ("get_weather", {"city": "Paris"}, "approved"),
        ("get_weather", {"city": "London", "unit": "C"}, "approved"),  # unnamed arguments are free
        ("get_weather", {"city": "Tokyo"}, "denied"),
        ("read_file", {"path": "/etc/passwd"}, "denied"),
        ("read_file", {"path": "/data/analysis/../../etc/passwd"}, "denied"),  # paths match as paths do
        ("read_file", {"path": "/data/analysis/q3.csv"}, "approved"),
        ("read_file", {"path": "data/analysis/q3.csv"}, "denied"),
        ("read_file", {}, "approved"),  # the tool's own default applies
        ("set_volume", {"level": 2}, "approved"),  # not a string: matched as its JSON text
        ("set_volume", {"level": 9}, "denied"),
    ],
)
def test_tool_arguments_must_match_their_globs(tmp_path, tool, arguments, outcome):
    path = tmp_path / "p.policy"
    path.write_text(POLICY)
    decision = evaluate_tool(load_policy(path), tool, arguments, executor="weather_agent")
    assert decision.outcome == outcome
    if outcome == "denied":
        assert decision.violations[0].constraint == "allowed_tool_arguments"
        assert f"calls tool {tool} with" in decision.violations[0].message


def test_an_argument_rule_without_tool_and_argument_is_an_error_at_its_position(tmp_path):
    path = tmp_path / "p.policy"
    path.write_text('agent "a" {\n  can "tool_use" with constraints { allowed_tool_arguments: ["city=Paris"] }\n}\n')
    with pytest.raises(PolicyError, match=r"p\.policy:2:\d+: .*tool\.argument=glob"):
        load_policy(path)
