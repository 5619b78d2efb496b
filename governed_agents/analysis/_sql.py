"""SQL verb and tables from a literal statement (enough for a gate, not a SQL parser)."""

from __future__ import annotations

import re

__all__ = ["sql_operations"]

_VERBS = {
    "select": "select", "with": "select", "pragma": "select", "explain": "select", "show": "select",
    "insert": "insert", "replace": "insert", "upsert": "insert", "copy": "insert",
    "update": "update", "merge": "update",
    "delete": "delete", "truncate": "delete",
    "create": "ddl", "drop": "ddl", "alter": "ddl", "rename": "ddl", "grant": "ddl", "revoke": "ddl",
    "attach": "ddl", "detach": "ddl", "vacuum": "ddl", "reindex": "ddl",
}
_WRITE_IN_CTE = re.compile(r"\b(delete|update|insert)\b", re.I)
_TABLES = re.compile(
    r"\b(?:from|into|update|join|table|truncate)\s+(?:if\s+(?:not\s+)?exists\s+)?([A-Za-z_][\w.\"`\[\]]*)", re.I
)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def sql_operations(sql: str) -> list[tuple[str, tuple[str, ...]]]:
    """``[(verb, tables)]`` for each statement of ``sql``; verb "other" when it is not recognised."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for statement in _COMMENTS.sub(" ", sql).split(";"):
        words = statement.split()
        if not words:
            continue
        first = words[0].lower()
        verb = _VERBS.get(first, "other")
        if first == "with":
            hit = _WRITE_IN_CTE.search(statement)
            verb = hit.group(1).lower() if hit else "select"
        tables = tuple(dict.fromkeys(t.strip('"`[]').lower() for t in _TABLES.findall(statement)))
        out.append((verb, tables))
    return out
