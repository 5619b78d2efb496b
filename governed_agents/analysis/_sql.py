"""SQL verb and tables from a literal statement (enough for a gate, not a SQL parser)."""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["sql_files", "sql_operations", "sql_reach", "sqlite_database_files"]

# (path or None when it is not known, the file operations SQLite performs on it)
FileUse = tuple[str | None, tuple[str, ...]]
_READ_WRITE = ("read", "write")

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


_ATTACH = re.compile(r"^\s*attach\s+(?:database\s+)?'((?:[^']|'')*)'", re.I)
_VACUUM_INTO = re.compile(r"^\s*vacuum\s+(?:[A-Za-z_][\w\"`\[\]]*\s+)?into\s+'((?:[^']|'')*)'", re.I)
_FILE_STATEMENT = re.compile(r"^\s*(?:attach|vacuum)\b", re.I)


# files SQL names by itself (duckdb, PostgreSQL's server-side COPY): COPY … TO/FROM 'path', the
# table functions read_csv('path') and friends, INSTALL/LOAD of extensions
_COPY = re.compile(r"\bcopy\b[^;]*?\b(to|from)\s+'((?:[^']|'')*)'", re.I)
# COPY … TO/FROM a file given as a parameter or an expression (STDIN/STDOUT are the client's)
_COPY_UNKNOWN = re.compile(r"\bcopy\b[^;]*?\b(to|from)\s+(?![\s']|stdin\b|stdout\b|program\b)", re.I)
_COPY_PROGRAM = re.compile(r"\bcopy\b[^;]*?\b(?:to|from)\s+program\b", re.I)  # PostgreSQL runs a command
_TABLE_FUNCTION = re.compile(r"\b(?:read_\w+|\w+_scan|from_\w+_auto|glob|sniff_csv)\s*\(\s*'((?:[^']|'')*)'", re.I)
_TABLE_FUNCTION_UNKNOWN = re.compile(r"\b(?:read_\w+|\w+_scan|from_\w+_auto|sniff_csv)\s*\(\s*(?![\s')])", re.I)
_QUOTED_RELATION = re.compile(r"\b(?:from|join)\s+'((?:[^']|'')*)'", re.I)  # duckdb: SELECT * FROM 'x.csv'
_REMOTE = re.compile(r"'(?:https?|s3|gcs|gs|az|azure|abfss?|hf|r2)://[^']*'", re.I)
_EXTENSION = re.compile(r"^\s*(?:force\s+)?(?:install|load)\b", re.I)


def sql_reach(sql: str) -> tuple[list[FileUse], list[str], str | None]:
    """(files, remote URLs, the code it runs if any) that SQL text reaches by naming them: COPY …
    TO/FROM 'path', a relation or table function naming a file (``FROM 'x.csv'``,
    ``read_csv('x')``); the file unknown where it is a parameter; ``INSTALL``/``LOAD`` of an
    extension and ``COPY … PROGRAM`` run code."""
    files: list[FileUse] = []
    text = _COMMENTS.sub(" ", sql)
    for direction, path in _COPY.findall(text):
        files.append((path.replace("''", "'"), ("write",) if direction.lower() == "to" else ("read",)))
    files.extend((None, ("write",) if direction.lower() == "to" else ("read",))
                 for direction in _COPY_UNKNOWN.findall(text))
    files.extend((path.replace("''", "'"), ("read",))
                 for path in (*_TABLE_FUNCTION.findall(text), *_QUOTED_RELATION.findall(text)))
    files.extend((None, ("read",)) for _ in _TABLE_FUNCTION_UNKNOWN.findall(text))
    urls = [u.strip("'") for u in _REMOTE.findall(text)]
    files = [(p, ops) for p, ops in files if p is None or "://" not in p]
    runs = "SQL that runs a command (COPY … PROGRAM)" if _COPY_PROGRAM.search(text) else (
        "SQL that installs or loads an extension"
        if any(_EXTENSION.match(statement) for statement in text.split(";")) else None)
    return files, urls, runs


def sql_files(sql: str) -> list[FileUse]:
    """The files a SQLite statement opens itself: ``ATTACH DATABASE 'path'`` (read-write, created
    when missing) and ``VACUUM INTO 'path'`` (written). A file name that is not a literal, or a
    URI, is reported as unknown."""
    out: list[FileUse] = []
    for statement in _COMMENTS.sub(" ", sql).split(";"):
        if not _FILE_STATEMENT.match(statement):
            continue
        attach, vacuum = _ATTACH.match(statement), _VACUUM_INTO.match(statement)
        if attach is not None:
            out.extend(sqlite_database_files(attach.group(1).replace("''", "'"), uri=None))
        elif vacuum is not None:
            out.extend((path, ("write",)) for path, _ in sqlite_database_files(vacuum.group(1).replace("''", "'"),
                                                                                uri=None))
        elif statement.split()[0].lower() == "attach" or re.search(r"\binto\b", statement, re.I):
            out.append((None, ("write",) if statement.split()[0].lower() == "vacuum" else _READ_WRITE))
    return out


def sqlite_database_files(database: str | None, *, uri: bool | None) -> list[FileUse]:
    """What SQLite opens for a database name: nothing in memory (``":memory:"``, ``""``, a
    ``file:`` URI with ``mode=memory``); else the file, read-write and created when missing, or
    read-only for a URI with ``mode=ro`` or ``immutable=1``. ``uri``: whether the name is read as a
    URI (``connect(uri=True)``); None when that is not known, which reports both readings."""
    if database is None:
        return [(None, _READ_WRITE)]
    out: list[FileUse] = []
    if uri is not True and database not in (":memory:", ""):
        out.append((database, _READ_WRITE))
    if uri is not False and database.startswith("file:"):
        out.extend(_uri_files(database))
    return out


def _uri_files(text: str) -> list[FileUse]:
    parts = urllib.parse.urlsplit(text)
    query = urllib.parse.parse_qs(parts.query)
    path: str | None = urllib.parse.unquote(parts.path)
    if query.get("mode", [""])[-1] == "memory" or path == ":memory:":
        return []
    if parts.netloc not in ("", "localhost"):
        path = None  # SQLite refuses another host; say so rather than guess
    read_only = query.get("mode", [""])[-1] == "ro" or query.get("immutable", ["0"])[-1] not in ("0", "")
    return [(path or None, ("read",) if read_only else _READ_WRITE)]
