"""Evaluation: a SovereignIR, the executor's rule (and the suggester's, under intersection) → Decision.

Each operation type has one checker in a table; every violation names the constraint, the
operation, its line and says in a sentence what was refused. Nothing here raises: an internal
error is itself a denial.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import sys
from collections.abc import Callable, Mapping
from typing import Any

from governed_agents.analysis._build import construct
from governed_agents.ir import SovereignIR, ToolCall
from governed_agents.policy._decision import Decision, PolicyRef, RuntimeLimits, Violation
from governed_agents.policy._match import import_allowed, matches_any, path_allowed
from governed_agents.policy._model import CodeExecutionRule, PolicySet, ToolUseRule

__all__ = ["evaluate", "evaluate_tool"]

Check = Callable[[Any, CodeExecutionRule, str], "list[tuple[str, str]]"]


def _where(op: Any) -> str:
    return f"line {op.line}: " if op.line else ""


def _check_import(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    ok, key = import_allowed(op.module, rule.allowed_imports, rule.disallowed_imports)
    if ok:
        return []
    listed = rule.disallowed_imports if key == "disallowed_imports" else rule.allowed_imports
    how = f" (reached as {op.api})" if op.api else ""
    return [(key, f"imports {op.module}{how}; {agent}'s {key} is {list(listed or [])}")]


_VERBS = {"read": "reads", "write": "writes", "delete": "deletes"}


def _check_file(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    out = []
    verb = _VERBS[op.operation]
    if op.operation not in rule.allowed_file_operations:
        shown = ", ".join("<unknown path>" if p is None else p for p in op.paths) or "<unknown path>"
        out.append(("allowed_file_operations",
                    f"{op.api or 'code'} {verb} {shown}; {agent} may {_ops(rule)} "
                    f"(allowed_file_operations: {list(rule.allowed_file_operations)})"))
        return out
    for path in op.paths or (None,):
        if not path_allowed(path, rule.allowed_file_paths):
            what = "a path computed at run time" if path is None else path
            out.append(("allowed_file_paths",
                        f"{op.api or 'code'} {verb} {what}, outside {agent}'s allowed_file_paths "
                        f"{list(rule.allowed_file_paths or [])}"))
    return out


def _ops(rule: CodeExecutionRule) -> str:
    if not rule.allowed_file_operations:
        return "not touch files"
    return "only " + "/".join(rule.allowed_file_operations)


def _check_network(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    if matches_any(op.destination, rule.allowed_network_destinations):
        return []
    target = op.destination or "a destination computed at run time"
    return [("allowed_network_destinations",
             f"{op.api or 'code'} connects to {target}; {agent}'s allowed_network_destinations is "
             f"{list(rule.allowed_network_destinations)}")]


def _check_process(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    if matches_any(op.program, rule.allowed_commands) or (
        op.command is not None and matches_any(op.command, rule.allowed_commands)
    ):
        return []
    command = op.command or op.program or "a command computed at run time"
    return [("allowed_commands", f"{op.api or 'code'} runs `{command}`; {agent}'s allowed_commands is "
                                 f"{list(rule.allowed_commands)}")]


def _check_environment(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    bad = [n for n in op.names or (None,) if not matches_any(n, rule.allowed_environment_variables)]
    if not bad:
        return []
    shown = ", ".join("<all or computed names>" if n is None else n for n in bad)
    verb = "reads" if op.access == "read" else "changes"
    return [("allowed_environment_variables",
             f"{verb} environment variable {shown}; {agent}'s allowed_environment_variables is "
             f"{list(rule.allowed_environment_variables)}")]


def _check_database(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    allowed = rule.allowed_database_operations
    if "*" in allowed or (op.verb is not None and op.verb in allowed):
        return []
    verb = (op.verb or "unknown").upper() if op.verb != "ddl" else "DDL"
    tables = f" on {', '.join(op.tables)}" if op.tables else ""
    what = "runs SQL computed at run time" if op.verb is None else f"runs {verb}{tables}"
    return [("allowed_database_operations",
             f"{op.api or 'code'} {what}; {agent}'s allowed_database_operations is {list(allowed)}")]


def _check_dynamic(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    if rule.allow_dynamic_code:
        return []
    names = {"exec": "executes a string as code", "eval": "evaluates a string as code",
             "compile": "compiles a string to code", "dynamic_import": "imports a module named at run time",
             "introspection": "reaches interpreter internals", "deserialization": "deserialises unsafe data",
             "native_code": "loads native code", "other": "runs dynamic code"}
    detail = f" ({op.detail})" if op.detail else ""
    return [("allow_dynamic_code", f"{names.get(op.kind, 'runs dynamic code')}{detail}; "
                                   f"{agent} has allow_dynamic_code: false")]


def _check_system(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    allowed = rule.allowed_system_operations
    if op.effect == "unknown":  # an API nobody judged: outside every allow-list
        module = op.api or op.function
        if rule.pure_packages and (op.function.startswith("import ") or "." in module) \
                and import_allowed(module, rule.pure_packages, ())[0]:
            return []  # a third-party package the operator vouches for
        third_party = ("." in module.lstrip(".") or op.function.startswith("import ")) \
            and module.split(".")[0] not in sys.stdlib_module_names  # a bare name is a builtin
        hint = (f" ({module.split('.')[0] or module} is a third-party package nobody judged; a policy's "
                f"pure_packages can vouch for it)") if third_party and not module.startswith(".") else ""
        return [("allowed_system_operations",
                 f"{op.function} is an operation the analyser does not know; no allow-list admits it{hint}")]
    if "*" in allowed or op.effect in allowed:
        return []
    return [("allowed_system_operations",
             f"{op.function} is a {op.effect.replace('_', ' ')} operation; {agent}'s allowed_system_operations "
             f"is {list(allowed)}")]


def _check_tool(op: Any, rule: CodeExecutionRule, agent: str) -> list[tuple[str, str]]:
    return []  # tool calls are judged by the tool_use rule


_CHECKS: dict[str, Check] = {
    "module_import": _check_import,
    "file_operation": _check_file,
    "network_call": _check_network,
    "process_spawn": _check_process,
    "environment_access": _check_environment,
    "database_operation": _check_database,
    "dynamic_code": _check_dynamic,
    "function_call": _check_system,
    "tool_call": _check_tool,
}


_APPROVAL_KINDS: dict[str, frozenset[str]] = {
    "module_import": frozenset({"import", "*"}),
    "network_call": frozenset({"network", "*"}),
    "process_spawn": frozenset({"process", "*"}),
    "environment_access": frozenset({"environment", "*"}),
    "dynamic_code": frozenset({"dynamic_code", "*"}),
    "function_call": frozenset({"system", "*"}),
    "tool_call": frozenset({"tool", "*"}),
}


def _approval_kinds(op: Any) -> frozenset[str]:
    if op.type == "file_operation":
        return frozenset({f"file_{op.operation}", "*"})
    if op.type == "database_operation":
        return frozenset({"database", f"database_{op.verb or 'other'}", "*"})
    return _APPROVAL_KINDS.get(op.type, frozenset({"*"}))


def _rules(policy: PolicySet, executor: str, suggester: str | None, action: str
           ) -> tuple[list[tuple[str, Any]], list[Violation], str]:
    """The rules that apply (executor's, and the suggester's under intersection) and early denials."""
    agent, missing = policy.resolve(executor)
    rule = getattr(agent, action, None) if agent is not None else None
    if rule is None:
        reason = missing if agent is None else f"{executor} has no {action} rule"
        if agent is not None and agent.name != executor:
            reason += f' (agent "{agent.name}" decides for it)'
        return [], [Violation(constraint="policy", message=f"{reason}: denied (no rule, no permission)")], "executor"
    violations: list[Violation] = []
    if suggester and suggester != executor and rule.accept_code_from is not None \
            and suggester not in rule.accept_code_from:
        violations.append(Violation(
            constraint="accept_code_from",
            message=f"{executor} accepts code only from {list(rule.accept_code_from)}, not from {suggester}"))
    rules = [(executor, rule)]
    if rule.delegation == "intersection" and suggester and suggester != executor:
        other = policy.agent(suggester)
        other_rule = getattr(other, action, None) if other is not None else None
        if other_rule is None:
            violations.append(Violation(
                constraint="delegation",
                message=f"{executor} runs code from {suggester} only with the rights both hold "
                        f"(delegation: intersection), and {suggester} has no {action} rights"))
        else:
            rules.append((suggester, other_rule))
    return rules, violations, rule.delegation


_VOUCHING: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


def _vouching(rule: Any, vouched: tuple[str, ...]) -> Any:
    """``rule`` with the executor's own modules among its ``pure_packages`` (kept: one object per
    rule and set, so the derived limits stay cached)."""
    if not isinstance(rule, CodeExecutionRule):
        return rule
    hit = _VOUCHING.get((id(rule), vouched))
    if hit is not None and hit[0] is rule:
        return hit[1]
    copy = rule.model_copy(update={"pure_packages": tuple(sorted({*rule.pure_packages, *vouched}))})
    if len(_VOUCHING) >= _DERIVED_MAX:
        _VOUCHING.clear()
    _VOUCHING[(id(rule), vouched)] = (rule, copy)
    return copy


# The runtime limits and the effective constraints depend on the rules alone: computed once per
# combination of rule objects (the rules are frozen; the cache holds them, so their ids stay theirs).
_DERIVED: dict[tuple[tuple[str, int], ...], tuple[tuple[Any, ...], RuntimeLimits, dict[str, Any]]] = {}
_DERIVED_MAX = 256


def _derived(rules: list[tuple[str, Any]]) -> tuple[RuntimeLimits, dict[str, Any]]:
    if len(rules) == 1:  # the executor's rule alone (most decisions): the key without generators
        (name, rule), = rules
        key: tuple[tuple[str, int], ...] = ((name, id(rule)),)
        hit = _DERIVED.get(key)
        if hit is not None and hit[0][0] is rule:
            return hit[1], hit[2]
    else:
        key = tuple((name, id(rule)) for name, rule in rules)
        hit = _DERIVED.get(key)
        if hit is not None and all(kept is rule for kept, (_, rule) in zip(hit[0], rules, strict=True)):
            return hit[1], hit[2]
    limits, constraints = _limits(rules), (_constraints(rules) if rules else {})
    if len(_DERIVED) >= _DERIVED_MAX:
        _DERIVED.clear()
    _DERIVED[key] = (tuple(rule for _, rule in rules), limits, constraints)
    return limits, constraints


def _limits(rules: list[tuple[str, Any]]) -> RuntimeLimits:
    code_rules = [r for _, r in rules if isinstance(r, CodeExecutionRule)]
    if not code_rules:
        return RuntimeLimits()

    def smallest(key: str) -> Any:
        values = [getattr(r, key) for r in code_rules if getattr(r, key) is not None]
        return min(values) if values else None

    def common(key: str) -> tuple[str, ...]:
        sets = [set(getattr(r, key)) for r in code_rules]
        if all("*" in s for s in sets):
            return ("*",)
        kept = [s for s in sets if "*" not in s]
        return tuple(sorted(set.intersection(*kept))) if kept else ("*",)

    ops = set.intersection(*(set(r.allowed_file_operations) for r in code_rules))
    path_lists = [r.allowed_file_paths for r in code_rules if r.allowed_file_paths is not None]
    paths: tuple[str, ...] = path_lists[0] if len(path_lists) == 1 else (
        tuple(p for p in path_lists[0] if all(path_allowed(p, other) for other in path_lists[1:]))
        if path_lists else ("/",))
    destinations = common("allowed_network_destinations")
    return RuntimeLimits(
        max_execution_time=smallest("max_execution_time"),
        max_memory=smallest("max_memory"),
        max_cpu_time=smallest("max_cpu_time"),
        max_processes=smallest("max_processes"),
        max_file_size=smallest("max_file_size"),
        network=bool(destinations),
        allowed_network_destinations=destinations,
        readable_paths=paths if "read" in ops else (),
        writable_paths=paths if ops & {"write", "delete"} else (),
        allow_dynamic_code=all(r.allow_dynamic_code for r in code_rules),
        allowed_commands=common("allowed_commands"),
    )


def evaluate_speaker(policy: PolicySet, speaker: str, previous: str | None) -> Decision | None:
    """``speak { after: [...] }``: may ``speaker`` take the turn after ``previous``? None when no
    rule applies (an agent without one may speak at any turn; the first turn follows nobody)."""
    agent = policy.agent(speaker)
    rule = agent.speak if agent is not None else None
    if rule is None or rule.after is None or previous is None:
        return None
    allowed, reason = policy.may_speak_after(speaker, previous)
    digest = hashlib.sha256(f"speak\x1f{previous}\x1f{speaker}".encode()).hexdigest()
    return Decision(
        outcome="approved" if allowed else "denied",
        executor=speaker,
        suggester=previous,
        action="speak",
        violations=() if allowed else (Violation(constraint="speak.after", message=reason),),
        constraints={"speak": {"after": list(rule.after)}},
        policy=_identity(policy, speaker),
        ir=SovereignIR(canonical_action="speak", language="none", code_signature="sha256:" + digest),
    )


_IDENTITIES: dict[tuple[int, str], tuple[PolicySet, PolicyRef]] = {}


def _identity(policy: PolicySet, executor: str) -> PolicyRef:
    """The block that decided: the executor's own, or the glob (``agent "*"``) that stands for it.
    Once per policy set and agent (the cache holds the set, so its id stays its own)."""
    hit = _IDENTITIES.get((id(policy), executor))
    if hit is not None and hit[0] is policy:
        return hit[1]
    agent = policy.agent(executor)
    ref = PolicyRef(agent_exec_policy=agent.name if agent is not None else executor, sha256=policy.sha256,
                    source=policy.source)
    if len(_IDENTITIES) >= _DERIVED_MAX:
        _IDENTITIES.clear()
    _IDENTITIES[(id(policy), executor)] = (policy, ref)
    return ref


def _constraints(rules: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(rules) == 1:
        return rules[0][1].model_dump(mode="json")
    return {f"{role}:{name}": rule.model_dump(mode="json")
            for role, (name, rule) in zip(("executor", "suggester"), rules, strict=False)}


def _judge(ir: SovereignIR, rules: list[tuple[str, Any]]) -> tuple[list[Violation], list[str]]:
    violations: list[Violation] = []
    approvals: list[str] = []
    for problem in ir.unresolved:
        at = f"line {problem.line}: " if problem.line else ""
        violations.append(Violation(constraint="analysis", line=problem.line, column=problem.column,
                                    message=f"{at}could not analyse the code ({problem.reason}); denied"))
    code_rules = [(n, r) for n, r in rules if isinstance(r, CodeExecutionRule)]
    if code_rules and ir.canonical_action == "code_execution":
        language = "bash" if ir.language in ("bash", "sh", "shell", "zsh") else ir.language
        for name, rule in code_rules:
            if language != "mixed" and language not in rule.allowed_languages:
                violations.append(Violation(
                    constraint="allowed_languages",
                    message=f"{language} code; {name}'s allowed_languages is {list(rule.allowed_languages)}"))
    for op in ir.operations:
        check = _CHECKS.get(op.type)
        for name, rule in code_rules:
            found = check(op, rule, name) if check is not None else [("analysis", f"unknown operation {op.type}")]
            for key, message in found:  # every value made here or read off the IR: built unvalidated
                violations.append(construct(Violation, {"constraint": key, "message": _where(op) + message,
                                                        "operation": op, "line": op.line, "column": op.column}))
            if not rule.requires_approval:  # most rules ask for no approval: no set to build per operation
                continue
            wanted = set(rule.requires_approval) & _approval_kinds(op)
            if wanted and not found:
                approvals.append(f"{_where(op)}{op.type.replace('_', ' ')} ({op.api or ''}) needs approval for {name} "
                                 f"(requires_approval: {sorted(wanted)})")
    return violations, approvals


def evaluate(policy: PolicySet, ir: SovereignIR, *, executor: str, suggester: str | None = None,
             vouched: tuple[str, ...] = ()) -> Decision:
    try:
        rules, violations, delegation = _rules(policy, executor, suggester, "code_execution")
        if vouched:
            rules = [(name, _vouching(rule, vouched)) for name, rule in rules]
        more, approvals = _judge(ir, rules)
        violations += more
        if not rules and not violations:
            violations.append(Violation(constraint="policy", message=f"{executor} has no rule: denied"))
        outcome = "denied" if violations else ("needs_approval" if approvals else "approved")
        limits, constraints = _derived(rules)
        fields = {"outcome": outcome, "executor": executor, "suggester": suggester, "action": "code_execution",
                  "delegation": delegation, "violations": tuple(violations),
                  "approval_reasons": tuple(dict.fromkeys(approvals)), "constraints": constraints, "limits": limits,
                  "policy": _identity(policy, executor), "ir": ir}
        if type(executor) is str and (suggester is None or type(suggester) is str) and type(ir) is SovereignIR:
            # Everything else was made here, of the field's type: pydantic's validation (a third of
            # a two-line snippet's evaluate) would only copy the constraints, which the cache shares.
            fields["constraints"] = dict(constraints)
            return construct(Decision, fields)
        return Decision(**fields)  # a caller's argument of another type: validated (and refused) as before
    except Exception as exc:  # fail closed
        return _internal(exc, ir, executor, suggester, "code_execution")


def _refused_arguments(rule: ToolUseRule, tool: str, arguments: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The restricted arguments whose value matches none of their globs (a value that is not a
    string is matched as its JSON text)."""
    refused = []
    for argument, globs in rule.argument_globs(tool).items():
        if argument not in arguments:
            continue  # the tool's own default applies: the developer chose it
        value = arguments[argument]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if not any(_argument_matches(text, glob) for glob in globs):
            refused.append((argument, repr(text), globs))
    return refused


