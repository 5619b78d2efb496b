from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RunReport", "layers_note"]

# what a run loses when the layer did not run
_LOST = {
    "bubblewrap": "network and filesystem isolation off",
    "cgroup": "process limit off",
    "memory_cgroup": "memory counted as address space only (tmpfs and memfd not counted)",
    "seccomp": "system-call filter off",
    "rlimits": "memory, CPU time and file size limits off",
    "process_group": "the whole-tree kill at the time limit off",
    "audit_hook": "readable refusals off",
}


def layers_note(layers: dict[str, str]) -> str:
    """One line naming every layer that did not run (and what that leaves off); "" when all ran."""
    missing = []
    for name, state in layers.items():
        if state == "active":
            continue
        why = state.split(": ", 1)[1] if ": " in state else state
        missing.append(f"{name} ({why}): {_LOST.get(name, 'off')}")
    return "governed-agents: ran without " + "; without ".join(missing) if missing else ""


class RunReport(BaseModel):
    """What happened when approved code ran, and which layers held it."""

    model_config = ConfigDict(frozen=True)

    exit_code: int
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    limit_broken: str | None = None  # "time limit", "memory limit", "process limit", "file size limit", "cpu limit"
    layers: dict[str, str] = Field(default_factory=dict)  # layer → "active" / "unavailable: why" / "off: why"
    blocked: list[str] = Field(default_factory=list)  # what the audit hook refused, readable
    # what the in-child audit hook saw the code do or attempt (bounded; see runtime._observed)
    observed_operations: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def output(self) -> str:
        """stdout and stderr together, as AutoGen's local executor reports them (stderr first)."""
        return self.stderr + self.stdout

    def weakened(self) -> str:
        """The line that says which layers did not hold this run, as run_code puts it first in
        ``stderr``; "" when every layer ran, and when the code did not run at all."""
        note = layers_note(self.layers)
        return note if note and self.stderr.startswith(note + "\n") else ""

    def summary(self) -> str:
        if self.limit_broken:
            return f"stopped: {self.limit_broken}"
        if self.blocked:
            return "; ".join(self.blocked)
        return ""
