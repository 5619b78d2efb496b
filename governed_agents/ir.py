"""SovereignIR: the canonical intent representation of a code block or a tool call.

Field names are a contract (see DESIGN.md). Conventions that every consumer relies on:

* Every operation carries the ``line`` and ``column`` (1-based) of the source that caused it, and
  ``api``: the qualified name of the API that performs it (``"os.remove"``, ``"open"``,
  ``"bash:rm"``), or ``None`` where the operation is the statement itself (an ``import``).
* A value the analyser cannot determine is ``None`` ("unknown"), never guessed. ``paths`` and
  ``names`` lists may hold ``None`` entries; a policy treats ``None`` as outside every allow-list.
* ``unresolved`` lists what the analyser could not read at all (a parse error, an unsupported
  language). An empty ``operations`` list with an empty ``unresolved`` list means "read it, and it
  does nothing that the catalogue knows"; it never means "could not read it".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DatabaseOperation",
    "DynamicCode",
    "DynamicCodeKind",
    "EnvironmentAccess",
    "FileOperation",
    "FunctionCall",
    "ModuleImport",
    "NetworkCall",
    "Operation",
    "ProcessSpawn",
    "SovereignIR",
    "SystemEffect",
    "ToolCall",
    "Unresolved",
]


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int = 0
    column: int = 0
    api: str | None = None


class ModuleImport(_Op):
    type: Literal["module_import"] = "module_import"
    module: str


SystemEffect = Literal["process_control", "privilege", "system_info", "system_monitoring", "native_code", "other",
                       "unknown"]


class FunctionCall(_Op):
    """A catalogued call whose effect is none of the more specific operation types.

    ``effect`` names the capability it needs: ``process_control`` (kill/signal other processes),
    ``privilege`` (setuid, chown, chmod, chroot), ``system_info`` (process and host inspection such
    as psutil), ``system_monitoring`` (screen, keyboard, mouse and clipboard capture), ``native_code``
    (loading shared libraries), ``other``; ``unknown``: an operation of a module that can reach the
    outside which the catalogue does not know — outside every allow-list, ``"*"`` included.
    """

    type: Literal["function_call"] = "function_call"
    function: str
    effect: SystemEffect = "other"


class FileOperation(_Op):
    type: Literal["file_operation"] = "file_operation"
    operation: Literal["read", "write", "delete"]
    paths: tuple[str | None, ...] = ()


class NetworkCall(_Op):
    type: Literal["network_call"] = "network_call"
    destination: str | None = None  # host name or address; None = unknown
    port: int | None = None
    url: str | None = None


class ProcessSpawn(_Op):
    type: Literal["process_spawn"] = "process_spawn"
    command: str | None = None  # the whole command line when literal
    program: str | None = None  # its first word (basename), for allowed_commands


class EnvironmentAccess(_Op):
    type: Literal["environment_access"] = "environment_access"
    names: tuple[str | None, ...] = ()
    access: Literal["read", "write"] = "read"


class DatabaseOperation(_Op):
    type: Literal["database_operation"] = "database_operation"
    verb: str | None = None  # select / insert / update / delete / ddl / other; None = unknown SQL
    tables: tuple[str, ...] = ()


DynamicCodeKind = Literal[
    "exec", "eval", "compile", "dynamic_import", "introspection", "deserialization", "native_code", "other"
]


class DynamicCode(_Op):
    type: Literal["dynamic_code"] = "dynamic_code"
    kind: DynamicCodeKind
    detail: str | None = None


class ToolCall(_Op):
    type: Literal["tool_call"] = "tool_call"
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


Operation = Annotated[
    ModuleImport
    | FunctionCall
    | FileOperation
    | NetworkCall
    | ProcessSpawn
    | EnvironmentAccess
    | DatabaseOperation
    | DynamicCode
    | ToolCall,
    Field(discriminator="type"),
]


class Unresolved(BaseModel):
    """Something the analyser could not read: why, and where."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    kind: Literal["parse_error", "unsupported_language", "internal_error", "limit", "other"] = "other"
    line: int = 0
    column: int = 0


class SovereignIR(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    canonical_action: Literal["code_execution", "tool_use", "speak"] = "code_execution"
    language: str = "python"
    code_signature: str = ""
    operations: tuple[Operation, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def readable(self) -> bool:
        """True when the analyser read the whole input (nothing unresolved)."""
        return not self.unresolved

    def of_type(self, type_: str) -> list[Any]:
        return [op for op in self.operations if op.type == type_]
