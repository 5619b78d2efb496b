from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RunReport"]


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

    @property
    def output(self) -> str:
        """stdout and stderr together, as AutoGen's local executor reports them (stderr first)."""
        return self.stderr + self.stdout

    def summary(self) -> str:
        if self.limit_broken:
            return f"stopped: {self.limit_broken}"
        if self.blocked:
            return "; ".join(self.blocked)
        return ""
