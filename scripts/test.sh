#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap gives the runtime layer its network and filesystem isolation; the tests exercise it.
if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "scripts/test.sh: bwrap is missing; install the Debian package 'bubblewrap'" >&2
    fi
fi

# PostgreSQL: the receipt-store tests start a throwaway server of their own (tests/_postgres.py),
# which needs the server binaries (initdb, pg_ctl under /usr/lib/postgresql/N/bin on Debian).
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "scripts/test.sh: the PostgreSQL server is missing; install the Debian package 'postgresql'" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,conformance]'
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null

.venv/bin/ruff check governed_agents tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"

# Drop-in conformance: AutoGen AgentChat's own tests (../shared/autogen-agentchat-tests) stock and
# governed; fails on any test that passes stock and not governed beyond the documented differences.
# A run of chosen tests (arguments given) skips it.
if [ "$#" -eq 0 ]; then
    .venv/bin/python tests/conformance/run.py
fi
