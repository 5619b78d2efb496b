"""Run the pieces of a distributed governed deployment (needs ``governed-agents[grpc]``)::

    python -m governed_agents.autogen.distributed host --address 127.0.0.1:50051
    python -m governed_agents.autogen.distributed executor --host 127.0.0.1:50051 \\
        --agent agent_sandbox --policy policies/seed.policy --receipts postgresql://…

``host`` is AutoGen's ``GrpcWorkerAgentRuntimeHost``; ``executor`` is a ``GrpcWorkerAgentRuntime``
worker hosting one :class:`GovernedExecutorAgent` per ``--agent`` (the agent type, and the policy
name it answers to). Each prints one ``ready …`` line on stdout once it serves, and stops on
SIGTERM or SIGINT. The gRPC port is unauthenticated: keep it on 127.0.0.1 or a private network.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m governed_agents.autogen.distributed",
                                     description="governed agents on AutoGen's gRPC runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    host = sub.add_parser("host", help="the gRPC host every worker connects to")
    host.add_argument("--address", default="127.0.0.1:50051", help="HOST:PORT to listen on (default %(default)s)")
    executor = sub.add_parser("executor", help="a worker hosting governed executor agents")
    executor.add_argument("--host", required=True, help="the gRPC host's HOST:PORT")
    executor.add_argument("--agent", action="append", required=True,
                          help="an executor agent to host (its type and policy name); repeat for more")
    executor.add_argument("--policy", required=True, help="the policy file")
    executor.add_argument("--receipts", help="the receipt log (default: $GOVERNED_AGENTS_RECEIPTS or "
                                             "./governed-receipts.db)")
    executor.add_argument("--key", help="the log's Ed25519 signing key (every writer of one log needs the same "
                                        "one; default: $GOVERNED_AGENTS_KEY, or beside an SQLite log)")
    executor.add_argument("--timeout", type=int, default=60, help="wall-clock limit per execution, seconds")
    args = parser.parse_args(argv)
    try:
        if args.command == "host":
            asyncio.run(_host(args.address))
        else:
            asyncio.run(_executor(args))
    except KeyboardInterrupt:
        pass
    except _StartupError as exc:
        print(f"governed-agents: {exc}", file=sys.stderr)
        return 2
    return 0


class _StartupError(Exception):
    """A worker that cannot start says why in one line (exit 2), never a traceback."""


async def _host(address: str) -> None:
    from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost

    try:
        host = GrpcWorkerAgentRuntimeHost(address)
    except RuntimeError as exc:  # the port is taken, or not an address
        raise _StartupError(f"the gRPC host cannot listen on {address}: {exc}") from exc
    host.start()
    print(f"ready host {address}", flush=True)
    await host.stop_when_signal()


async def _executor(args: argparse.Namespace) -> None:
    from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime

    from governed_agents.autogen._distributed import GovernedExecutorAgent
    from governed_agents.governor import Governor

    try:
        governor = Governor(args.policy, args.receipts, key_path=args.key)
    except Exception as exc:  # a policy that does not load, a receipt log that does not open
        raise _StartupError(str(exc)) from exc
    missing = [name for name in args.agent if governor.policy.agent(name) is None]
    if missing:  # it would deny everything: say so now rather than at the first request
        raise _StartupError(f"{args.policy}: no rules for {', '.join(missing)}")
    worker = GrpcWorkerAgentRuntime(args.host)
    try:
        await worker.start()
    except Exception as exc:
        raise _StartupError(f"cannot reach the gRPC host at {args.host}: {_reason(exc)}") from exc

    def factory(name: str) -> Callable[[], GovernedExecutorAgent]:
        return lambda: GovernedExecutorAgent(governor, name=name, timeout=args.timeout)

    for name in args.agent:
        try:
            await GovernedExecutorAgent.register(worker, name, factory(name))
        except Exception as exc:  # e.g. another worker already serves this agent type
            await worker.stop()
            raise _StartupError(f"cannot serve {name}: {_reason(exc)}") from exc
    print(f"ready executor {' '.join(args.agent)} via {args.host}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await worker.stop()
    if governor.receipts is not None:
        governor.receipts.close()


def _reason(exc: Exception) -> str:
    """A gRPC error's one-line details (its str() is a multi-line dump)."""
    details = getattr(exc, "details", None)
    return str(details() if callable(details) else exc)


if __name__ == "__main__":
    sys.exit(main())
