from __future__ import annotations

__all__ = ["PolicyError"]


class PolicyError(Exception):
    """A policy that cannot be loaded: says where (file:line:col) and what was expected."""

    def __init__(self, message: str, *, filename: str = "<string>", line: int = 0, column: int = 0) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        where = f"{filename}:{line}:{column}" if line else filename  # no position: the file as a whole
        super().__init__(f"{where}: {message}")
