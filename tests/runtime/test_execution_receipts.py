"""Every run is receipted with what it actually did, linked to the decision that let it run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from governed_agents.governor import Governor
from governed_agents.policy import parse_policy
from governed_agents.receipts import ExecutionRecord, Receipt, ReceiptLog

POLICY = """agent "analyst" {{ can "code_execution" with constraints {{
    allowed_file_operations: ["read"], allowed_file_paths: ["{data}"], allow_dynamic_code: true,
    max_execution_time: 30_seconds }} }}
"""


def governor(tmp_path: Path) -> tuple[Governor, Path]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "q1.csv").write_text("x\n1\n")
    (data / "hidden.csv").write_text("y\n2\n")
    policy = parse_policy(POLICY.format(data=data))
    return Governor(policy, tmp_path / "receipts.db"), data


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governed_agents", "audit", *args], capture_output=True, text=True,
                          timeout=60)


async def test_every_run_appends_an_execution_receipt_linked_to_its_decision(tmp_path):
    gov, data = governor(tmp_path)
    code = f"print(open('{data}/q1.csv').read().split()[1])\n"
    execution = await gov.execute([("python", code)], executor="analyst", work_dir=tmp_path / "work")
    assert execution.ran and execution.exit_code == 0 and execution.output == "1\n"
    assert execution.gate.receipt is not None and execution.receipt is not None
    record = execution.receipt.execution
    assert record is not None and record.receipt_id == execution.gate.receipt.receipt_id
    assert record.exit_code == 0 and record.limit_broken is None and record.duration_s > 0
    assert set(record.layers.values()) == {"active"}
    assert {"type": "file_operation", "operation": "read", "path": f"{data}/q1.csv"} in record.observed_operations
    assert record.unpredicted == []  # the analysis predicted that read
    stored = list(gov.receipts.receipts())
    assert [(r.outcome, r.is_execution) for r in stored] == [("approved", False), ("executed", True)]
    assert stored[1].execution == record and stored[1].conversation_context == stored[0].conversation_context
    # a denial runs nothing and gets no execution receipt
    denied = await gov.execute([("python", "import socket\n")], executor="nobody", work_dir=tmp_path / "work")
    assert not denied.ran and denied.receipt is None and gov.receipts.size == 3


async def test_an_operation_reached_through_exec_of_a_string_is_unpredicted(tmp_path):
    gov, data = governor(tmp_path)
    hidden = f"import json\nprint(json.dumps(open('{data}/hidden.csv').read().split()))\nopen('/etc/shadow')\n"
    code = f"exec(bytes.fromhex('{hidden.encode().hex()}').decode())\n"
    execution = await gov.execute([("python", code)], executor="analyst", work_dir=tmp_path / "work")
    assert execution.ran and '["y", "2"]' in execution.output, execution.output
    assert execution.exit_code == 1 and "allowed_file_paths" in execution.output  # /etc/shadow is not there
    assert execution.receipt is not None and execution.receipt.execution is not None
    unpredicted = execution.receipt.execution.unpredicted
    assert {"type": "module_import", "module": "json"} in unpredicted
    assert {"type": "file_operation", "operation": "read", "path": f"{data}/hidden.csv"} in unpredicted
    assert {"type": "file_operation", "operation": "read", "path": "/etc/shadow",
            "refused": "allowed_file_paths"} in unpredicted
    assert {"type": "dynamic_code", "kind": "exec"} not in unpredicted  # exec itself was predicted
    gov.receipts.close()

    log = str(tmp_path / "receipts.db")
    shown = audit("show", log)
    assert shown.returncode == 0 and "ran: exit 1" in shown.stdout and "⚠ 3 unpredicted" in shown.stdout, shown.stdout
    verified = audit("verify", log)
    assert verified.returncode == 0 and "intact — 2 receipts" in verified.stdout, verified.stdout


async def test_audit_conversation_shows_each_run_under_its_decision(tmp_path):
    from governed_agents._provenance import ConversationContext

    gov, _ = governor(tmp_path)
    context = ConversationContext(group_chat="team", turn_number=2, message_from_suggester="please")
    code = "exec('import json')\nprint('ok')\n"
    await gov.execute([("python", code)], executor="analyst", suggester="planner", context=context,
                      work_dir=tmp_path / "work")
    gov.receipts.close()
    shown = audit("conversation", str(tmp_path / "receipts.db"), "--group", "team")
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("turn 2: planner → analyst: APPROVED"), shown.stdout
    assert any(x.strip().startswith("ran: exit 0 in ") for x in lines)
    assert "    ⚠ unpredicted: module_import json" in lines


def test_audit_verify_refuses_a_run_no_approved_decision_accounts_for(tmp_path):
    log = ReceiptLog(tmp_path / "receipts.db")
    from tests.receipts.test_log import receipt

    decision = log.append(receipt(1, approved=False))
    forged = Receipt.for_execution(decision, ExecutionRecord(receipt_id=decision.receipt_id, exit_code=0))
    orphan = Receipt.for_execution(decision, ExecutionRecord(receipt_id="no-such-decision", exit_code=0))
    log.append(forged)
    log.append(orphan)
    log.close()
    verified = audit("verify", str(tmp_path / "receipts.db"))
    assert verified.returncode == 1, verified.stdout
    assert "which was not approved" in verified.stdout and "which no earlier receipt in the log records" in verified.stdout


def test_the_cli_run_appends_the_execution_receipt_too(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    policy = tmp_path / "p.policy"
    policy.write_text(POLICY.format(data=data))
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    done = subprocess.run([sys.executable, "-m", "governed_agents", "run", "--policy", str(policy), "--agent",
                           "analyst", "--receipts", str(tmp_path / "r.db"), str(script)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "hello\n"), done.stderr
    with ReceiptLog(tmp_path / "r.db", create=False) as log:
        outcomes = [(r.outcome, r.execution.exit_code if r.execution else None) for r in log.receipts()]
    assert outcomes == [("approved", None), ("executed", 0)]
