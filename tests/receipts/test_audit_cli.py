"""`governed-agents audit` as an auditor runs it: on a copy of the log with its public key only.

Exit codes are the contract: 0 intact, 1 tampered, 2 a usage problem (a missing or unreadable
file) — and auditing never creates or overwrites a key file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from governed_agents.receipts import ReceiptLog
from tests.receipts.test_log import append_unsigned, receipt

ROOT = Path(__file__).resolve().parents[2]


def audit(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governed_agents", "audit", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)


def files(directory: Path) -> dict[str, bytes]:
    """Every file's bytes (SQLite's transient -wal/-shm aside): what auditing must leave alone."""
    return {p.name: p.read_bytes() for p in directory.iterdir() if not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture
def copied(tmp_path) -> Path:
    """A log of 6 receipts copied, with its public key but not its private key, to an auditor's directory."""
    made = tmp_path / "made"
    with ReceiptLog(made / "log.db") as log:
        log.append_many([receipt(i, approved=i % 2 == 0, group="team") for i in range(6)])
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    shutil.copy(made / "log.db", auditor / "log.db")
    shutil.copy(made / "log.db.key.pub", auditor / "log.db.key.pub")
    return auditor / "log.db"


def test_verify_needs_only_the_public_key_beside_the_log(copied):
    before = files(copied.parent)
    result = audit("verify", copied)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact — 6 receipts" in result.stdout and "1 signed checkpoint(s)" in result.stdout
    assert files(copied.parent) == before
    assert not (copied.parent / "log.db.key").exists()


def test_verify_with_public_key_option_creates_no_key(copied):
    given = copied.parent / "given.pem"
    (copied.parent / "log.db.key.pub").rename(given)
    before = files(copied.parent)
    result = audit("verify", copied, "--public-key", given)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact — 6 receipts" in result.stdout
    assert files(copied.parent) == before


def test_reading_commands_create_no_key(copied):
    before = files(copied.parent)
    shown = audit("show", "--json", copied)
    assert shown.returncode == 0 and len(shown.stdout.splitlines()) == 6
    assert audit("show", copied).returncode == 0
    proved = audit("prove", copied, "3")
    assert proved.returncode == 0 and '"index": 3' in proved.stdout
    conversation = audit("conversation", copied, "--group", "team")
    assert conversation.returncode == 0 and "turn 5" in conversation.stdout
    assert files(copied.parent) == before


def test_verify_without_any_public_key_is_a_usage_error(copied):
    (copied.parent / "log.db.key.pub").unlink()
    before = files(copied.parent)
    result = audit("verify", copied)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "log.db.key.pub: no such public key" in result.stderr and "--public-key" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert files(copied.parent) == before


def test_checkpoint_without_the_private_key_says_so_and_makes_none(copied):
    before = files(copied.parent)
    result = audit("checkpoint", copied)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "log.db.key: no such private key" in result.stderr and "Traceback" not in result.stderr
    assert files(copied.parent) == before


def test_checkpoint_with_the_private_key_signs_and_saves(tmp_path):
    with ReceiptLog(tmp_path / "log.db") as log:
        log.append_many([receipt(i) for i in range(3)])
    out = tmp_path / "head.json"
    result = audit("checkpoint", tmp_path / "log.db", "--out", out)
    assert result.returncode == 0, result.stderr
    assert '"size": 3' in out.read_text()
    assert audit("verify", tmp_path / "log.db", "--checkpoint", out).returncode == 0


def test_verify_reports_a_receipt_appended_without_signing(copied):
    with ReceiptLog(copied, create=False) as log:
        append_unsigned(log, receipt(6))
    result = audit("verify", copied)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "TAMPERED — 1 problem(s)" in result.stdout
    assert "receipt 6 is not covered by any signed checkpoint" in result.stdout


def test_verify_reports_deleted_checkpoints(copied):
    db = sqlite3.connect(copied)
    db.execute("DELETE FROM checkpoints")
    db.commit()
    db.close()
    result = audit("verify", copied)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "receipts 0..5 are not covered by any signed checkpoint (the log has no valid signed checkpoint)" \
        in result.stdout
