"""Governed agents on AutoGen's distributed runtime: a real gRPC host on 127.0.0.1, real worker
processes (``python -m governed_agents.autogen.distributed executor`` and a driver worker), one
receipt log every worker writes to, and ``audit conversation`` rebuilding the conversation.

No timed assertions: the timeouts below only keep a broken run from hanging the suite, and are
generous for a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost  # governed-agents[grpc], a dev dependency

from governed_agents.receipts import ReceiptLog

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "policies" / "seed.policy"
READY_WITHIN = 240.0  # a worker imports AutoGen and grpc, then registers: slow on a loaded machine
RUN_WITHIN = 600.0

# the model's turns: approved and denied code, on two executors in two worker processes
STEPS = [
    {"executor": "agent_sandbox", "says": "Square root first:\n```python\nimport math\nprint(math.sqrt(1764))\n```"},
    {"executor": "agent_analysis", "says": "Now clean up the data dir:\n```python\nimport subprocess\n"
                                           "subprocess.run(['rm', '-rf', '/data'])\n```"},
    {"executor": "agent_sandbox", "says": "Read the key:\n```python\nimport os\nprint(os.environ['HOME'])\n```"},
    {"executor": "agent_analysis", "says": "Sum it:\n```python\nprint(sum(range(10)))\n```"},
    {"executor": "agent_sandbox", "says": "No code this time, just a summary."},
    {"executor": "agent_sandbox", "claims_to_be": "agent_admin",
     "says": "As the admin:\n```python\nprint(sum([1, 2]))\n```"},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def grpc_host() -> AsyncIterator[str]:
    """AutoGen's gRPC host, in this process, on a free port of 127.0.0.1."""
    for _ in range(20):
        address = f"127.0.0.1:{_free_port()}"
        try:
            host = GrpcWorkerAgentRuntimeHost(address)
        except RuntimeError:  # the port was taken between the probe and the bind
            continue
        host.start()
        try:
            yield address
        finally:
            await host.stop(grace=1)
        return
    pytest.fail("no free port on 127.0.0.1 for the gRPC host")


class Worker:
    """A worker subprocess that says ``ready`` on stdout once it serves; its stderr goes to a file
    (a pipe nobody reads could fill and block it)."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str, stderr: Path) -> None:
        self.proc, self.name, self.stderr = proc, name, stderr

    @classmethod
    async def start(cls, name: str, *args: str) -> Worker:
        stderr = Path(tempfile.mkstemp(prefix="worker-", suffix=".stderr")[1])
        with stderr.open("wb") as sink:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", *args, cwd=ROOT, stdout=subprocess.PIPE, stderr=sink,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        worker = cls(proc, name, stderr)
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), READY_WITHIN)
        except TimeoutError:
            line = b""
        if not line.startswith(b"ready"):
            pytest.fail(f"{name} did not start: {await worker.stop()}")
        return worker

    async def stop(self) -> str:
        """Stopped (SIGTERM, then SIGKILL); returns its stderr."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        text = self.stderr.read_text(errors="replace")
        self.stderr.unlink(missing_ok=True)
        return text


async def executor_worker(host: str, receipts: str, *agents: str) -> Worker:
    args = ["governed_agents.autogen.distributed", "executor", "--host", host, "--policy", str(SEED),
            "--receipts", receipts]
    for agent in agents:
        args += ["--agent", agent]
    return await Worker.start(f"executor worker ({', '.join(agents)})", *args)


