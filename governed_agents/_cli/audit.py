"""`governed-agents audit verify|show|prove|checkpoint|conversation LOG` and `audit copy SRC DST`.

LOG is an SQLite file or a ``postgresql://`` URL."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

_T = TypeVar("_T")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("audit", help="inspect and verify a receipt log")
    sub = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)

    verify = sub.add_parser("verify", help="check that nothing was edited, deleted, reordered or truncated")
    verify.add_argument("log")
    verify.add_argument("--public-key", help="the log's Ed25519 public key (PEM); default: LOG.key.pub beside the log")
    verify.add_argument("--checkpoint", help="a checkpoint saved earlier (JSON): proves the log only grew")
    verify.set_defaults(handler=_store_errors_are_usage(_verify))

    show = sub.add_parser("show", help="list receipts")
    show.add_argument("log")
    show.add_argument("--agent", help="only receipts whose executor is this agent")
    show.add_argument("--denied", action="store_true", help="only denials (and pending approvals)")
    show.add_argument("--json", action="store_true", help="one receipt per line, as JSON")
    show.set_defaults(handler=_damage_is_tampering(_show))

    prove = sub.add_parser("prove", help="an inclusion proof for one receipt, as JSON")
    prove.add_argument("log")
    prove.add_argument("index", type=int)
    prove.set_defaults(handler=_damage_is_tampering(_prove))

    checkpoint = sub.add_parser("checkpoint", help="sign and print the current tree head (needs the private key)")
    checkpoint.add_argument("log")
    checkpoint.add_argument("--out", help="also write it to this file")
    checkpoint.set_defaults(handler=_store_errors_are_usage(_checkpoint))

    conversation = sub.add_parser("conversation", help="the discussion rebuilt from receipts, turn by turn")
    conversation.add_argument("log")
    conversation.add_argument("--group", required=True, help="the group chat (team) name")
    conversation.set_defaults(handler=_damage_is_tampering(_conversation))

    copy = sub.add_parser("copy", help="copy a log (SQLite <-> PostgreSQL) keeping indices, checkpoints and "
                                       "signatures, then verify the copy")
    copy.add_argument("source")
    copy.add_argument("destination", help="a new SQLite file or an empty PostgreSQL database")
    copy.add_argument("--public-key", help="the log's Ed25519 public key (PEM); default: the source's .key.pub")
    copy.set_defaults(handler=_store_errors_are_usage(_copy))


def _store_errors_are_usage(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A database that cannot be reached (or went away mid-read) is exit 2 with the store named."""
    import functools

    from governed_agents.receipts import ReceiptStoreError

    @functools.wraps(handler)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ReceiptStoreError as exc:
            _fail(str(exc))

    return guarded


