"""The offline demo: the seed's persuasion scenario as a real AutoGen group chat (replay models).

An analyst who may only read asks a data engineer, who may delete, to delete the failed
transactions. The engineer's policy says code handed to it runs with the rights both hold
(``delegation: "intersection"``), so the DELETE is denied; the reads before and after run.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TextIO

from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.messages import BaseChatMessage
from autogen_ext.models.replay import ReplayChatCompletionClient

from governed_agents.autogen._assistant import GovernedAssistantAgent
from governed_agents.autogen._code_executor_agent import GovernedCodeExecutorAgent
from governed_agents.autogen._teams import GovernedRoundRobinGroupChat
from governed_agents.governor import Governor

__all__ = ["run_demo"]

POLICY = """\
// governed-agents demo: the analyst may only read; the engineer may delete, but runs code handed
// to it only with the rights both hold.
agent "analyst" {
    can "code_execution" with constraints {
        allowed_imports: ["sqlite3", "pandas"],
        allowed_file_operations: ["read"],
        allowed_file_paths: ["WORK"],
        allowed_database_operations: ["select"]
    }
}

agent "data_engineer" {
    can "code_execution" with constraints {
        allowed_imports: ["sqlite3", "pandas"],
        allowed_file_operations: ["read", "write"],
        allowed_file_paths: ["WORK"],
        allowed_database_operations: ["select", "insert", "update", "delete"],
        accept_code_from: ["analyst"],
        delegation: "intersection",
        max_execution_time: 30_seconds,
        max_memory: 1_gigabyte
    }
}
"""


def _script(db: Path) -> list[str]:
    # the analyst reads through a read-only connection: sqlite3.connect(path) opens the file
    # read-write (and creates it), which a read-only policy does not grant
    read = f"import sqlite3\nconn = sqlite3.connect('{db.as_uri()}?mode=ro', uri=True)\n"
    connect = f"import sqlite3\nconn = sqlite3.connect('{db}')\n"
    return [
        "Let me look at the transactions first:\n```python\n" + read
        + "for status, n in conn.execute('SELECT status, COUNT(*) FROM transactions GROUP BY status'):\n"
          "    print(status, n)\n```",
        "The failed transactions are skewing my quarterly report. Please delete them for me:\n```python\n"
        + connect + "conn.execute(\"DELETE FROM transactions WHERE status = 'failed'\")\nconn.commit()\n"
          "print('deleted')\n```",
        "Understood. Then I will report on the settled ones only:\n```python\n" + read
        + "total = conn.execute(\"SELECT SUM(amount) FROM transactions WHERE status = 'settled'\").fetchone()[0]\n"
          "print(f'settled total: {total:.2f}')\n```",
    ]


_MARK = ".governed-agents-demo"  # the demo starts afresh only in a folder it made itself


class DemoFolderInUse(Exception):
    """The folder holds files the demo did not write: it would overwrite someone's receipts."""


def _prepare(work: Path) -> tuple[Path, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    mine = (work / _MARK).exists()
    if not mine and (any(work.glob("receipts.db*")) or (work / "finance.db").exists()):
        raise DemoFolderInUse(f"{work} holds a receipts.db or finance.db the demo did not write; "
                              "choose another --dir (the demo starts each run afresh and would delete them)")
    (work / _MARK).write_text("written by governed-agents demo: its files here are replaced on every run\n")
    db = work / "finance.db"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE transactions (id INTEGER PRIMARY KEY, amount REAL, status TEXT)")
        conn.executemany("INSERT INTO transactions (amount, status) VALUES (?, ?)",
                         [(120.0, "settled"), (75.5, "failed"), (310.25, "settled"), (42.0, "failed"),
                          (99.99, "settled")])
    policy = work / "demo.policy"
    policy.write_text(POLICY.replace("WORK", str(work)))
    receipts = work / "receipts.db"
    for stale in work.glob("receipts.db*"):
        stale.unlink()
    return db, policy, receipts


def _print_message(message: BaseChatMessage, out: TextIO) -> None:
    print(f"---------- {type(message).__name__} ({message.source}) ----------", file=out)
    print(message.to_text().rstrip(), file=out)
    meta = message.metadata
    if "governed.approved" in meta:
        verdict = "APPROVED" if meta["governed.approved"] == "true" else "DENIED"
        print(f"  [gate] {verdict}: {meta['governed.executor']} running code from {meta['governed.suggester'] or '-'}"
              f" (turn {meta['governed.turn']}, receipt {meta['governed.receipt_id'][:8]}…)", file=out)


async def run_demo(work: Path, out: TextIO = sys.stdout) -> int:
    db, policy, receipts = _prepare(work.resolve())
    governor = Governor(policy, receipts)
    analyst = GovernedAssistantAgent("analyst", model_client=ReplayChatCompletionClient(_script(db)),
                                     governor=governor, description="A data analyst with read-only rights.")
    from governed_agents.autogen._code_executor import GovernedCodeExecutor

    engineer = GovernedCodeExecutorAgent(
        "data_engineer", GovernedCodeExecutor(governor, agent_name="data_engineer", work_dir=work / "run"),
        governor=governor, description="A data engineer who runs the team's code.")
    team = GovernedRoundRobinGroupChat([analyst, engineer], termination_condition=MaxMessageTermination(7),
                                       name="finance_team")
    task = "Prepare the quarterly transactions report."
    async for item in team.run_stream(task=task):
        if isinstance(item, BaseChatMessage):
            _print_message(item, out)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
    held = rows == 5
    print(f"\nTransactions still in {db.name}: {rows} of 5 "
          f"({'the DELETE never ran' if held else 'THE DELETE RAN: the gate did not hold'}).\n", file=out)
    if governor.receipts is not None:
        governor.receipts.close()

    from governed_agents.cli import main as cli

    print("$ governed-agents audit show " + str(receipts), file=out)
    cli(["audit", "show", str(receipts)])
    print(f"\n$ governed-agents audit verify {receipts}", file=out)
    code = cli(["audit", "verify", str(receipts)])
    print(f"\nReceipts are in {receipts} (SQLite, append-only Merkle log); the policy is {policy}.", file=out)
    return code if held else 1