def _argument_matches(text: str, glob: str) -> bool:
    """A glob naming an absolute path matches as allowed_file_paths does (``..`` resolved, ``*``
    within one directory); any other glob matches the text as it is."""
    if glob.startswith("/"):
        return text.startswith("/") and path_allowed(posixpath.normpath(text), (glob,))
    return fnmatch.fnmatchcase(text, glob)


def evaluate_tool(
    policy: PolicySet,
    tool: str,
    arguments: Mapping[str, Any],
    *,
    executor: str,
    suggester: str | None = None,
    code: str | None = None,
    language: str = "python",
) -> Decision:
    ir = SovereignIR(canonical_action="tool_use", language="tool",
                     operations=(ToolCall(tool=tool, arguments=dict(arguments), api=tool),))
    try:
        rules, violations, delegation = _rules(policy, executor, suggester, "tool_use")
        approvals: list[str] = []
        for name, rule in rules:
            assert isinstance(rule, ToolUseRule)
            if not matches_any(tool, rule.allowed_tools):
                violations.append(Violation(constraint="allowed_tools", operation=ir.operations[0],
                                            message=f"calls tool {tool}; {name}'s allowed_tools is "
                                                    f"{list(rule.allowed_tools)}"))
            elif refused := _refused_arguments(rule, tool, arguments):
                violations.extend(Violation(constraint="allowed_tool_arguments", operation=ir.operations[0],
                                            message=f"calls tool {tool} with {argument}={shown}; {name}'s "
                                                    f"allowed_tool_arguments for {tool}.{argument} is {globs}")
                                  for argument, shown, globs in refused)
            elif {"tool", "*"} & set(rule.requires_approval):
                approvals.append(f"tool {tool} needs approval for {name}")
        decision = Decision(
            outcome="denied" if violations else ("needs_approval" if approvals else "approved"),
            executor=executor, suggester=suggester, action="tool_use", delegation=delegation,
            violations=tuple(violations), approval_reasons=tuple(approvals),
            constraints=_constraints(rules) if rules else {}, policy=_identity(policy, executor), ir=ir,
        )
        if code is None:
            return decision
        from governed_agents.analysis import analyze

        code_ir = analyze(code, language=language)
        inner = evaluate(policy, code_ir, executor=executor, suggester=suggester)
        merged_ir = ir.model_copy(update={"operations": ir.operations + code_ir.operations,
                                          "unresolved": code_ir.unresolved,
                                          "code_signature": code_ir.code_signature})
        rank = {"approved": 0, "needs_approval": 1, "denied": 2}
        outcome = max(decision.outcome, inner.outcome, key=rank.__getitem__)
        return decision.model_copy(update={
            "outcome": outcome, "violations": decision.violations + inner.violations,
            "approval_reasons": decision.approval_reasons + inner.approval_reasons,
            "limits": inner.limits, "ir": merged_ir,
            "constraints": {"tool_use": decision.constraints, "code_execution": inner.constraints},
        })
    except Exception as exc:  # fail closed
        return _internal(exc, ir, executor, suggester, "tool_use")


def _internal(exc: Exception, ir: SovereignIR, executor: str, suggester: str | None, action: str) -> Decision:
    message = f"internal error while evaluating the policy ({type(exc).__name__}: {exc}); denied to fail closed"
    return Decision(outcome="denied", executor=executor, suggester=suggester,
                    action="tool_use" if action == "tool_use" else "code_execution",
                    violations=(Violation(constraint="internal_error", message=message),), ir=ir)
