"""A full verify of a stored log: every leaf, every stored subtree, every signed checkpoint.

A receipt counts as logged only once a signed checkpoint covers it. Every append signs one in its
own transaction (see ``_sqlite`` and ``_postgres``), so a log written by the library always ends at a signed
checkpoint; receipts beyond the last valid one were written around the library (no signature),
or the checkpoint that covered them was removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

from governed_agents.receipts._checkpoint import SignedCheckpoint, public_key_hex
from governed_agents.receipts._hashing import EMPTY_ROOT, leaf_hash
from governed_agents.receipts._receipt import EXTERNAL_PARTS, part_ref
from governed_agents.receipts._store import Store
from governed_agents.receipts._tree import CompactRange

__all__ = ["VerifyReport", "verify_store"]


class VerifyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    size: int
    root: str
    problems: list[str]
    checkpoints_checked: int = 0


def verify_store(
    store: Store,
    key: Ed25519PublicKey | None,
    saved: SignedCheckpoint | None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check ``store`` (one consistent snapshot of it) against ``key`` and a ``saved`` checkpoint."""
    problems: list[str] = []
    in_log: list[SignedCheckpoint] = []
    for stored_size, text in store.checkpoints():
        try:
            in_log.append(SignedCheckpoint.model_validate_json(text))
        except ValidationError:
            problems.append(f"checkpoint in the log at size {stored_size}: unreadable (not a signed checkpoint)")
    wanted = {c.size for c in in_log} | ({saved.size} if saved else set())
    roots: dict[int, bytes] = {0: EMPTY_ROOT}  # a checkpoint signed while the log was empty
    compact = CompactRange()
    parts_seen: dict[str, str | None] = {}  # ref -> None when it checked out, else the problem
    recomputed: dict[tuple[int, int], bytes] = {}
    total = store.size()
    expected = 0
    for index, body, stored_leaf in store.leaves():
        if index != expected:
            problems.append(f"index {expected}" + (f"..{index - 1}" if index - 1 > expected else "") +
                            " missing: receipts were deleted")
            expected = index
        if leaf_hash(body) != stored_leaf:
            problems.append(f"index {index}: receipt edited (its content no longer matches its leaf hash)")
        if b'"$ref"' in body:
            problems.extend(_check_parts(store, index, body, parts_seen))
        for level, node_index, value in compact.append(leaf_hash(body)):
            recomputed[(level, node_index)] = value
        expected += 1
        if compact.size in wanted:
            roots[compact.size] = compact.root()
        if progress is not None and (index % 10000 == 0 or index == total - 1):
            progress(index + 1, total)
    size = compact.size
    roots[size] = compact.root()
    for level, node_index, value in store.stored_nodes():
        if recomputed.get((level, node_index)) not in (None, value):
            first = node_index << level
            problems.append(f"index {first}..{first + (1 << level) - 1}: stored subtree hash differs "
                            "from the receipts (edited or reordered)")
    checked = 0
    covered = 0  # receipts [0, covered) are under a valid signed checkpoint kept in the log
    for signed in [*in_log, *([saved] if saved else [])]:
        checked += 1
        label = "saved checkpoint" if signed is saved else "checkpoint in the log"
        if not signed.verify(key):
            problems.append(f"{label} at size {signed.size}: bad signature"
                            + (" for the given public key (key swapped?)" if key is not None else ""))
            continue
        if signed.size > size:
            problems.append(f"{label} at size {signed.size}, but the log holds {size}: "
                            f"truncated or rolled back ({signed.size - size} receipts missing)")
        elif roots.get(signed.size, b"").hex() != signed.root:
            problems.append(f"{label} at size {signed.size}: root differs — receipts before index "
                            f"{signed.size} were edited, deleted or reordered")
        elif signed is not saved:
            covered = max(covered, signed.size)
    if covered < expected:
        problems.append(_uncovered(covered, expected))
    if key is not None and store.meta("public_key") not in (None, public_key_hex(key)):
        problems.append("the log's signing key is not the given public key (key swapped)")
    return VerifyReport(ok=not problems, size=size, root=roots[size].hex(), problems=problems,
                        checkpoints_checked=checked)


def _check_parts(store: Store, index: int, body: bytes, seen: dict[str, str | None]) -> list[str]:
    """The analysis and rule a receipt references by hash: in the log, and matching the hash."""
    try:
        evaluation = json.loads(body).get("policy_evaluation") or {}
    except (ValueError, AttributeError):
        return [f"index {index}: receipt is not readable JSON"]
    problems = []
    for name in EXTERNAL_PARTS:
        value = evaluation.get(name) if isinstance(evaluation, dict) else None
        if not (isinstance(value, dict) and set(value) == {"$ref"}):
            continue
        ref = str(value["$ref"])
        if ref not in seen:
            text = store.meta("part:" + ref)
            seen[ref] = ("is missing from the log" if text is None else
                         None if part_ref(text.encode()) == ref else "was edited (it no longer matches its hash)")
        if seen[ref] is not None:
            problems.append(f"index {index}: its {name} ({ref[:19]}…) {seen[ref]}")
    return problems


def _uncovered(first: int, end: int) -> str:
    one = end - first == 1
    which = f"receipt {first} is" if one else f"receipts {first}..{end - 1} are"
    why = ("the log has no valid signed checkpoint" if first == 0 else
           f"the last valid signed checkpoint is at size {first}")
    return (f"{which} not covered by any signed checkpoint ({why}): appended without signing, "
            f"or the checkpoint covering {'it' if one else 'them'} was removed")
