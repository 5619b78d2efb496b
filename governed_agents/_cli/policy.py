"""`governed-agents policy show FILE`: the normalised policy, or the error with file:line:col.

The readable form is the DSL itself, so it loads back to an equal policy: every key is printed
with its value (defaults filled in), except a key that is not set at all — ``accept_code_from``,
``allowed_imports``, ``allowed_file_paths``, ``after`` — which is shown in a comment saying what
"not set" means. Printing it as ``null`` would read like "nothing allowed" when it means "not
restricted", and the DSL has no ``null``. A limit that is not set is ``unlimited``, which the DSL has,
except ``max_processes``: the runtime holds every run to its default (128) then, so that is what is
shown, in a comment (the policy does not set it, and reads back without it).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any

# What a key that is not set (None) means; printed in a comment in place of the key.
_NOT_SET = {
    "accept_code_from": "runs code suggested by any agent",
    "allowed_imports": "every import that is not disallowed",
    "allowed_file_paths": "the allowed file operations apply anywhere",
    "after": "may speak after any agent",
}
_DURATIONS = ("max_execution_time", "max_cpu_time")
_SIZES = ("max_memory", "max_file_size")


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
    if args.json:
        print(json.dumps(policy.model_dump(mode="json", exclude_none=False), indent=2))
        return 0
    print(render(policy, header=f"{args.file}  sha256:{policy.sha256}"), end="")
    return 0


def render(policy: Any, *, header: str | None = None) -> str:
    """``policy`` in the DSL, every default filled in; parsing the text gives the same agents."""
    from governed_agents.policy._dsl import quote

    lines = [f"# {header}"] if header else []
    for name, agent in policy.agents.items():
        lines.append(f"agent {quote(name)} {{")
        for action in ("code_execution", "tool_use", "speak"):
            rule = getattr(agent, action)
            if rule is None:
                continue
            lines.append(f"    can {quote(action)} with constraints {{")
            for key, value in rule.model_dump(mode="json").items():
                if value is None and key == "max_processes":  # never unlimited at run time
                    from governed_agents.runtime import DEFAULT_MAX_PROCESSES

                    lines.append(f"        // max_processes: {DEFAULT_MAX_PROCESSES} (not set: the runtime's default)")
                elif value is None and not key.startswith("max_"):
                    lines.append(f"        // {key}: (not set: {_NOT_SET.get(key, 'no restriction')})")
                else:
                    lines.append(f"        {key}: {_dsl_value(key, value)},")
            lines.append("    }")
        lines.append("}")
    return "".join(line + "\n" for line in lines)


def _dsl_value(key: str | None, value: Any) -> str:
    from governed_agents.policy._dsl import quote

    if value is None:
        return "unlimited"
    if key in _DURATIONS:
        return f"{_positional(value)}_seconds"
    if key in _SIZES:
        return f"{value}_bytes"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dsl_value(None, v) for v in value) + "]"
    return str(value)


def _positional(seconds: float) -> str:
    """``30``, ``0.5``, ``0.00001``: the DSL's numbers have no exponent, and ``{:g}`` would round."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return format(Decimal(repr(float(seconds))), "f")