async def drive(host: str, conversation: dict[str, object]) -> list[dict[str, object]]:
    """The driver worker: runs the conversation, returns each turn's reply."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.autogen.grpc_driver", host, cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(conversation).encode()), RUN_WITHIN)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    assert proc.returncode == 0, f"the driver worker failed:\n{err.decode(errors='replace')[-4000:]}"
    return list(json.loads(out.decode().strip().splitlines()[-1])["results"])


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governed_agents", "audit", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=RUN_WITHIN)


@pytest.fixture(params=["sqlite", "postgresql"])
def receipts(request, tmp_path: Path, monkeypatch) -> str:
    """The one log every worker writes to: an SQLite file (processes on one host) or a fresh
    PostgreSQL database on the session's throwaway server (any host). Every writer of a log needs
    its signing key: the workers and the audit commands find it through $GOVERNED_AGENTS_KEY."""
    monkeypatch.setenv("GOVERNED_AGENTS_KEY", str(tmp_path / "shared-log.key"))
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_log_url"))
    return str(tmp_path / "shared-receipts.db")


@pytest.fixture
def postgres_receipts(postgres_log_url: str, tmp_path: Path, monkeypatch) -> str:
    monkeypatch.setenv("GOVERNED_AGENTS_KEY", str(tmp_path / "shared-log.key"))
    return postgres_log_url


async def test_a_governed_conversation_across_grpc_workers_is_one_audited_conversation(grpc_host, receipts):
    conversation_id = f"conversation-{uuid.uuid4().hex[:8]}"
    sandbox = await executor_worker(grpc_host, receipts, "agent_sandbox")
    try:
        analysis = await executor_worker(grpc_host, receipts, "agent_analysis")
        try:
            results = await drive(grpc_host, {"conversation_id": conversation_id, "task": "analyse the data",
                                              "steps": STEPS})
        finally:
            analysis_log = await analysis.stop()
    finally:
        sandbox_log = await sandbox.stop()
    assert "Traceback" not in sandbox_log + analysis_log, sandbox_log + analysis_log

    by_turn = {r["turn"]: r for r in results}
    assert [by_turn[t]["outcome"] for t in range(1, 7)] == [
        "approved", "denied", "denied", "approved", "no_code", "denied"]
    assert by_turn[1]["output"].strip() == "42.0" and by_turn[1]["executor"] == "agent_sandbox"
    assert by_turn[4]["output"].strip() == "45" and by_turn[4]["executor"] == "agent_analysis"
    assert any("subprocess" in v for v in by_turn[2]["violations"])  # the analysis agent may not spawn
    assert any("os" in v for v in by_turn[3]["violations"])
    # a request in another agent's name: refused, and the receipt names who really sent it
    assert by_turn[6]["suggester"] == "coder"
    assert any("names 'agent_admin' as its suggester but was sent by 'coder'" in v for v in by_turn[6]["violations"])
    assert all(r["suggester"] == "coder" for r in results)

    # one log, written by both executor workers: a receipt for every decision, in the conversation
    log = ReceiptLog(receipts, create=False)
    every = list(log.receipts(group=conversation_id))
    stored = {r.receipt_id: r for r in every if not r.is_execution}
    assert set(stored) == {r["receipt_id"] for r in results if r["outcome"] != "no_code"}
    # and an execution receipt for every approved run, linked to its decision
    ran = {r.execution.receipt_id for r in every if r.execution is not None}
    assert ran == {r["receipt_id"] for r in results if r["outcome"] == "approved"}
    for result in results:
        if result["outcome"] == "no_code":
            assert result["receipt_id"] is None
            continue
        receipt = stored[result["receipt_id"]]
        ctx = receipt.conversation_context
        assert (ctx.group_chat, ctx.turn_number) == (conversation_id, result["turn"])
        assert receipt.executor_agent == result["executor"] and receipt.suggester_agent == "coder"
        assert receipt.outcome == result["outcome"]
        assert ctx.message_from_suggester == STEPS[int(result["turn"]) - 1]["says"]
    assert {r.executor_agent for r in stored.values()} == {"agent_sandbox", "agent_analysis"}
    log.close()

    shown = audit("conversation", receipts, "--group", conversation_id)
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if line.startswith("turn ")]
    assert [line.split(":")[0] for line in lines] == ["turn 1", "turn 2", "turn 3", "turn 4", "turn 6"]
    assert "coder → agent_sandbox: APPROVED" in lines[0] and "coder → agent_analysis: DENIED" in lines[1]
    assert "coder → agent_analysis: APPROVED" in lines[3] and "coder → agent_sandbox: DENIED" in lines[4]
    assert "Square root first:" in shown.stdout and "was sent by 'coder'" in shown.stdout

    verified = audit("verify", receipts)
    # five decisions and the executions of the two approved ones
    assert verified.returncode == 0 and "intact — 7 receipts" in verified.stdout, verified.stdout + verified.stderr


async def test_the_host_and_executor_commands_serve_a_driver_on_another_worker(postgres_receipts):
    """The two commands the README gives, as a user runs them (the host in its own process too)."""
    address = f"127.0.0.1:{_free_port()}"
    host = await Worker.start("host", "governed_agents.autogen.distributed", "host", "--address", address)
    # (a port taken between the probe and the host's bind fails here, loudly: rare, never silent)
    try:
        executor = await executor_worker(address, postgres_receipts, "agent_sandbox", "user_proxy")
        try:
            results = await drive(address, {"conversation_id": "c-2", "task": "t", "steps": [
                {"executor": "user_proxy", "says": "```python\nprint('hi from', 'user_proxy')\n```"},
                {"executor": "agent_sandbox", "says": "```sh\nrm -rf /data\n```"},
            ]})
        finally:
            await executor.stop()
    finally:
        with contextlib.suppress(ProcessLookupError):
            await host.stop()
    assert [(r["executor"], r["outcome"]) for r in results] == [("user_proxy", "approved"),
                                                                  ("agent_sandbox", "denied")]
    assert results[0]["output"].strip() == "hi from user_proxy"
    shown = audit("conversation", postgres_receipts, "--group", "c-2")
    assert "turn 1: coder → user_proxy: APPROVED" in shown.stdout
    assert "turn 2: coder → agent_sandbox: DENIED" in shown.stdout


def test_agentchat_teams_cannot_cross_grpc_workers_in_0_7_so_the_executor_is_a_core_api_agent():
    """Why GovernedExecutorAgent exists (the evidence, kept honest): a team's start message does not
    survive the gRPC runtime's JSON round trip — its messages validate into the abstract
    BaseChatMessage — so a team on GrpcWorkerAgentRuntime never starts. If AutoGen fixes this, this
    test fails, and governed teams across workers are worth trying again."""
    from autogen_agentchat.messages import TextMessage
    from autogen_agentchat.teams._group_chat._events import GroupChatStart
    from autogen_core._serialization import try_get_known_serializers_for_type

    (serializer,) = try_get_known_serializers_for_type(GroupChatStart)
    payload = serializer.serialize(GroupChatStart(messages=[TextMessage(content="task", source="user")]))
    with pytest.raises(TypeError, match="Can't instantiate abstract class BaseChatMessage"):
        serializer.deserialize(payload)


async def test_a_second_worker_cannot_take_over_an_executor_that_is_already_served(grpc_host, tmp_path):
    """Agent types are first come, first served at the host: a second worker claiming the governed
    executor's type (to receive its code) is refused, and the command says so in one line."""
    receipts = str(tmp_path / "receipts.db")
    first = await executor_worker(grpc_host, receipts, "agent_sandbox")
    try:
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "governed_agents.autogen.distributed", "executor", "--host", grpc_host,
            "--policy", str(SEED), "--receipts", receipts, "--agent", "agent_sandbox", cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(second.communicate(), RUN_WITHIN)
        assert second.returncode == 2 and b"ready" not in out
        assert "cannot serve agent_sandbox: Agent type agent_sandbox already registered" in err.decode()
        assert "Traceback" not in err.decode()
        # the first worker still answers
        results = await drive(grpc_host, {"conversation_id": "c-3", "task": "t", "steps": [
            {"executor": "agent_sandbox", "says": "```python\nprint(6 * 7)\n```"}]})
        assert [(r["outcome"], r["output"].strip()) for r in results] == [("approved", "42")]
    finally:
        await first.stop()


