"""Which agent block applies to an agent's name: its own, else the most specific matching glob.

An agent block's name may be a glob (``"*"``, ``"analyst_*"``, ``"team?_reader"``, ``"[ab]_*"``):
a default rule for every agent whose name it matches. For a name:

1. an agent block with exactly that name decides;
2. otherwise, of the globs that match (``fnmatch``, case-sensitive), the most specific decides:
   the longest literal prefix (the characters before the first ``*``, ``?`` or ``[``), then the
   most literal characters in all, then the fewest wildcards;
3. two matching globs equally specific by all three is an ambiguity: no block decides, and every
   decision for that name is a denial that names both globs (fail closed), until the policy gets an
   exact block for the name or makes one glob more specific.

The block that decides is the agent's whole policy: blocks are not merged action by action.
"""

from __future__ import annotations

import fnmatch
import functools
import re

__all__ = ["is_glob", "resolve_name", "specificity"]

_WILDCARD = re.compile(r"\*|\?|\[!?\]?[^\]]*\]")


def is_glob(name: str) -> bool:
    return any(ch in name for ch in "*?[")


@functools.lru_cache(maxsize=1024)
def specificity(pattern: str) -> tuple[int, int, int]:
    """(literal prefix length, literal characters, -wildcards): a larger tuple is more specific."""
    wildcards = list(_WILDCARD.finditer(pattern))
    prefix = wildcards[0].start() if wildcards else len(pattern)
    literal = len(pattern) - sum(m.end() - m.start() for m in wildcards)
    return prefix, literal, -len(wildcards)


def resolve_name(name: str, names: list[str]) -> tuple[str | None, str]:
    """The block name that decides for ``name`` among ``names``, and, when none does, why."""
    if name in names:
        return name, ""
    matching = [n for n in names if is_glob(n) and fnmatch.fnmatchcase(name, n)]
    if not matching:
        return None, f"{name} has no policy"
    matching.sort(key=specificity, reverse=True)
    if len(matching) > 1 and specificity(matching[0]) == specificity(matching[1]):
        tied = [n for n in matching if specificity(n) == specificity(matching[0])]
        return None, (f"{name} matches agent " + " and agent ".join(f'"{n}"' for n in tied)
                      + ' equally specifically (see "Agent names and globs" in docs/policy.md); '
                      f'add an agent "{name}" block or make one glob more specific')
    return matching[0], ""
