"""Policies: the seed's DSL (and YAML/JSON), evaluated for the executing agent (∩ the suggester)."""

from __future__ import annotations

from governed_agents.policy._decision import Decision, Outcome, PolicyRef, RuntimeLimits, Violation
from governed_agents.policy._errors import PolicyError
from governed_agents.policy._load import load_policy, parse_policy, policy_from_mapping
from governed_agents.policy._model import AgentPolicy, CodeExecutionRule, PolicySet, SpeakRule, ToolUseRule

__all__ = [
    "AgentPolicy",
    "CodeExecutionRule",
    "Decision",
    "Outcome",
    "PolicyError",
    "PolicyRef",
    "PolicySet",
    "RuntimeLimits",
    "SpeakRule",
    "ToolUseRule",
    "Violation",
    "load_policy",
    "parse_policy",
    "policy_from_mapping",
]