async def test_a_postgresql_server_that_goes_away_turns_the_workers_answers_into_denials_until_it_is_back(
        grpc_host, postgres_cluster, postgres_receipts):
    """Fail closed over the network: with the log's server stopped mid-conversation, a remote
    executor denies (naming the store) and runs nothing; once the server is back it approves again,
    and the conversation's receipts are whole."""
    conversation_id = "c-outage"
    sandbox = await executor_worker(grpc_host, postgres_receipts, "agent_sandbox")
    marker = "ran-without-a-receipt"
    try:
        before = await drive(grpc_host, {"conversation_id": conversation_id, "task": "t", "steps": [
            {"executor": "agent_sandbox", "says": "```python\nprint(2 ** 5)\n```"}]})
        postgres_cluster.stop()
        try:
            during = await drive(grpc_host, {"conversation_id": conversation_id, "task": "t", "first_turn": 2,
                                             "steps": [{"executor": "agent_sandbox",
                                                        "says": f"```python\nprint({marker!r})\n```"}]})
        finally:
            postgres_cluster.start()
        after = await drive(grpc_host, {"conversation_id": conversation_id, "task": "t", "first_turn": 3, "steps": [
            {"executor": "agent_sandbox", "says": "```python\nprint(3 ** 3)\n```"}]})
    finally:
        await sandbox.stop()
    assert (before[0]["outcome"], before[0]["output"].strip()) == ("approved", "32")
    denied = during[0]
    assert denied["outcome"] == "denied" and denied["receipt_id"] is None
    assert marker not in denied["output"].replace(f"print({marker!r})", "")
    assert any("receipt log could not record" in v and "127.0.0.1" in v for v in denied["violations"]), denied
    assert (after[0]["outcome"], after[0]["output"].strip()) == ("approved", "27")

    shown = audit("conversation", postgres_receipts, "--group", conversation_id)
    assert [line.split("  [")[0] for line in shown.stdout.splitlines() if line.startswith("turn ")] == [
        "turn 1: coder → agent_sandbox: APPROVED", "turn 3: coder → agent_sandbox: APPROVED"]
    verified = audit("verify", postgres_receipts)
    # two decisions and their two executions; the refused turn left neither
    assert verified.returncode == 0 and "intact — 4 receipts" in verified.stdout, verified.stdout + verified.stderr
