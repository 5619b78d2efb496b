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
    executor.add_argument("--timeout", type=int, default=60, help="wall-clock limit per execution, seconds")
    args = parser.parse_args(argv)
    try:
        if args.command == "host":
            asyncio.run(_host(args.address))
        else:
            asyncio.run(_executor(args))
    except KeyboardInterrupt:
        pass
    return 0


async def _host(address: str) -> None:
    from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost

    host = GrpcWorkerAgentRuntimeHost(address)
    host.start()
    print(f"ready host {address}", flush=True)
    await host.stop_when_signal()


async def _executor(args: argparse.Namespace) -> None:
    from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime

    from governed_agents.autogen._distributed import GovernedExecutorAgent
    from governed_agents.governor import Governor

    governor = Governor(args.policy, args.receipts)
    worker = GrpcWorkerAgentRuntime(args.host)
    await worker.start()

    def factory(name: str) -> Callable[[], GovernedExecutorAgent]:
        return lambda: GovernedExecutorAgent(governor, name=name, timeout=args.timeout)

    for name in args.agent:
        await GovernedExecutorAgent.register(worker, name, factory(name))
    print(f"ready executor {' '.join(args.agent)} via {args.host}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await worker.stop()
    if governor.receipts is not None:
        governor.receipts.close()


if __name__ == "__main__":
    sys.exit(main())
