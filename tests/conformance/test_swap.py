"""The conformance runner's swap: the upstream text kept, each swapped import followed by its rebinding."""

from __future__ import annotations

from tests.conformance.run import SWAPPED, allow_everything_policy, swap_source


def test_each_swapped_import_is_followed_by_its_governed_rebinding_and_nothing_else_changes():
    source = ("from autogen_agentchat.agents import (\n    AssistantAgent,\n    SocietyOfMindAgent,\n)\n"
              "from autogen_agentchat.teams import Swarm as S\n\n\ndef f():\n"
              "    from autogen_agentchat.agents import CodeExecutorAgent\n    return 'AssistantAgent'\n")
    swapped = swap_source(source)
    assert swapped.splitlines() == [
        "from autogen_agentchat.agents import (", "    AssistantAgent,", "    SocietyOfMindAgent,", ")",
        "from governed_agents.autogen import GovernedAssistantAgent as AssistantAgent  # swap",
        "from autogen_agentchat.teams import Swarm as S",
        "from governed_agents.autogen import GovernedSwarm as S  # swap", "", "", "def f():",
        "    from autogen_agentchat.agents import CodeExecutorAgent",
        "    from governed_agents.autogen import GovernedCodeExecutorAgent as CodeExecutorAgent  # swap",
        "    return 'AssistantAgent'",
    ]
    assert set(SWAPPED.values()) <= set(__import__("governed_agents.autogen").autogen.__all__)


def test_the_allow_everything_policy_loads():
    import pathlib
    import tempfile

    from governed_agents.analysis import analyze
    from governed_agents.policy import load_policy

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "p.policy"
        path.write_text(allow_everything_policy())
        policy = load_policy(path)
    ir = analyze("import subprocess\nsubprocess.run(['rm', '-rf', 'build'])")
    assert policy.evaluate(ir, executor="anyone_at_all").approved
