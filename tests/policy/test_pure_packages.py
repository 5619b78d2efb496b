"""A third-party package nobody judged is unknown until a policy (or the executor) vouches for it."""

from __future__ import annotations

import pytest

from governed_agents import analyze
from governed_agents.policy import PolicyError, parse_policy

POLICY = parse_policy('''
agent "vouching" { can "code_execution" with constraints { allowed_imports: ["*"], pure_packages: ["acme.stats", "flask"],
                                                            delegation: "intersection" } }
agent "plain" { can "code_execution" with constraints { allowed_imports: ["*"], allowed_system_operations: "*" } }
''')
ROUTES = "from flask import Flask, jsonify\napp = Flask(__name__)\n@app.route('/')\ndef index():\n    return jsonify(a=1)"


def test_a_package_nobody_judged_is_denied_with_the_way_out_named():
    decision = POLICY.evaluate(analyze("import send2trash\nsend2trash.send2trash('/data/x')"), executor="plain")
    assert not decision.approved  # "*" admits every known system operation, never an unknown one
    assert [v.line for v in decision.violations] == [1, 2]
    assert all(v.constraint == "allowed_system_operations" and "send2trash is a third-party package nobody judged"
               in v.message and "pure_packages" in v.message for v in decision.violations)


def test_a_vouched_package_and_its_submodules_are_pure_for_that_agent_only():
    assert POLICY.evaluate(analyze(ROUTES), executor="vouching").approved
    assert POLICY.evaluate(analyze("import acme.stats.robust as r\nr.median([1])"), executor="vouching").approved
    assert not POLICY.evaluate(analyze("import acme\nacme.wipe()"), executor="vouching").approved  # the parent is not
    assert not POLICY.evaluate(analyze(ROUTES), executor="plain").approved


def test_what_a_vouched_package_reaches_through_a_catalogued_route_is_still_judged():
    decision = POLICY.evaluate(analyze("import flask\nflask.os.remove('/etc/passwd')"), executor="vouching")
    assert [v.constraint for v in decision.violations] == ["allowed_file_operations"]


def test_under_intersection_the_suggester_must_vouch_too():
    decision = POLICY.evaluate(analyze(ROUTES), executor="vouching", suggester="plain")
    assert not decision.approved and {v.constraint for v in decision.violations} == {"allowed_system_operations"}


def test_the_executor_may_vouch_for_its_own_module_and_the_decision_records_it():
    code = "from functions import add_two\nprint(add_two(2, 3))"
    assert not POLICY.evaluate(analyze(code), executor="plain").approved
    decision = POLICY.evaluate(analyze(code), executor="plain", vouched=("functions",))
    assert decision.approved and decision.constraints["pure_packages"] == ["functions"]


@pytest.mark.parametrize("value, reason", [
    ('["*"]', "not a package name"), ('["acme*"]', "not a package name"), ('["os"]', "standard library"),
    ('["os.path"]', "standard library"), ('["../x"]', "not a package name"),
])
def test_pure_packages_takes_third_party_package_names_only(value, reason):
    with pytest.raises(PolicyError, match=reason):
        parse_policy(f'agent "a" {{ can "code_execution" with constraints {{ pure_packages: {value} }} }}')
