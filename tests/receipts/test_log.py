"""The receipt log as an auditor relies on it: every kind of tampering is caught."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from governed_agents._provenance import ConversationContext
from governed_agents.receipts import (
    PolicyEvaluation,
    Receipt,
    ReceiptLog,
    ReceiptStoreError,
    SignedCheckpoint,
)


def receipt(i: int, agent: str = "agent_exec", approved: bool = True, group: str | None = "team") -> Receipt:
    return Receipt(
        code_hash=f"sha256:{i:064x}", executor_agent=agent, suggester_agent="agent_research",
        conversation_context=ConversationContext(group_chat=group, turn_number=i, message_from_suggester=f"run {i}"),
        policy_evaluation=PolicyEvaluation(approved=approved, constraints={"max_execution_time": 30.0}),
        outcome="approved" if approved else "denied",
    )


@pytest.fixture
def log(tmp_path):
    with ReceiptLog(tmp_path / "receipts.db") as log:
        log.append_many([receipt(i, approved=i % 3 != 0) for i in range(20)])
        yield log


def sql(log: ReceiptLog, statement: str, *params) -> None:
    db = sqlite3.connect(log.path)
    db.execute(statement, params)
    db.commit()
    db.close()


def test_intact_log_verifies_and_every_receipt_has_a_proof(log):
    report = log.verify(public_key=str(log.key_path) + ".pub")
    assert report.ok and report.size == 20, report.problems
    for index in range(20):
        proof = log.prove(index)
        assert proof.verify() and len(proof.path) <= 5
    assert log.get(7).merkle_index == 7 and log.get(7).conversation_context.turn_number == 7


def test_receipts_hold_the_seed_fields(log):
    data = json.loads(log.get(3).model_dump_json())
    for key in ("receipt_id", "code_hash", "executor_agent", "suggester_agent", "conversation_context",
                "policy_evaluation", "timestamp", "merkle_index"):
        assert key in data
    assert set(data["conversation_context"]) == {"group_chat", "message_from_suggester", "message_from_executor",
                                                 "turn_number"}
    assert set(data["policy_evaluation"]) == {"approved", "executor_policy", "constraints", "analysis"}
    assert data["timestamp"].endswith("Z")


@pytest.mark.parametrize("field", ["executor_agent", "suggester_agent", "outcome", "code_hash", "timestamp"])
def test_editing_any_field_of_any_receipt_is_caught(log, field):
    body = json.loads(log._store.get(11))
    body[field] = "forged"
    sql(log, "UPDATE leaves SET body = ? WHERE idx = 11", json.dumps(body).encode())
    report = log.verify()
    assert not report.ok
    assert any(p.startswith("index 11: receipt edited") for p in report.problems)


def test_editing_the_body_and_its_leaf_hash_together_is_still_caught(log):
    from governed_agents.receipts._hashing import leaf_hash

    forged = receipt(5, approved=True).model_copy(update={"receipt_id": log.get(5).receipt_id}).canonical()
    sql(log, "UPDATE leaves SET body = ?, leaf = ? WHERE idx = 5", forged, leaf_hash(forged))
    report = log.verify()
    assert not report.ok
    assert any("root differs" in p for p in report.problems)


def test_deleting_a_receipt_is_caught(log):
    sql(log, "DELETE FROM leaves WHERE idx = 4")
    report = log.verify()
    assert not report.ok and any("index 4 missing" in p for p in report.problems)


def test_reordering_two_receipts_is_caught(log):
    a, b = log._store.get(2), log._store.get(9)
    from governed_agents.receipts._hashing import leaf_hash

    sql(log, "UPDATE leaves SET body = ?, leaf = ? WHERE idx = 2", b, leaf_hash(b))
    sql(log, "UPDATE leaves SET body = ?, leaf = ? WHERE idx = 9", a, leaf_hash(a))
    report = log.verify()
    assert not report.ok
    assert any("index 2" in p for p in report.problems)


def test_truncating_the_tail_is_caught_by_a_saved_checkpoint(log, tmp_path):
    saved = tmp_path / "checkpoint.json"
    saved.write_text(log.checkpoint().model_dump_json())
    sql(log, "DELETE FROM leaves WHERE idx >= 15")
    sql(log, "DELETE FROM nodes")
    sql(log, "DELETE FROM checkpoints")  # the attacker also removes the checkpoints in the log
    report = log.verify(checkpoint=saved)
    assert not report.ok
    assert any("truncated or rolled back (5 receipts missing)" in p for p in report.problems)


def test_a_saved_checkpoint_proves_the_log_only_grew(log, tmp_path):
    saved = log.checkpoint()
    log.append_many([receipt(i) for i in range(20, 30)])
    assert log.verify(checkpoint=saved).ok
    from governed_agents.receipts import verify_consistency

    path = [bytes.fromhex(p) for p in log.consistency(saved.size)]
    assert verify_consistency(saved.size, log.size, bytes.fromhex(saved.root), log.root(), path)


def test_swapping_the_key_is_caught(log, tmp_path):
    other = ReceiptLog(tmp_path / "other.db")  # a different key, signing a forged checkpoint
    forged = SignedCheckpoint.sign(other._key, log.size, log.root())
    report = log.verify(public_key=str(log.key_path) + ".pub", checkpoint=forged)
    assert not report.ok and any("bad signature" in p for p in report.problems)
    report = log.verify(public_key=str(other.key_path) + ".pub")
    assert not report.ok and any("key swapped" in p for p in report.problems)


def test_unwritable_store_raises_receipt_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReceiptStoreError):
        ReceiptLog(blocker / "receipts.db")


async def test_100_concurrent_tasks_get_distinct_indices(tmp_path):
    with ReceiptLog(tmp_path / "r.db") as log:
        stored = await asyncio.gather(*(log.aappend(receipt(i)) for i in range(100)))
        assert sorted(r.merkle_index for r in stored) == list(range(100))
        assert log.verify().ok


CHILD = """
import sys
from governed_agents.receipts import ReceiptLog, Receipt, PolicyEvaluation
log = ReceiptLog(sys.argv[1])
for i in range(int(sys.argv[2])):
    r = log.append(Receipt(code_hash=f"sha256:{sys.argv[3]}{i}", executor_agent=sys.argv[3],
                           policy_evaluation=PolicyEvaluation(approved=True), outcome="approved"))
    print(r.merkle_index, flush=True)
