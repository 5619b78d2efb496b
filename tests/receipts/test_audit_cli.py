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


def files(directory: Path) -> dict[str, bytes | None]:
    """Every file's bytes (None for a directory; SQLite's transient -wal/-shm aside): what auditing
    must leave alone."""
    return {p.name: p.read_bytes() if p.is_file() else None for p in directory.iterdir()
            if not p.name.endswith(("-wal", "-shm"))}


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


def audit_here(capsys, *args: str | Path) -> tuple[int, str, str]:
    """The same command in this process (faster, for the many variants): exit code, stdout, stderr."""
    from governed_agents.cli import main

    try:
        code = main(["audit", *map(str, args)])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("option", "content", "message"), [
    ("--public-key", None, "missing.pem: no such public key"),
    ("--public-key", "not a key\n", "bad.pem: not a PEM public key"),
    ("--checkpoint", None, "missing.json: no such file"),
    ("--checkpoint", "{}", "bad.json: not a signed checkpoint (missing size, root, timestamp, signature, public_key)"),
    ("--checkpoint", "not json", "bad.json: not a signed checkpoint (Invalid JSON"),
    ("--checkpoint", '{"size": "x", "root": "", "timestamp": "", "signature": "", "public_key": ""}',
     "bad.json: not a signed checkpoint (size: Input should be a valid integer"),
])
def test_verify_with_an_unusable_key_or_checkpoint_file_is_a_usage_error(copied, capsys, option, content, message):
    suffix = ".pem" if option == "--public-key" else ".json"
    given = copied.parent / (("missing" if content is None else "bad") + suffix)
    if content is not None:
        given.write_text(content)
    code, out, err = audit_here(capsys, "verify", copied, option, given)
    assert code == 2 and out == ""
    assert err.startswith(f"governed-agents audit: {copied.parent}/{message}") and len(err.splitlines()) == 1


def test_a_missing_key_file_is_exit_2_not_a_traceback(copied):
    result = audit("verify", copied, "--public-key", copied.parent / "missing.pem")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"governed-agents audit: {copied.parent / 'missing.pem'}: no such public key"
    result = audit("verify", copied, "--checkpoint", copied.parent / "missing.json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"governed-agents audit: {copied.parent / 'missing.json'}: no such file"


SUBCOMMANDS = [("verify",), ("show",), ("prove", "0"), ("checkpoint",), ("conversation", "--group", "team")]


def _foreign_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.commit()
    db.close()


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("kind", "message"), [
    ("text", "not a receipt log (file is not a database)"),
    ("empty", "not a receipt log (an SQLite file without the checkpoints, leaves, meta, nodes table(s))"),
    ("sqlite", "not a receipt log (an SQLite file without the checkpoints, leaves, meta, nodes table(s))"),
    ("directory", "not a file"),
    ("missing", "no such receipt log"),
])
def test_every_subcommand_on_something_that_is_no_receipt_log(tmp_path, capsys, command, kind, message):
    target = tmp_path / "log.db"
    if kind == "text":
        target.write_text("hello, not SQLite\n" * 10)
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "sqlite":
        _foreign_sqlite(target)
    elif kind == "directory":
        target.mkdir()
    before = files(tmp_path)
    name, *rest = command
    code, out, err = audit_here(capsys, name, target, *rest)
    assert code == 2 and out == ""
    assert err == f"governed-agents audit: {target}: {message}\n"
    assert files(tmp_path) == before  # nothing written into it, no log or key created beside it


def test_checkpoint_to_an_unwritable_file_is_a_usage_error(tmp_path, capsys):
    with ReceiptLog(tmp_path / "log.db") as log:
        log.append(receipt(0))
    out_file = tmp_path / "no" / "such" / "dir" / "head.json"
    code, out, err = audit_here(capsys, "checkpoint", tmp_path / "log.db", "--out", out_file)
    assert code == 2 and out == ""
    assert err == f"governed-agents audit: {out_file}: cannot write the checkpoint: No such file or directory\n"


def test_a_receipt_that_no_longer_reads_back_is_one_line_and_exit_1(tmp_path):
    path = tmp_path / "log.db"
    with ReceiptLog(path) as log:
        log.append(receipt(0))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE leaves SET body = CAST('{not json' AS BLOB)")
    shown = audit("show", path)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr
    assert "does not read back" in shown.stderr and "audit verify" in shown.stderr
    assert audit("verify", path).returncode == 1  # and verify names it as tampering
