"""The policy model (pydantic). The DSL, YAML and JSON loaders all produce a ``PolicySet``.

Every key has a closed default: a capability that is not granted is denied.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from governed_agents.policy._names import resolve_name
from governed_agents.policy._units import parse_duration, parse_size

if TYPE_CHECKING:
    from governed_agents.ir import SovereignIR
    from governed_agents.policy._decision import Decision

__all__ = ["ACTIONS", "AgentPolicy", "CodeExecutionRule", "PolicySet", "SpeakRule", "ToolUseRule"]

FileOp = Literal["read", "write", "delete"]
_FILE_OP_WORDS: dict[str, tuple[str, ...]] = {
    "read_only": ("read",), "read": ("read",), "read_write": ("read", "write"), "write": ("write",),
    "all": ("read", "write", "delete"), "*": ("read", "write", "delete"), "none": (),
}
APPROVAL_KINDS = frozenset({
    "*", "import", "file_read", "file_write", "file_delete", "network", "process", "environment",
    "database", "database_select", "database_insert", "database_update", "database_delete", "database_ddl",
    "dynamic_code", "system", "tool",
})


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requires_approval: tuple[str, ...] = ()
    accept_code_from: tuple[str, ...] | None = None
    delegation: Literal["executor", "intersection"] = "executor"

    @field_validator("requires_approval", "accept_code_from", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("requires_approval")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in APPROVAL_KINDS]
        if unknown:
            raise ValueError(f"unknown approval kind {unknown[0]!r}; known: {', '.join(sorted(APPROVAL_KINDS))}")
        return value


class CodeExecutionRule(_Rule):
    allowed_imports: tuple[str, ...] | None = None  # None: every import not disallowed
    disallowed_imports: tuple[str, ...] = ()
    allowed_file_operations: tuple[FileOp, ...] = ()
    allowed_file_paths: tuple[str, ...] | None = None  # None: the allowed operations apply anywhere
    max_execution_time: float | None = None
    max_memory: int | None = None
    max_cpu_time: float | None = None
    max_processes: int | None = None
    max_file_size: int | None = None
    allowed_network_destinations: tuple[str, ...] = ()
    allowed_commands: tuple[str, ...] = ()
    allow_dynamic_code: bool = False
    allowed_environment_variables: tuple[str, ...] = ()
    allowed_database_operations: tuple[Literal["select", "insert", "update", "delete", "ddl", "other", "*"], ...] = ()
    allowed_system_operations: tuple[
        Literal["process_control", "privilege", "system_info", "system_monitoring", "native_code", "other",
                "*"], ...] = ()
    allowed_languages: tuple[str, ...] = ("python",)
    pure_packages: tuple[str, ...] = ()  # third-party packages the operator vouches compute only

    @field_validator("allowed_imports", "disallowed_imports", "allowed_file_paths", "allowed_network_destinations",
                     "allowed_commands", "allowed_environment_variables", "allowed_database_operations",
                     "allowed_system_operations", "allowed_languages", "pure_packages", mode="before")
    @classmethod
    def _listify_constraints(cls, value: Any) -> Any:  # its own name: the same name would replace _Rule's
        return _strings(value)

    @field_validator("allowed_file_operations", mode="before")
    @classmethod
    def _file_ops(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in _FILE_OP_WORDS:
                raise ValueError(f"expected a list of read/write/delete or one of {', '.join(_FILE_OP_WORDS)}")
            return _FILE_OP_WORDS[value]
        return value

    @field_validator("allowed_file_paths")
    @classmethod
    def _absolute_paths(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for path in value or ():
            if not (path.startswith(("/", "**")) or path == "*"):  # a relative one would match nothing
                raise ValueError(f"{path!r} is not an absolute path, a glob starting with ** or \"*\" "
                                 "(analysed paths are absolute: relative ones are joined to the work dir)")
        return value

    @field_validator("max_execution_time", "max_cpu_time", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    @field_validator("max_memory", "max_file_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return parse_size(value)

    @field_validator("max_processes", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return None if value == "unlimited" else value

    @field_validator("pure_packages")
    @classmethod
    def _third_party_packages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name):
                raise ValueError(f"{name!r} is not a package name (pure_packages takes names such as "
                                 "\"acme_utils\", never patterns: what nobody judged stays unknown)")
            if name.split(".")[0] in sys.stdlib_module_names:
                raise ValueError(f"{name!r} is in the standard library, which the analyser judges name by name; "
                                 "pure_packages vouches only for third-party packages")
        return value

    @field_validator("allowed_languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        aliases = {"shell": "bash", "sh": "bash", "zsh": "bash", "py": "python", "python3": "python"}
        return tuple(aliases.get(v.lower(), v.lower()) for v in value)


class ToolUseRule(_Rule):
    allowed_tools: tuple[str, ...] = ()  # names or globs; handoffs are tools named transfer_to_<agent>
    # "tool.argument=glob": that argument of that tool must match one of its globs (others are free)
    allowed_tool_arguments: tuple[str, ...] = ()

    @field_validator("allowed_tools", "allowed_tool_arguments", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        return _strings(value)

    @field_validator("allowed_tool_arguments")
    @classmethod
    def _argument_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            target, equals, _ = entry.partition("=")
            tool, dot, argument = target.partition(".")
            if not (equals and dot and tool and argument):
                raise ValueError(f'expected "tool.argument=glob" (e.g. "get_weather.city=Paris"), got {entry!r}')
        return value

    def argument_globs(self, tool: str) -> dict[str, list[str]]:
        """For a tool, each restricted argument and the globs one of which its value must match."""
        found: dict[str, list[str]] = {}
        for entry in self.allowed_tool_arguments:
            target, _, glob = entry.partition("=")
            tool_pattern, _, argument = target.partition(".")
            if fnmatch.fnmatchcase(tool, tool_pattern):
                found.setdefault(argument, []).append(glob)
        return found


class SpeakRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    after: tuple[str, ...] | None = None  # the agents this one may follow; None: any

    @field_validator("after", mode="before")
    @classmethod
    def _after(cls, value: Any) -> Any:
        return _strings(value)


ACTIONS: dict[str, type[BaseModel]] = {
    "code_execution": CodeExecutionRule, "tool_use": ToolUseRule, "speak": SpeakRule,
}


class AgentPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    code_execution: CodeExecutionRule | None = None
    tool_use: ToolUseRule | None = None
    speak: SpeakRule | None = None


class PolicySet(BaseModel):
    """Every agent's rules, with the identity (sha256 of the source text) receipts record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents: dict[str, AgentPolicy] = Field(default_factory=dict)
    sha256: str = ""
    source: str | None = None

    def agent(self, name: str) -> AgentPolicy | None:
        """The block that decides for ``name``: ``agent "NAME"`` itself, else the most specific glob
        that matches (``agent "*"``, ``agent "analyst_*"``); None when none does or two tie."""
        return self.resolve(name)[0]

    def resolve(self, name: str) -> tuple[AgentPolicy | None, str]:
        """:meth:`agent`, and when it is None the reason (no block matches, or two globs tie)."""
        policy = self.agents.get(name)
        if policy is not None:
            return policy, ""
        found, reason = resolve_name(name, list(self.agents))
        return (self.agents[found] if found is not None else None), reason

    def evaluate(self, ir: SovereignIR, *, executor: str, suggester: str | None = None,
                 vouched: tuple[str, ...] = ()) -> Decision:
        """The decision for ``executor`` running ``ir`` (∩ ``suggester`` under intersection). Never raises.
        ``vouched``: modules the executor itself provides, taken as its rules' ``pure_packages``."""
        return _evaluate(self, ir, executor=executor, suggester=suggester, vouched=vouched)

    def evaluate_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        executor: str,
        suggester: str | None = None,
        code: str | None = None,
        language: str = "python",
    ) -> Decision:
        from governed_agents.policy._evaluate import evaluate_tool

        return evaluate_tool(self, tool, arguments, executor=executor, suggester=suggester, code=code,
                             language=language)

    def decide_speaker(self, agent: str, previous: str | None) -> Decision | None:
        """The decision on ``agent`` speaking after ``previous``; None where no ``speak`` rule applies."""
        from governed_agents.policy._evaluate import evaluate_speaker

        return evaluate_speaker(self, agent, previous)

    def may_speak_after(self, agent: str, previous: str | None) -> tuple[bool, str]:
        """Speaking is not an execution: an agent with no ``speak`` rule may speak at any turn."""
        policy = self.agent(agent)
        rule = policy.speak if policy is not None else None
        if rule is None or rule.after is None or previous is None:
            return True, ""
        if previous in rule.after:
            return True, ""
        return False, f"{agent} may only speak after {', '.join(rule.after)} (speak.after), not after {previous}"

    def accepts_code_from(self, executor: str, suggester: str | None) -> tuple[bool, str]:
        policy = self.agent(executor)
        rule = policy.code_execution if policy is not None else None
        if rule is None:
            return False, f"{executor} has no code_execution rule"
        if suggester is None or suggester == executor or rule.accept_code_from is None:
            return True, ""
        if suggester in rule.accept_code_from:
            return True, ""
        return False, (f"{executor} accepts code only from {', '.join(rule.accept_code_from)} "
                       f"(accept_code_from), not from {suggester}")


# Imported once the classes it imports exist (it imports this module): an import statement in the
# method ran on every decision (half a microsecond of a two-line snippet's).
from governed_agents.policy._evaluate import evaluate as _evaluate  # noqa: E402