"""


def test_two_processes_appending_to_one_file_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    ReceiptLog(path).close()  # create the file; the first child to append makes the key
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), "60", name], stdout=subprocess.PIPE, text=True)
             for name in ("p1", "p2")]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    indices = [int(i) for out in outputs for i in out]
    assert sorted(indices) == list(range(120))
    with ReceiptLog(path) as log:
        assert log.verify().ok and log.size == 120


def test_kill_9_mid_append_keeps_every_returned_receipt(tmp_path):
    path = tmp_path / "crash.db"
    ReceiptLog(path).close()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), "100000", "crash"], stdout=subprocess.PIPE,
                             text=True)
    returned = []
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    while len(returned) < 40 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line:
            returned.append(int(line))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    returned += [int(x) for x in child.stdout.read().split()]
    with ReceiptLog(path) as log:
        report = log.verify()
        assert report.ok, report.problems
        assert log.size >= len(returned) and max(returned) < log.size
        assert [log.get(i).code_hash for i in returned] == [f"sha256:crash{i}" for i in returned]


def _copy_without_private_key(log: ReceiptLog, directory) -> tuple:
    directory.mkdir()
    copy = directory / "copy.db"
    copy.write_bytes(log.path.read_bytes())
    public = directory / "copy.db.key.pub"
    public.write_bytes(log.public_key_path.read_bytes())
    return copy, public


def test_reading_and_verifying_need_no_private_key_and_create_none(log, tmp_path):
    log.close()
    copy, public = _copy_without_private_key(log, tmp_path / "auditor")
    before = public.read_bytes()
    with ReceiptLog(copy) as audited:
        assert audited.size == 20 and audited.get(3).merkle_index == 3
        assert audited.prove(7).verify() and len(list(audited.receipts(denied=True))) == 7
        report = audited.verify()
        assert report.ok and report.checkpoints_checked == 1, report.problems
    assert not (tmp_path / "auditor" / "copy.db.key").exists()
    assert public.read_bytes() == before


def test_a_new_log_makes_its_key_pair_on_the_first_append(tmp_path):
    with ReceiptLog(tmp_path / "new.db") as log:
        assert not log.key_path.exists() and not log.public_key_path.exists()
        assert log.verify().ok and log.size == 0
        assert not log.key_path.exists()
        log.append(receipt(0))
        assert log.key_path.exists() and log.public_key_path.exists()
        assert log.verify(public_key=log.public_key_path).ok


@pytest.mark.parametrize("keep_public", [True, False])
def test_appending_without_the_private_key_refuses_instead_of_making_a_new_one(log, tmp_path, keep_public):
    log.close()
    copy, public = _copy_without_private_key(log, tmp_path / "elsewhere")
    before = public.read_bytes()
    if not keep_public:
        public.unlink()  # the log itself still records which key signs it
    with ReceiptLog(copy) as copied, pytest.raises(ReceiptStoreError, match="private key is missing"):
        copied.append(receipt(20))
    assert not (tmp_path / "elsewhere" / "copy.db.key").exists()
    assert public.read_bytes() == before if keep_public else not public.exists()
    with ReceiptLog(copy) as copied:
        assert copied.size == 20


def test_create_false_signs_nothing_without_the_key(tmp_path):
    ReceiptLog(tmp_path / "empty.db").close()
    with ReceiptLog(tmp_path / "empty.db", create=False) as log, \
            pytest.raises(ReceiptStoreError, match="no such private key"):
        log.checkpoint()
    assert sorted(p.name for p in tmp_path.iterdir() if ".key" in p.name) == []


def append_unsigned(log: ReceiptLog, r: Receipt) -> None:
    """What a forger with write access to the file can do: a leaf and its tree nodes, but no signature."""
    from governed_agents.receipts._hashing import leaf_hash
    from governed_agents.receipts._tree import CompactRange

    size = log.size
    compact = CompactRange(size, log._store._frontier(size))
    body = r.canonical()
    nodes = compact.append(leaf_hash(body))
    db = sqlite3.connect(log.path)
    db.execute("INSERT INTO leaves VALUES (?, ?, ?, 0, NULL, ?, ?)", (size, r.receipt_id, r.executor_agent, body,
                                                                        leaf_hash(body)))
    db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?)", nodes)
    db.commit()
    db.close()


def test_a_receipt_appended_without_a_signed_checkpoint_is_caught(log):
    append_unsigned(log, receipt(20))
    append_unsigned(log, receipt(21))
    assert log.size == 22 and log.prove(21).verify()  # the tree itself is consistent
    report = log.verify()
    assert not report.ok
    assert report.problems == ["receipts 20..21 are not covered by any signed checkpoint (the last valid signed "
                               "checkpoint is at size 20): appended without signing, or the checkpoint covering "
                               "them was removed"]


def test_deleting_the_signed_checkpoints_is_caught(log):
    sql(log, "DELETE FROM checkpoints")
    report = log.verify()
    assert not report.ok and report.checkpoints_checked == 0
    assert any(p.startswith("receipts 0..19 are not covered by any signed checkpoint (the log has no valid signed "
                            "checkpoint)") for p in report.problems), report.problems


def test_a_checkpoint_with_a_bad_signature_covers_nothing(log):
    body = json.loads(log._store.checkpoints()[-1][1])
    body["signature"] = "00" * 64
    sql(log, "UPDATE checkpoints SET body = ?", json.dumps(body))
    report = log.verify()
    assert any("bad signature" in p for p in report.problems)
    assert any(p.startswith("receipts 0..19 are not covered") for p in report.problems), report.problems


def test_an_unreadable_checkpoint_is_reported_not_raised(log):
    sql(log, "UPDATE checkpoints SET body = 'junk'")
    report = log.verify()
    assert not report.ok
    assert "checkpoint in the log at size 20: unreadable (not a signed checkpoint)" in report.problems


def test_a_saved_checkpoint_still_covers_the_log_after_more_appends(log, tmp_path):
    log.checkpoint()
    log.append(receipt(20))
    log.append_many([receipt(i) for i in range(21, 25)])
    report = log.verify()
    assert report.ok and report.size == 25 and report.checkpoints_checked == 2, report.problems


def test_verify_reads_one_moment_while_a_writer_appends(tmp_path):
    """A writer committing mid-verify must not show up as receipts without their checkpoint."""
    with ReceiptLog(tmp_path / "big.db") as log:
        log.append_many([receipt(i) for i in range(10_001)])  # more than one batch of leaves
        appended = []

        def append_during_verify(done: int, total: int) -> None:
            if not appended:
                appended.append(log.append(receipt(10_001)))

        report = log.verify(progress=append_during_verify)
        assert appended and report.ok and report.size == 10_001, report.problems
        report = log.verify()
        assert report.ok and report.size == 10_002, report.problems


def test_two_writers_making_a_new_logs_key_at_once_share_one(tmp_path):
    """The other process makes the key pair just after this one found none: this one loads it."""
    made: list[Receipt] = []

    class Late(ReceiptLog):
        @property
        def public_key_path(self):
            if not made:
                with ReceiptLog(self.path) as other:
                    made.append(other.append(receipt(0)))
            return super().public_key_path

    with Late(tmp_path / "new.db") as log:
        assert log.append(receipt(1)).merkle_index == 1
        assert made and log.verify(public_key=tmp_path / "new.db.key.pub").ok


def test_a_key_file_is_never_overwritten(tmp_path):
    from governed_agents.receipts._checkpoint import create_key

    create_key(tmp_path / "k")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(FileExistsError):
        create_key(tmp_path / "k")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left either
    assert oct((tmp_path / "k").stat().st_mode & 0o777) == "0o600"


def test_a_checkpoint_of_the_empty_log_stays_valid_as_it_grows(tmp_path):
    with ReceiptLog(tmp_path / "r.db") as log:
        empty = log.checkpoint()
        log.append_many([receipt(i) for i in range(3)])
        report = log.verify(checkpoint=empty)
        assert report.ok and report.checkpoints_checked == 3, report.problems


def test_opening_to_audit_creates_nothing_and_refuses_what_is_no_receipt_log(tmp_path):
    with pytest.raises(ReceiptStoreError, match=r"missing\.db: no such file"):
        ReceiptLog(tmp_path / "missing.db", create=False)
    assert list(tmp_path.iterdir()) == []
    foreign = tmp_path / "notes.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    with pytest.raises(ReceiptStoreError, match=r"notes\.sqlite: not a receipt log \(an SQLite file without the "):
        ReceiptLog(foreign, create=False)
    assert foreign.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


def test_unusable_key_and_checkpoint_files_raise_value_errors_naming_them(log, tmp_path):
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(ValueError, match=r"empty\.json: not a signed checkpoint \(missing size, root"):
        log.verify(checkpoint=tmp_path / "empty.json")
    (tmp_path / "bad.pem").write_text("nope")
    with pytest.raises(ValueError, match=r"bad\.pem: not a PEM public key"):
        log.verify(public_key=tmp_path / "bad.pem")
    with pytest.raises(FileNotFoundError):
        log.verify(checkpoint=tmp_path / "missing.json")


def test_a_checkpoint_naming_a_malformed_key_is_reported_not_raised(log):
    log.public_key_path.unlink()  # no public key: each checkpoint is checked against the key it names
    body = json.loads(log._store.checkpoints()[-1][1])
    body["public_key"] = "zz"
    sql(log, "UPDATE checkpoints SET body = ?", json.dumps(body))
    report = log.verify()
    assert not report.ok and "checkpoint in the log at size 20: bad signature" in report.problems


def test_appending_with_another_key_than_the_logs_is_refused(tmp_path):
    from governed_agents.receipts import ReceiptStoreError

    with ReceiptLog(tmp_path / "log.db") as log:
        log.append(receipt(0))
    with ReceiptLog(tmp_path / "other.db", key_path=tmp_path / "other.key") as other:
        other.append(receipt(0))  # a real key, just not this log's
    with ReceiptLog(tmp_path / "log.db", key_path=tmp_path / "other.key") as log:
        with pytest.raises(ReceiptStoreError, match="not the key this log is signed with"):
            log.append(receipt(0))
        assert log.size == 1
    with ReceiptLog(tmp_path / "log.db") as log:
        assert log.verify().ok


def test_another_applications_sqlite_file_is_not_turned_into_a_receipt_log(tmp_path):
    from governed_agents.receipts import ReceiptStoreError

    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("CREATE TABLE meta (k TEXT)")  # one of our table names does not make it ours
    with pytest.raises(ReceiptStoreError, match="another application"):
        ReceiptLog(path)
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"users", "meta"}


def analysed(i: int) -> Receipt:
    """A receipt whose analysis is its own (a part stored once, referenced by hash)."""
    return receipt(i).model_copy(update={"policy_evaluation": PolicyEvaluation(
        approved=True, constraints={"max_execution_time": 30.0}, analysis={"code_signature": f"sha256:{i:064x}"})})


def a_failed_append_leaves_nothing_and_the_retry_keeps_the_analysis(log: ReceiptLog, monkeypatch) -> None:
    """An analysis is written in the transaction of the receipt that first names it: an append that
    fails (here when the checkpoint is signed) leaves neither, and the retry stores both."""
    from governed_agents.receipts import _log

    before = dict(log._store.meta_items())

    def refuse(*args, **kwargs):
        raise OSError("the signature could not be made")

    with monkeypatch.context() as patched:
        patched.setattr(_log.SignedCheckpoint, "sign", refuse)
        with pytest.raises(ReceiptStoreError):
            log.append(analysed(7))
    assert dict(log._store.meta_items()) == before  # no analysis without its receipt
    stored = log.append(analysed(7))
    assert log.get(stored.merkle_index).policy_evaluation.analysis == {"code_signature": f"sha256:{7:064x}"}
    assert log.verify().ok


def test_an_analysis_commits_with_the_receipt_that_names_it(tmp_path, monkeypatch):
    with ReceiptLog(tmp_path / "receipts.db") as log:
        log.append(receipt(0))
        a_failed_append_leaves_nothing_and_the_retry_keeps_the_analysis(log, monkeypatch)
