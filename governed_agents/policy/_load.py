"""Loading policies: the seed's DSL, YAML or JSON — one model, one set of error messages."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from governed_agents.policy._dsl import Located, RawRule, parse_dsl
from governed_agents.policy._errors import PolicyError
from governed_agents.policy._model import ACTIONS, AgentPolicy, PolicySet

__all__ = ["load_policy", "parse_policy", "policy_from_mapping"]


def load_policy(source: str | os.PathLike[str]) -> PolicySet:
    """Load a policy file: ``.policy`` (the DSL), ``.yaml``/``.yml`` or ``.json``."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file: {exc.strerror}", filename=str(path)) from exc
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        try:
            if suffix == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except (ValueError, ImportError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1 or getattr(exc, "lineno", 0)
            raise PolicyError(f"not valid {suffix[1:].upper()}: {exc}", filename=str(path), line=line) from exc
        return policy_from_mapping(data, filename=str(path), text=text)
    return parse_policy(text, filename=str(path))


def parse_policy(text: str, *, filename: str = "<string>") -> PolicySet:
    """Parse the DSL: ``agent "NAME" { can "ACTION" with constraints { … } }``."""
    rules = parse_dsl(text, filename)
    return _build(rules, filename=filename, text=text)


def policy_from_mapping(data: Any, *, filename: str = "<mapping>", text: str | None = None) -> PolicySet:
    """YAML/JSON shape: ``{"agents": {"NAME": {"code_execution": {…}, "tool_use": {…}}}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("agents"), dict):
        raise PolicyError('expected a mapping with an "agents" mapping of agent name → actions', filename=filename)
    unknown_top = set(data) - {"agents"}
    if unknown_top:
        raise PolicyError(f"unknown top-level key {sorted(unknown_top)[0]!r} (expected 'agents')", filename=filename)
    rules: list[RawRule] = []
    for agent, actions in data["agents"].items():
        if not isinstance(actions, dict) or not actions:
            raise PolicyError(f"agent {agent!r}: expected a mapping of action → constraints", filename=filename)
        for action, constraints in actions.items():
            if constraints is None:
                constraints = {}
            if not isinstance(constraints, dict):
                raise PolicyError(f"agent {agent!r}, action {action!r}: expected a mapping of constraints",
                                  filename=filename)
            rules.append(RawRule(str(agent), Located(str(action), 0, 0),
                                 {str(k): Located(v, 0, 0) for k, v in constraints.items()}, 0, 0))
    source = text if text is not None else json.dumps(data, sort_keys=True)
    return _build(rules, filename=filename, text=source)


def _build(rules: list[RawRule], *, filename: str, text: str) -> PolicySet:
    by_agent: dict[str, dict[str, BaseModel]] = {}
    for rule in rules:
        action = rule.action.value
        model = ACTIONS.get(action)
        if model is None:
            raise PolicyError(f"unknown action {action!r}{_nearest(action, ACTIONS)}; known actions: "
                              f"{', '.join(ACTIONS)}", filename=filename, line=rule.action.line,
                              column=rule.action.column)
        actions = by_agent.setdefault(rule.agent, {})
        if action in actions:
            raise PolicyError(f'agent "{rule.agent}" has two can "{action}" rules; merge them into one',
                              filename=filename, line=rule.line, column=rule.column)
        known = model.model_fields
        for key, located in rule.constraints.items():
            if key not in known:
                raise PolicyError(f"unknown constraint {key!r} for {action}{_nearest(key, known)}",
                                  filename=filename, line=located.line, column=located.column)
        try:
            actions[action] = model.model_validate({k: v.value for k, v in rule.constraints.items()})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else ""
            where = rule.constraints.get(key)
            message = error["msg"].removeprefix("Value error, ")
            raise PolicyError(f"{key}: {message}", filename=filename, line=where.line if where else rule.line,
                              column=where.column if where else rule.column) from exc
    agents = {name: AgentPolicy(name=name, **actions) for name, actions in by_agent.items()}
    return PolicySet(
        agents=agents,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=filename if not filename.startswith("<") else None,
    )


def _nearest(word: str, known: Any) -> str:
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
