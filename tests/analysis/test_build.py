"""The analyser's fast constructor makes the same objects as pydantic's model_construct."""

from __future__ import annotations

import pytest

from governed_agents.analysis._build import construct
from governed_agents.ir import (
    DatabaseOperation,
    DynamicCode,
    EnvironmentAccess,
    FileOperation,
    FunctionCall,
    ModuleImport,
    NetworkCall,
    ProcessSpawn,
    SovereignIR,
    ToolCall,
    Unresolved,
)

CASES = [
    (ModuleImport, {"module": "os", "line": 1, "column": 8}),
    (FunctionCall, {"function": "os.kill", "effect": "process_control", "api": "os.kill", "line": 2, "column": 1}),
    (FileOperation, {"operation": "read", "paths": ("/etc/passwd",), "api": "open", "line": 3, "column": 5}),
    (NetworkCall, {"destination": "example.com", "port": 443, "url": None, "api": "requests.get"}),
    (ProcessSpawn, {"command": "ls -l", "program": "ls", "api": "os.system"}),
    (EnvironmentAccess, {"names": ("HOME",), "access": "read", "api": "os.getenv"}),
    (DatabaseOperation, {"verb": "select", "tables": ("t",), "api": "sqlite3.Cursor.execute"}),
    (DynamicCode, {"kind": "eval", "detail": "eval", "api": "eval"}),
    (ToolCall, {"tool": "search", "arguments": {"q": "x"}}),
    (Unresolved, {"reason": "parse error", "kind": "parse_error", "line": 1}),
    (SovereignIR, {"language": "python", "code_signature": "sha256:00",
                   "operations": (ModuleImport(module="os"),), "unresolved": ()}),
    # a required field left out, or a name that is no field: model_construct's own handling
    (FileOperation, {"paths": ("/x",)}),
    (ModuleImport, {"module": "os", "not_a_field": 1}),
]


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_construct_is_model_construct(cls, values) -> None:
    fast, slow = construct(cls, dict(values)), cls.model_construct(**dict(values))
    assert type(fast) is type(slow)
    assert fast.__dict__ == slow.__dict__
    assert list(fast.__dict__) == list(slow.__dict__)  # field order: the JSON a receipt stores
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    if set(values) <= set(cls.model_fields):
        assert fast.model_dump_json() == slow.model_dump_json()
    assert fast == slow


def test_constructed_operation_is_frozen_and_validates() -> None:
    op = construct(FileOperation, {"operation": "write", "paths": ("/tmp/x",), "line": 4, "column": 2})
    with pytest.raises(Exception):  # noqa: B017 (pydantic's frozen-instance error)
        op.line = 5  # type: ignore[misc]
    assert FileOperation.model_validate(op.model_dump()) == op
