"""`governed-agents policy show FILE`: the normalised policy, or the error with file:line:col."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("policy", help="inspect policy files")
    sub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    show = sub.add_parser("show", help="print the normalised policy (defaults filled in)")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--json", action="store_true", help="JSON instead of the readable form")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    from governed_agents.policy import PolicyError, load_policy

    try:
        policy = load_policy(args.file)
    except PolicyError as exc:
        print(f"governed-agents policy: {exc}", file=sys.stderr)
        return 2
    data = policy.model_dump(mode="json", exclude_none=False)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"# {args.file}  sha256:{policy.sha256}")
    for name, agent in policy.agents.items():
        print(f'agent "{name}" {{')
        for action in ("code_execution", "tool_use", "speak"):
            rule = getattr(agent, action)
            if rule is None:
                continue
            print(f'    can "{action}" with constraints {{')
            for key, value in rule.model_dump(mode="json").items():
                shown = _show_value(key, value)
                note = "  // not restricted" if value is None and not key.startswith("max_") else ""
                print(f"        {key}: {shown},{note}")
            print("    }")
        print("}")
    return 0


def _show_value(key: str, value: Any) -> str:
    if value is None:
        return "unlimited" if key.startswith("max_") else "null"
    if key in ("max_execution_time", "max_cpu_time"):
        return f"{value:g}_seconds"
    if key in ("max_memory", "max_file_size"):
        return f"{value}_bytes"
    return json.dumps(value)
