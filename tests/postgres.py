"""A real PostgreSQL server for the tests, started and stopped by them on 127.0.0.1.

Debian's server binaries (``initdb``, ``pg_ctl``) create a cluster in a temporary folder and
start it on a free port, listening on 127.0.0.1 only, with its Unix socket in the same folder.
PostgreSQL refuses to run as root, so as root the server runs as Debian's ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.helpers import free_port

SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are missing or the server did not start."""


def server_bin() -> Path:
    """The folder with Debian's initdb and pg_ctl (the newest version installed)."""
    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in Path(path).parts[4].split(".") if part.isdigit())

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresUnavailable("PostgreSQL's server (initdb, pg_ctl) is not installed: "
                              "`apt-get install postgresql` (make test does it when run as root)")


class PostgresServer:
    """One throwaway PostgreSQL cluster: ``start()``, ``create_database(name)``, ``stop()``."""

    def __init__(self) -> None:
        self.bin = server_bin()
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root: use Debian's postgres account
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o700)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        """initdb, then pg_ctl start on 127.0.0.1:port (another port if that one was just taken).

        PostgresUnavailable with the server's log if it fails; nothing is left behind then.
        """
        try:
            self._init()
            for _ in range(3):
                if self._start():
                    return self
                self.port = free_port()  # taken between choosing it and starting: try another
            tail = self.log.read_text()[-1500:] if self.log.is_file() else ""
            raise PostgresUnavailable(f"PostgreSQL did not start: {tail}")
        except BaseException:
            self.stop()
            raise

    def _init(self) -> None:
        init = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
                         "-E", "UTF8", "--no-sync")
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-800:]}")

    def _start(self) -> bool:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -F"
        start = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                          "-w", "-t", "60", "start")
        return start.returncode == 0

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        """pg_ctl stop (fast), then remove the cluster's folder; raises if the server would not stop."""
        if (self.data / "postmaster.pid").exists():
            stop = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            if stop.returncode != 0:
                raise PostgresUnavailable(f"PostgreSQL in {self.data} did not stop: {stop.stderr.strip()}")
        shutil.rmtree(self.root, ignore_errors=True)
