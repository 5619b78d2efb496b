import subprocess
import sys

from governed_agents import SovereignIR, analyze


def test_unsupported_language_is_unresolved_not_clean():
    ir = analyze("whatever", language="cobol")
    assert isinstance(ir, SovereignIR)
    assert ir.operations == ()
    assert ir.unresolved and ir.unresolved[0].kind == "unsupported_language"


def test_cli_lists_its_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "governed_agents", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("analyze", "check", "policy", "audit", "run", "demo"):
        assert name in out


def test_every_public_name_imports_from_the_package():
    import governed_agents

    for name in governed_agents.__all__:
        assert getattr(governed_agents, name) is not None, name
        assert name in dir(governed_agents)
    script = "from governed_agents import Governor, ReceiptLog, GovernedAssistantAgent, provenance; print('ok')"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip() == "ok"
