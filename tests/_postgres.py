"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory (as the
``postgres`` user when run as root: the server refuses to run as root), a free port on 127.0.0.1
only, the unix socket in the same directory, password authentication over TCP. ``stop``/``start``
let a test take the server away and bring it back; ``remove`` stops it and deletes everything.

scripts/test.sh installs the Debian ``postgresql`` package when the server binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

__all__ = ["PostgresCluster", "server_binaries"]


def server_binaries() -> Path:
    """The directory holding initdb and pg_ctl (Debian keeps them off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
                       "'postgresql' (scripts/test.sh does, as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    def __init__(self) -> None:
        self.bin = server_binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="governed-pg-"))
        self.data = self.dir / "data"
        self.password = secrets.token_hex(8)
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "--pwfile", str(pwfile),
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        self.port = 0
        self.start()

    def _run(self, *argv: str) -> None:
        command = (["runuser", "-u", "postgres", "--"] if self._as_postgres else []) + list(argv)
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.dir)
        if done.returncode != 0:
            log = self.dir / "server.log"
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()}\n"
                               + (log.read_text()[-2000:] if log.exists() else ""))

    def start(self) -> None:
        """Start (again, on the same port once it has one)."""
        for attempt in range(5):
            port = self.port or _free_port()
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                          "-o", f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
            except RuntimeError:
                if self.port or attempt == 4:
                    raise
                continue
            self.port = port
            return

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on this cluster; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