def _damage_is_tampering(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A log whose rows no longer read back (a receipt edited into invalid JSON, tree nodes deleted)
    is a damaged log: one line and exit 1, as verify would say, never a traceback."""
    import functools
    import sqlite3

    from governed_agents.receipts import ReceiptStoreError
    from governed_agents.receipts._store import describe

    @functools.wraps(handler)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ReceiptStoreError as exc:  # a database that went away while reading: not tampering
            _fail(str(exc))
        except (ValueError, KeyError, IndexError, sqlite3.DatabaseError) as exc:
            name = describe(args.log)
            print(f"governed-agents audit: {name}: the log does not read back ({type(exc).__name__}: "
                  f"{str(exc).splitlines()[0] if str(exc) else ''}); run `governed-agents audit verify "
                  f"{name}`", file=sys.stderr)
            return 1

    return guarded


def _open(path: str) -> Any:
    """The log opened to audit it: nothing is created, no key is made or loaded until one signs."""
    from governed_agents.receipts import ReceiptLog, ReceiptStoreError
    from governed_agents.receipts._store import is_url

    if not is_url(path) and not Path(path).exists():
        _fail(f"{path}: no such receipt log")
    try:
        return ReceiptLog(path, create=False)
    except ReceiptStoreError as exc:  # not SQLite, or SQLite without the receipt tables
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    """A usage problem (exit 2), never a traceback: exit 1 means the log was tampered with."""
    print(f"governed-agents audit: {message}", file=sys.stderr)
    raise SystemExit(2)


def _read(path: Path, load: Callable[[Path], _T]) -> _T:
    """A file the user named, loaded — or a one-line usage error naming it and what is wrong."""
    try:
        return load(path)
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except OSError as exc:
        _fail(f"{path}: {exc.strerror or exc}")
    except ValueError as exc:  # the loaders name the file
        _fail(str(exc))


def _verify(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from governed_agents.receipts._checkpoint import load_checkpoint

    log = _open(args.log)
    public_key = _public_key(log, args.public_key)
    saved = _read(Path(args.checkpoint), load_checkpoint) if args.checkpoint else None
    total = log.size
    with Progress(transient=True, disable=total < 50_000 or not sys.stderr.isatty()) as bar:
        task = bar.add_task("verifying", total=total)
        report = log.verify(public_key=public_key, checkpoint=saved,
                            progress=lambda done, _total: bar.update(task, completed=done))
    name = log.location
    problems = list(report.problems)
    if report.ok:
        problems = _unlinked_executions(log)
    if report.ok and not problems:
        print(f"{name}: intact — {report.size} receipts, root {report.root}, "
              f"{report.checkpoints_checked} signed checkpoint(s) verified")
        return 0
    print(f"{name}: TAMPERED — {len(problems)} problem(s):")
    for problem in problems:
        print(f"  - {problem}")
    return 1


def _unlinked_executions(log: Any) -> list[str]:
    """Every execution receipt must follow the approved decision it ran: a run with no decision
    before it, or after a denial, is a problem (the Merkle log proves each receipt, this proves the
    links between them)."""
    decisions: dict[str, bool] = {}
    problems = []
    for r in log.receipts():
        if r.execution is None:
            decisions[r.receipt_id] = r.outcome == "approved"
            continue
        linked = decisions.get(r.execution.receipt_id)
        if linked is None:
            problems.append(f"receipt #{r.merkle_index}: the execution of decision {r.execution.receipt_id}, "
                            "which no earlier receipt in the log records")
        elif not linked:
            problems.append(f"receipt #{r.merkle_index}: the execution of decision {r.execution.receipt_id}, "
                            "which was not approved")
    return problems


def _public_key(log: Any, option: str | None) -> Any:
    """The public key to verify ``log`` against: ``--public-key``, else the .key.pub of the log's
    default key (beside an SQLite file; for a URL, see ``default_key_path``) — never the key the
    log records about itself, which whoever can edit the log can replace."""
    from governed_agents.receipts._checkpoint import load_public_key

    key_file = Path(option) if option else log.public_key_path
    if not key_file.exists():
        _fail(f"{key_file}: no such public key" + ("" if option else
              " — verifying needs the log's public key (the .key.pub written beside the log's signing key, "
              "or --public-key)"))
    return _read(key_file, load_public_key)


def _copy(args: argparse.Namespace) -> int:
    from governed_agents.receipts import ReceiptLog, ReceiptStoreError
    from governed_agents.receipts._checkpoint import public_key_pem
    from governed_agents.receipts._store import NotAReceiptLog

    source = _open(args.source)
    public_key = _public_key(source, args.public_key)
    before = source.verify(public_key=public_key)
    if not before.ok:
        print(f"{source.location}: TAMPERED — not copied ({len(before.problems)} problem(s); "
              f"run `governed-agents audit verify {source.location}`)")
        return 1
    try:
        destination = ReceiptLog(args.destination)
    except ReceiptStoreError as exc:
        _fail(str(exc))
    try:
        source.copy_to(destination)
    except NotAReceiptLog as exc:
        _fail(str(exc))
    except ReceiptStoreError as exc:
        _fail(str(exc))
    after = destination.verify(public_key=public_key)
    if not after.ok or (after.size, after.root) != (before.size, before.root):
        print(f"{destination.location}: the copy does NOT verify:")
        for problem in after.problems or [f"size/root {after.size}/{after.root} differ from the source's"]:
            print(f"  - {problem}")
        return 1
    pub = destination.public_key_path
    if not pub.exists():  # so that `audit verify DST` finds it, as it would beside the source
        pub.parent.mkdir(parents=True, exist_ok=True)
        pub.write_bytes(public_key_pem(public_key))
    print(f"{destination.location}: copied and verified — {after.size} receipts at the same indices, root "
          f"{after.root}, {after.checkpoints_checked} signed checkpoint(s) kept; public key at {pub}")
    if not destination.key_path.exists():
        print(f"  to append to it, its writers need the source's signing key ({source.key_path}) at "
              f"{destination.key_path} or in $GOVERNED_AGENTS_KEY")
    return 0


def _show(args: argparse.Namespace) -> int:
    log = _open(args.log)
    receipts = list(log.receipts(agent=args.agent, denied=True if args.denied else None))
    if args.json:
        for r in receipts:
            print(r.model_dump_json())
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{log.location}: {len(receipts)} receipt(s)")
    for column in ("#", "time", "group/turn", "suggester → executor", "outcome", "why"):
        table.add_column(column, overflow="fold")  # rich wraps at word boundaries; fold only an overlong word
    for r in receipts:
        ctx = r.conversation_context
        where = f"{ctx.group_chat or '-'}/{ctx.turn_number if ctx.turn_number is not None else '-'}"
        who = f"{r.suggester_agent or '-'} → {r.executor_agent}" + _action_note(r.action)
        why = _shorten("; ".join(v["message"] for v in r.violations), 240)
        outcome = r.outcome + (f" by {r.approver}" if r.approver else "")
        if r.execution is not None:
            outcome, why = _ran(r.execution), _shorten(_observed_note(r.execution), 240)
        table.add_row(str(r.merkle_index), r.timestamp[:19], where, who, outcome, why)
    Console(width=160).print(table)
    return 0


def _prove(args: argparse.Namespace) -> int:
    log = _open(args.log)
    if not 0 <= args.index < log.size:
        print(f"governed-agents audit: index {args.index} is outside the log (size {log.size})", file=sys.stderr)
        return 2
    print(log.prove(args.index).model_dump_json(indent=2))
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    from governed_agents.receipts import ReceiptStoreError

    log = _open(args.log)
    try:
        signed = log.checkpoint()
    except ReceiptStoreError as exc:
        _fail(str(exc))
    text = signed.model_dump_json(indent=2)
    if args.out:
        try:
            Path(args.out).write_text(text + "\n")
        except OSError as exc:  # the checkpoint is kept in the log all the same
            _fail(f"{args.out}: cannot write the checkpoint: {exc.strerror or exc}")
    print(text)
    return 0


def _conversation(args: argparse.Namespace) -> int:
    log = _open(args.log)
    receipts = list(log.receipts(group=args.group))
    if not receipts:
        print(f"no receipts for group {args.group!r}")
        return 1
    receipts.sort(key=lambda r: (r.conversation_context.turn_number or 0, r.merkle_index or 0))
    runs: dict[str, list[Any]] = {}
    for r in receipts:
        if r.execution is not None:
            runs.setdefault(r.execution.receipt_id, []).append(r)
    for r in receipts:
        if r.execution is not None:
            continue
        ctx = r.conversation_context
        print(f"turn {ctx.turn_number}: {r.suggester_agent or '(own code)'} → {r.executor_agent}"
              f"{_action_note(r.action)}: "
              f"{r.outcome.upper()}" + (f" (approved by {r.approver})" if r.approver else "")
              + f"  [receipt #{r.merkle_index}]")
        if ctx.message_from_suggester:
            print(f"    {r.suggester_agent}: {_first_line(ctx.message_from_suggester)}")
        if ctx.message_from_executor:
            print(f"    {r.executor_agent}: {_first_line(ctx.message_from_executor)}")
        for v in r.violations:
            print(f"    ✗ {v['message']}")
        for run in runs.get(r.receipt_id, []):
            record = run.execution
            print(f"    {_ran(record)} in {record.duration_s:.2f} s; {len(record.observed_operations)} operation(s) "
                  f"observed  [receipt #{run.merkle_index}]")
            for op in record.unpredicted:
                print(f"    ⚠ unpredicted: {_operation(op)}")
    return 0


def _ran(record: Any) -> str:
    return f"ran: exit {record.exit_code}" + (f", {record.limit_broken}" if record.limit_broken else "")


def _observed_note(record: Any) -> str:
    """An execution receipt's "why": the operations the static analysis did not predict, marked ⚠."""
    if not record.unpredicted:
        return f"{len(record.observed_operations)} operation(s) observed, all predicted"
    return f"⚠ {len(record.unpredicted)} unpredicted: " + "; ".join(_operation(op) for op in record.unpredicted)


def _operation(op: dict[str, Any]) -> str:
    """One observed operation, as a line: what, on what, and which constraint refused it."""
    kind = op.get("type", "?")
    detail = {"file_operation": f"{op.get('operation')} {op.get('path')}", "module_import": op.get("module"),
              "network_call": op.get("destination"), "process_spawn": op.get("command"),
              "dynamic_code": op.get("kind")}.get(kind, "")
    refused = f" (refused: {op['refused']})" if op.get("refused") else ""
    return f"{kind} {detail}{refused}"


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with … when cut."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if not text[limit].isspace() and any(ch.isspace() for ch in head):  # mid-word: back to the last space
        head = head.rsplit(None, 1)[0]
    return head.rstrip(" ;,") + " …"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:140] + ("…" if len(line) > 140 or len(text.strip().splitlines()) > 1 else "")




def _action_note(action: str) -> str:
    """Code execution is the default reading of a row; other actions say what they were."""
    return {"tool_use": " (tool)", "speak": " (speaks next)"}.get(action, "")
