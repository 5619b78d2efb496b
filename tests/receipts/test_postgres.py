"""One receipt log in PostgreSQL, as teams with several writers rely on it: a real server
(tests/_postgres.py), real writer processes, the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from governed_agents.receipts import ReceiptLog, ReceiptStoreError
from governed_agents.receipts._postgres import SCHEMA
from tests.receipts.test_log import receipt

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governed_agents", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})})


def sql(url: str, statement: str, *params: object) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, params)


# A writer process: N receipts appended concurrently (asyncio tasks through the coalescing writer),
# printing each committed receipt as "index receipt_id" the moment its append returns.
WRITER = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from governed_agents.receipts import ReceiptLog
    from tests.receipts.test_log import receipt

    async def main(url, name, count, wave):
        log = ReceiptLog(url)
        async def one(i):
            stored = await log.aappend(receipt(i, agent=name))
            print(stored.merkle_index, stored.receipt_id, flush=True)
        for start in range(0, count, wave):
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + wave))))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
""").format(root=str(ROOT))


@pytest.fixture
def key_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Every writer of one PostgreSQL log shares one signing key: here, through $GOVERNED_AGENTS_KEY."""
    env = {"GOVERNED_AGENTS_KEY": str(tmp_path / "keys" / "log.key")}
    monkeypatch.setenv("GOVERNED_AGENTS_KEY", env["GOVERNED_AGENTS_KEY"])
    return env


def test_a_url_log_appends_proves_and_verifies_like_a_file(postgres_log_url, key_env):
    with ReceiptLog(postgres_log_url) as log:
        first = log.append_many([receipt(i, approved=i % 3 != 0) for i in range(37)])
        assert [r.merkle_index for r in first] == list(range(37))
        saved = log.checkpoint()
        log.append_many([receipt(i) for i in range(37, 50)])
        report = log.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub", checkpoint=saved)
        assert report.ok and report.size == 50, report.problems
        for index in range(50):
            assert log.prove(index).verify()
        from governed_agents.receipts import verify_consistency

        path = [bytes.fromhex(p) for p in log.consistency(saved.size)]
        assert verify_consistency(saved.size, 50, bytes.fromhex(saved.root), log.root(), path)
        assert log.get(7).conversation_context.turn_number == 7
        assert len(list(log.receipts(denied=True))) == 13
    done = cli("audit", "verify", postgres_log_url, env=key_env)
    assert done.returncode == 0 and "intact — 50 receipts" in done.stdout, done.stdout + done.stderr


def test_the_same_receipts_give_the_same_root_in_sqlite_and_postgresql(postgres_log_url, key_env, tmp_path):
    receipts = [receipt(i) for i in range(100)]
    with ReceiptLog(postgres_log_url) as pg, ReceiptLog(tmp_path / "r.db") as lite:
        for r in receipts[:10]:
            pg.append(r)
            lite.append(r)
        pg.append_many(receipts[10:])  # large batches go in through COPY
        lite.append_many(receipts[10:])
        assert pg.root() == lite.root() and pg.size == lite.size == 100
        for size in (1, 2, 3, 7, 8, 13, 64, 65, 99, 100):
            assert pg.root(size) == lite.root(size)
            assert pg.consistency(size) == lite.consistency(size)
            for index in {0, size // 2, size - 1}:
                assert pg.prove(index, size) == lite.prove(index, size)


def test_four_processes_250_concurrent_appends_each_get_1000_consecutive_indices(postgres_log_url, key_env):
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, postgres_log_url, f"w{n}", "250", "25"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **key_env}) for n in range(4)]  # they race to make the key
    outputs = [w.communicate(timeout=300) for w in writers]
    assert all(w.returncode == 0 for w in writers), [err for _, err in outputs]
    printed = [line.split() for out, _ in outputs for line in out.splitlines()]
    assert sorted(int(index) for index, _ in printed) == list(range(1000))
    with ReceiptLog(postgres_log_url, create=False) as log:
        assert log.size == 1000
        assert {(r.merkle_index, r.receipt_id) for r in log.receipts()} == {(int(i), rid) for i, rid in printed}
        assert {r.executor_agent for r in log.receipts()} == {"w0", "w1", "w2", "w3"}
    done = cli("audit", "verify", postgres_log_url, env=key_env)
    assert done.returncode == 0 and "intact — 1000 receipts" in done.stdout, done.stdout + done.stderr


def test_kill_9_of_a_writer_inside_its_transaction_loses_nothing_committed(postgres_log_url, key_env):
    with ReceiptLog(postgres_log_url) as log:
        log.append(receipt(0))  # the schema and key exist before the writer starts
    writer = subprocess.Popen([sys.executable, "-c", WRITER, postgres_log_url, "doomed", "100000", "2000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **key_env})
    committed: list[list[str]] = []
    assert writer.stdout is not None
    while len(committed) < 2500:  # at least one batch of 2000 is committed and reported
        line = writer.stdout.readline()
        assert line, writer.stderr.read() if writer.stderr else ""
        committed.append(line.split())
    with psycopg.connect(postgres_log_url, autocommit=True) as conn:
        for _ in range(600):  # kill it while its append transaction is open on the server
            busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND application_name = 'governed-agents' AND xact_start IS NOT NULL "
                                "AND pid <> pg_backend_pid()").fetchone()
            if busy and busy[0]:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the writer never had a transaction open")
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    committed += [line.split() for line in writer.stdout.read().splitlines()]
    assert writer.returncode == -signal.SIGKILL
    with ReceiptLog(postgres_log_url) as log:
        for index, receipt_id in committed:
            assert log.get(int(index)).receipt_id == receipt_id
        size = log.size
        assert [r.merkle_index for r in log.receipts()] == list(range(size))  # no gap
        assert size % 2000 == 1  # whole batches only: the one in flight is gone entirely
        log.append(receipt(1))  # the dead writer's lock went with it
        assert log.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub").ok


def test_verify_reads_one_moment_while_writers_append(postgres_log_url, key_env):
    with ReceiptLog(postgres_log_url) as log:
        log.append(receipt(0))
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, postgres_log_url, f"w{n}", "400", "5"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **key_env})
                   for n in range(2)]
        sizes = []
        while any(w.poll() is None for w in writers):
            report = log.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub")
            assert report.ok, report.problems
            sizes.append(report.size)
        assert all(w.returncode == 0 for w in writers)
        assert len(set(sizes)) > 1  # it did verify a log that was growing
        assert log.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub").size == 801


def test_an_edited_row_and_a_deleted_last_row_are_caught(postgres_log_url, key_env):
    with ReceiptLog(postgres_log_url) as log:
        log.append_many([receipt(i) for i in range(20)])
    body = json.loads(ReceiptLog(postgres_log_url, create=False).get(11).canonical())
    body["executor_agent"] = "forged"
    sql(postgres_log_url, f"UPDATE {SCHEMA}.leaves SET body = %s WHERE idx = 11", json.dumps(body).encode())
    done = cli("audit", "verify", postgres_log_url, env=key_env)
    assert done.returncode == 1 and "index 11: receipt edited" in done.stdout, done.stdout + done.stderr

    sql(postgres_log_url, f"UPDATE {SCHEMA}.leaves SET body = (SELECT body FROM {SCHEMA}.leaves WHERE idx = 10) "
                          "WHERE idx = 11")  # put some other body back: still edited
    sql(postgres_log_url, f"DELETE FROM {SCHEMA}.leaves WHERE idx = 19")
    done = cli("audit", "verify", postgres_log_url, env=key_env)
    assert done.returncode == 1
    assert "checkpoint in the log at size 20, but the log holds 19: truncated or rolled back" in done.stdout


@pytest.mark.parametrize("edit", [f"UPDATE {SCHEMA}.head SET size = 5", f"DELETE FROM {SCHEMA}.head",
                                  f"UPDATE {SCHEMA}.head SET frontier = ''::bytea"])
def test_a_head_row_edited_outside_the_library_refuses_appends_or_is_caught(postgres_log_url, key_env, edit):
    with ReceiptLog(postgres_log_url) as log:
        log.append_many([receipt(i) for i in range(20)])
        sql(postgres_log_url, edit)
        with pytest.raises(ReceiptStoreError) as raised:
            log.append(receipt(20))
        assert postgres_log_url.split("@")[1] in str(raised.value)  # the store is named
        assert log.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub").ok  # and left as it was


def test_a_writer_holding_another_key_is_refused(postgres_log_url, key_env, tmp_path):
    with ReceiptLog(postgres_log_url) as log:
        log.append(receipt(0))
    with ReceiptLog(postgres_log_url, key_path=tmp_path / "new.key") as other, \
            pytest.raises(ReceiptStoreError, match="already signed with a key, so no new one is made"):
        other.append(receipt(1))  # a second host without the key does not make its own
    from governed_agents.receipts._checkpoint import create_key

    create_key(tmp_path / "other.key")
    with ReceiptLog(postgres_log_url, key_path=tmp_path / "other.key") as other, \
            pytest.raises(ReceiptStoreError, match="not the key this log is signed with"):
        other.append(receipt(1))
    assert ReceiptLog(postgres_log_url, create=False).size == 1


@pytest.mark.parametrize("target", ["mysql://root@127.0.0.1/db", "file:///tmp/x.db", "sqlite://x.db",
                                    "s3://bucket/log"])
def test_a_url_that_is_no_supported_store_is_an_error_never_a_path(tmp_path, target):
    with pytest.raises(ReceiptStoreError, match="is not a receipt store"):
        ReceiptLog(target)
    from governed_agents import Governor

    os.chdir(tmp_path)
    with pytest.raises(ReceiptStoreError):
        Governor(ROOT / "policies" / "seed.policy", target)
    code = tmp_path / "x.py"
    code.write_text("print(1)\n")
    done = cli("check", "--policy", ROOT / "policies" / "seed.policy", "--agent", "agent_admin",
               "--receipts", target, code, cwd=tmp_path)
    assert done.returncode != 0 and "is not a receipt store" in done.stderr, done.stdout + done.stderr
    done = cli("run", "--policy", ROOT / "policies" / "seed.policy", "--agent", "agent_admin",
               "--receipts", target, code, cwd=tmp_path)
    assert done.returncode != 0 and "is not a receipt store" in done.stderr, done.stdout + done.stderr
    for command in (["verify"], ["show"], ["prove", "0"], ["checkpoint"], ["conversation", "--group", "g"]):
        done = cli("audit", command[0], target, *command[1:], cwd=tmp_path)
        assert done.returncode == 2 and "is not a receipt store" in done.stderr, (command, done.stderr)
    done = cli("audit", "copy", code, target, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.py"]  # no directory named "mysql:" etc.


def test_environment_variable_and_cli_take_a_url(postgres_log_url, key_env, tmp_path):
    from governed_agents import Governor

    os.environ["GOVERNED_AGENTS_RECEIPTS"] = postgres_log_url
    try:
        governor = Governor(ROOT / "policies" / "seed.policy")
        assert governor.receipts is not None and governor.receipts.url == postgres_log_url
        governor.receipts.close()
    finally:
        del os.environ["GOVERNED_AGENTS_RECEIPTS"]
    code = tmp_path / "x.py"
    code.write_text("import math\nprint(math.pi)\n")
    done = cli("check", "--policy", ROOT / "policies" / "seed.policy", "--agent", "agent_sandbox",
               "--receipts", postgres_log_url, code, env=key_env)
    assert done.returncode == 0 and "APPROVED  (receipt " in done.stdout, done.stdout + done.stderr
    for command in (["show"], ["prove", "0"], ["conversation", "--group", "x"], ["checkpoint"]):
        done = cli("audit", command[0], postgres_log_url, *command[1:], env=key_env)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    shown = cli("audit", "show", "--json", postgres_log_url, env=key_env)
    assert json.loads(shown.stdout.splitlines()[0])["executor_agent"] == "agent_sandbox"


def test_audit_of_a_database_without_a_log_or_unreachable_is_a_usage_error(postgres_log_url, postgres_cluster):
    done = cli("audit", "show", postgres_log_url)
    assert done.returncode == 2 and "no receipt log in this database" in done.stderr, done.stderr
    unreachable = f"postgresql://postgres:{postgres_cluster.password}@127.0.0.1:1/x"
    done = cli("audit", "verify", unreachable)
    assert done.returncode == 2 and "postgresql://postgres@127.0.0.1:1/x" in done.stderr, done.stderr
    assert postgres_cluster.password not in done.stderr + done.stdout


async def test_the_server_stopped_mid_run_denies_naming_the_store_then_recovers(tmp_path, key_env):
    """A governed agent whose PostgreSQL log goes away: its code does not run, the reason names the
    store (never its password), and once the server is back the same agent runs code again."""
    from autogen_agentchat.messages import TextMessage
    from autogen_core import CancellationToken
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    from governed_agents import Governor
    from governed_agents.autogen import GovernedCodeExecutorAgent
    from tests._postgres import PostgresCluster

    cluster = PostgresCluster()  # a server of its own: this test stops it
    try:
        url = cluster.new_database()
        governor = Governor(ROOT / "policies" / "seed.policy", url, require_isolation=False)
        agent = GovernedCodeExecutorAgent("agent_admin", LocalCommandLineCodeExecutor(work_dir=tmp_path),
                                          governor=governor)

        async def run(name: str) -> str:
            code = f"```python\nopen({str(tmp_path / name)!r}, 'w').write('ran')\n```"
            reply = await agent.on_messages([TextMessage(content=code, source="agent_research")],
                                            CancellationToken())
            return str(reply.chat_message.content)

        await run("before")
        assert (tmp_path / "before").exists()
        cluster.stop()
        for attempt in range(3):  # every call while it is down, not just the first
            reply = await run(f"during{attempt}")
            assert not (tmp_path / f"during{attempt}").exists()
            assert "receipt log could not record" in reply
            assert f"postgresql://postgres@127.0.0.1:{cluster.port}/" in reply, reply
            assert cluster.password not in reply
        cluster.start()
        await run("after")
        assert (tmp_path / "after").exists()
        assert governor.receipts is not None
        recorded = [r for r in governor.receipts.receipts() if not r.is_execution]
        assert [r.outcome for r in recorded] == ["approved", "approved"]  # nothing from the outage
        assert governor.receipts.verify(public_key=key_env["GOVERNED_AGENTS_KEY"] + ".pub").ok
        governor.receipts.close()
    finally:
        cluster.remove()


def test_audit_copy_sqlite_to_postgresql_and_back_keeps_indices_checkpoints_and_signatures(
        postgres_log_url, tmp_path, monkeypatch):
    monkeypatch.delenv("GOVERNED_AGENTS_KEY", raising=False)
    with ReceiptLog(tmp_path / "a.db") as lite:
        lite.append_many([receipt(i, approved=i % 2 == 0) for i in range(30)])
        saved = lite.checkpoint()
        lite.append_many([receipt(i) for i in range(30, 45)])
        original = [(r.merkle_index, r.canonical()) for r in lite.receipts()]
        checkpoints = lite._store.all_checkpoints()
    (tmp_path / "saved.json").write_text(saved.model_dump_json())
    public = tmp_path / "a.db.key.pub"
    config = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(config)}
    done = cli("audit", "copy", tmp_path / "a.db", postgres_log_url, env=env)
    assert done.returncode == 0 and "copied and verified — 45 receipts" in done.stdout, done.stdout + done.stderr
    assert "password" not in done.stdout and postgres_log_url not in done.stdout
    done = cli("audit", "verify", postgres_log_url, "--checkpoint", tmp_path / "saved.json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr  # the public key was put where verify looks
    with ReceiptLog(postgres_log_url, create=False) as pg:
        assert [(r.merkle_index, r.canonical()) for r in pg.receipts()] == original
        assert pg._store.all_checkpoints() == checkpoints
    done = cli("audit", "copy", postgres_log_url, tmp_path / "b.db", "--public-key", public, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli("audit", "verify", tmp_path / "b.db").returncode == 0
    with ReceiptLog(tmp_path / "b.db", create=False) as back:
        assert [(r.merkle_index, r.canonical()) for r in back.receipts()] == original

    done = cli("audit", "copy", tmp_path / "a.db", postgres_log_url, env=env)  # into a log that has receipts
    assert done.returncode == 2 and "not empty" in done.stderr, done.stdout + done.stderr
    sql(postgres_log_url, f"UPDATE {SCHEMA}.leaves SET grp = 'x', body = body || ' '::bytea WHERE idx = 3")
    done = cli("audit", "copy", postgres_log_url, tmp_path / "c.db", "--public-key", public, env=env)
    assert done.returncode == 1 and "TAMPERED — not copied" in done.stdout
    assert not (tmp_path / "c.db").exists()


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:s3cret@db:5433/r", "postgresql://u@db:5433/r"),
    ("postgresql://u:s3c@ret@db/r", "postgresql://u@db/r"),
    ("postgres:///r?host=/run/pg&password=s3cret&sslmode=require",
     "postgres:///r?host=/run/pg&password=***&sslmode=require"),
])
def test_messages_never_show_the_password(url, shown):
    from governed_agents.receipts._store import describe

    assert describe(url) == shown and "s3c" not in describe(url)


async def test_a_database_refusing_the_write_denies_and_a_role_may_use_a_log_it_did_not_create(
        postgres_log_url, key_env):
    """The DBA makes the log; an application role that may only read it is refused the write (the
    gate denies, naming the store), and a role granted writing appends without any CREATE right."""
    from governed_agents import Governor

    with ReceiptLog(postgres_log_url) as log:
        log.append(receipt(0))
    database = postgres_log_url.rsplit("/", 1)[1]
    for role, rights in (("reader_" + database, "SELECT"), ("writer_" + database, "SELECT, INSERT, UPDATE, DELETE")):
        sql(postgres_log_url, f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
        sql(postgres_log_url, f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role}")
        sql(postgres_log_url, f"GRANT {rights} ON ALL TABLES IN SCHEMA {SCHEMA} TO {role}")
    host = postgres_log_url.split("@")[1]
    reader = Governor(ROOT / "policies" / "seed.policy", f"postgresql://reader_{database}:pw@{host}")
    result = await reader.gate_code([("python", "import math\nprint(math.pi)\n")], executor="agent_sandbox")
    assert not result.approved and result.receipt is None
    message = result.decision.violations[-1].message
    assert f"postgresql://reader_{database}@{host}" in message and "permission denied" in message, message
    assert ":pw@" not in message
    writer = Governor(ROOT / "policies" / "seed.policy", f"postgresql://writer_{database}:pw@{host}")
    result = await writer.gate_code([("python", "import math\nprint(math.pi)\n")], executor="agent_sandbox")
    assert result.approved and result.receipt is not None and result.receipt.merkle_index == 1
    done = cli("audit", "show", f"postgresql://nobody:pw@{host}")
    assert done.returncode == 2 and "Traceback" not in done.stderr and ":pw@" not in done.stderr, done.stderr


def test_an_analysis_commits_with_the_receipt_that_names_it(postgres_log_url, key_env, monkeypatch):
    from tests.receipts.test_log import a_failed_append_leaves_nothing_and_the_retry_keeps_the_analysis

    with ReceiptLog(postgres_log_url) as log:
        log.append(receipt(0))
        a_failed_append_leaves_nothing_and_the_retry_keeps_the_analysis(log, monkeypatch)
