"""What the code did or attempted inside the sandbox, as the in-child audit hook recorded it, and
which of it the static analysis did not predict.

The records come from inside the sandbox, so they are the code's own report: read strictly
(bounded, hex fields, unknown lines dropped), never executed or unpickled. Code that reaches the
kernel through ctypes bypasses the hook; the layers still hold it, but its operations may be missing
here. An observed operation has the SovereignIR shape (``type`` and its fields), plus ``refused``
naming the constraint that stopped it, when one did.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_OBSERVED", "read_observed", "unpredicted"]

MAX_OBSERVED = 256
_MAX_BYTES = 1 << 20


def read_observed(fd: int) -> list[dict[str, Any]]:
    try:
        data = os.pread(fd, _MAX_BYTES, 0)
    except OSError:
        return []
    operations: list[dict[str, Any]] = []
    for line in data.decode("ascii", "replace").splitlines():
        if len(operations) >= MAX_OBSERVED:
            break
        kind, *hexed = line.split("\t")
        try:
            fields = [bytes.fromhex(h).decode("utf-8", "replace") for h in hexed]
        except ValueError:
            continue
        op = _operation(kind, fields)
        if op is not None:
            operations.append(op)
    return operations


def _operation(kind: str, fields: list[str]) -> dict[str, Any] | None:
    refused = fields[-1] if fields and kind in _ARITY and len(fields) == _ARITY[kind] + 1 else None
    if kind not in _ARITY or len(fields) not in (_ARITY[kind], _ARITY[kind] + 1):
        return {"type": "truncated"} if kind == "truncated" and not fields else None
    op: dict[str, Any]
    if kind == "file":
        if fields[0] not in ("read", "write", "delete"):
            return None
        op = {"type": "file_operation", "operation": fields[0], "path": fields[1]}
    elif kind == "import":
        op = {"type": "module_import", "module": fields[0]}
    elif kind == "network":
        op = {"type": "network_call", "destination": fields[0]}
    elif kind == "process":
        op = {"type": "process_spawn", "command": fields[0]}
    else:
        op = {"type": "dynamic_code", "kind": fields[0]}
    if refused is not None:
        op["refused"] = refused
    return op


_ARITY = {"file": 2, "import": 1, "network": 1, "process": 1, "dynamic": 1}


def unpredicted(observed: Iterable[dict[str, Any]], predicted: Iterable[Any]) -> list[dict[str, Any]]:
    """The observed operations no operation of the static analysis (SovereignIR operations, as
    models or dicts) accounts for."""
    ops = [p if isinstance(p, dict) else p.model_dump(mode="json") for p in predicted]
    return [o for o in observed if o.get("type") != "truncated" and not any(_covers(p, o) for p in ops)]


def _covers(predicted: dict[str, Any], observed: dict[str, Any]) -> bool:
    kind = observed["type"]
    if predicted.get("type") != kind:
        return False
    if kind == "file_operation":
        if predicted.get("operation") != observed["operation"]:
            return False
        path = observed["path"]
        for p in predicted.get("paths") or ():
            if p is None:
                return True  # the analysis predicted this operation on a path it could not read
            if path == p or path.startswith(p.rstrip("/") + "/") or fnmatch.fnmatchcase(path, p):
                return True
        return False
    if kind == "module_import":
        module, name = predicted.get("module") or "", observed["module"]
        return name == module or name.startswith(module + ".") or module.startswith(name + ".")
    if kind == "network_call":
        host = (predicted.get("destination") or "")
        return not host or observed["destination"].split(":")[0] == host
    if kind == "process_spawn":
        program = predicted.get("program") or (predicted.get("command") or "").split(" ")[0]
        command = observed["command"].split(" ")[0]
        return not program or os.path.basename(command) == os.path.basename(program)
    if kind == "dynamic_code":
        if observed["kind"] == "ctypes":
            return predicted.get("kind") in ("native_code", "other")
        return predicted.get("kind") in ("exec", "eval", "compile")
    return False
