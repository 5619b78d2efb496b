"""The README's first command: the offline demo prints the persuasion scenario to the end."""

from __future__ import annotations

import sqlite3
import subprocess
import sys


def test_demo_runs_offline_and_the_delete_never_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "governed_agents", "demo", "--dir", str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("[gate] APPROVED") == 2 and out.count("[gate] DENIED") == 1
    assert "settled total: 530.24" in out
    assert "still in finance.db: 5 of 5" in out
    assert "intact — 5 receipts" in out
    assert str(tmp_path / "demo" / "receipts.db") in out
    with sqlite3.connect(tmp_path / "demo" / "finance.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM transactions WHERE status = 'failed'").fetchone()[0] == 2


def test_demo_runs_again_in_its_own_folder_but_never_deletes_receipts_it_did_not_write(tmp_path):
    demo = [sys.executable, "-m", "governed_agents", "demo", "--dir"]
    assert subprocess.run([*demo, str(tmp_path / "demo")], capture_output=True, timeout=300).returncode == 0
    again = subprocess.run([*demo, str(tmp_path / "demo")], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "intact — 5 receipts" in again.stdout  # afresh, in its own folder
    project = tmp_path / "project"
    project.mkdir()
    (project / "receipts.db").write_text("someone's receipts")
    refused = subprocess.run([*demo, str(project)], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "did not write" in refused.stderr
    assert (project / "receipts.db").read_text() == "someone's receipts"
