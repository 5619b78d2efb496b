"""Fixtures shared across test packages."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# The commands the tests start run cold: a warm server (governed_agents/_cli/_warm_client.py) is
# keyed by the whole environment, which pytest changes per test, so each test would leave one
# behind. tests/test_warm.py starts its own, in private directories, and stops them.
os.environ.setdefault("GOVERNED_AGENTS_SERVER", "0")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the session (see tests/_postgres.py)."""
    from tests._postgres import PostgresCluster

    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster) -> str:
    """The session server's URL (``postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres``)."""
    return str(postgres_cluster.url())


@pytest.fixture
def postgres_log_url(postgres_cluster) -> str:
    """A URL to a fresh, empty database on the session server: one receipt log per test."""
    return str(postgres_cluster.new_database())
