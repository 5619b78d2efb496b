"""How a value is matched against an allow-list: module patterns, path prefixes/globs, host globs."""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from collections.abc import Callable

__all__ = ["import_allowed", "matches_any", "path_allowed"]


def _module_specificity(pattern: str, module: str) -> int | None:
    """How specifically ``pattern`` covers ``module`` (segments matched), or None if it does not."""
    if pattern == "*":
        return 0
    if any(ch in pattern for ch in "*?["):
        return pattern.count(".") + 1 if fnmatch.fnmatchcase(module, pattern) else None
    if module == pattern or module.startswith(pattern + "."):
        return pattern.count(".") + 1
    return None


# Pure in its (hashable) arguments, and asked the same few questions for every snippet (``os``
# under the same lists): kept rather than matched pattern by pattern each time.
@functools.lru_cache(maxsize=1024)
def import_allowed(module: str, allowed: tuple[str, ...] | None, disallowed: tuple[str, ...]) -> tuple[bool, str]:
    """The most specific matching pattern decides; at equal specificity the deny wins.

    So ``disallowed: ["*"]`` with ``allowed: ["math"]`` lets ``math`` in (the seed's sandbox), and
    ``disallowed: ["os"]`` with ``allowed: ["*"]`` keeps ``os`` (and ``os.path``) out.
    """
    deny = max((s for p in disallowed if (s := _module_specificity(p, module)) is not None), default=None)
    if allowed is None:
        return (deny is None), "disallowed_imports"
    allow = max((s for p in allowed if (s := _module_specificity(p, module)) is not None), default=None)
    if deny is not None and (allow is None or deny >= allow):
        return False, "disallowed_imports"
    if allow is None:
        return False, "allowed_imports"
    return True, ""


@functools.lru_cache(maxsize=4096)  # pure; a snippet's paths are judged against the same list again and again
def path_allowed(path: str | None, allowed: tuple[str, ...] | None) -> bool:
    """``None`` (unknown) is outside every list; a directory covers its subtree; globs match."""
    if allowed is None:
        return True
    if path is None or "://" in path:
        return False
    if not posixpath.isabs(path):
        return False  # relative to an unknown directory
    for pattern in allowed:
        if pattern in ("*", "**"):  # anywhere
            return True
        if any(ch in pattern for ch in "*?["):
            matcher = _path_glob(pattern.rstrip("/") or "/")
            if any(matcher(p) for p in _self_and_ancestors(path)):  # a matched directory covers its subtree
                return True
            continue
        base = posixpath.normpath(pattern)
        if base == "/" or path == base or path.startswith(base.rstrip("/") + "/"):
            return True
    return False


@functools.lru_cache(maxsize=512)
def _path_glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A path glob as shells and pathlib read it: ``*`` and ``?`` stay within one directory
    (``/srv/*.csv`` is not ``/srv/sub/a.csv``), ``**`` crosses directories, ``[…]`` is a class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1:end]
            out.append("(?!/)[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out)).fullmatch


def _self_and_ancestors(path: str) -> list[str]:
    found = [path]
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        found.append(path)
    return found


def matches_any(value: str | None, patterns: tuple[str, ...]) -> bool:
    """Glob match; ``"*"`` also grants values the analyser could not determine (``None``)."""
    if "*" in patterns:
        return True
    if value is None:
        return False
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)
