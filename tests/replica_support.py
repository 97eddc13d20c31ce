"""A real PostgreSQL streaming replica of the test cluster, for the read-replica tests.

pg_basebackup -R copies the cluster that DATABASE_URL points at (the bin/test cluster, whose initdb
defaults already allow it: wal_level replica, max_wal_senders 10, a trust `replication` line for
127.0.0.1) into a temporary folder, and pg_ctl starts it on a free port as the user that owns the
primary's data directory (bin/lib.sh runs PostgreSQL as an unprivileged user when we are root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from tests.support import free_port


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


class Replica:
    def __init__(self, primary_url: str) -> None:
        self.primary_url = _plain(primary_url)
        parts = urlsplit(self.primary_url)
        self.host, self.primary_port, self.user = (
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            parts.username,
        )
        conn = psycopg2.connect(self.primary_url, connect_timeout=10)
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('data_directory'), current_setting('server_version_num')")
            row = cur.fetchone()
            assert row is not None
            data_directory, version_num = row
        conn.close()
        self.owner = pwd.getpwuid(os.stat(data_directory).st_uid).pw_name
        self.bin = Path(f"/usr/lib/postgresql/{int(version_num) // 10000}/bin")
        self.dir = Path(tempfile.mkdtemp(prefix="stations-replica-"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, self.owner)
        self.dir.chmod(0o700)

    def url(self) -> str:
        """DATABASE_URL's database, on the replica."""
        return urlunsplit(urlsplit(self.primary_url)._replace(netloc=f"{self.user}@127.0.0.1:{self.port}"))

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.getuid() == 0:
            command = ["runuser", "-u", self.owner, "--", *command]
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (self.dir / "log").read_text() if (self.dir / "log").exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr}\n{log[-2000:]}")

    def create(self) -> None:
        self._run(
            "pg_basebackup", "-h", self.host, "-p", str(self.primary_port), "-U", str(self.user),
            "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )
        self.wait_ready()

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the replica accepts connections to the test database, in recovery."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = psycopg2.connect(self.url(), connect_timeout=5)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_is_in_recovery()")
                        if cur.fetchone() == (True,):
                            return
                finally:
                    conn.close()
            except psycopg2.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica on port {self.port} did not become ready")
            time.sleep(0.1)

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> object:
        """One statement on the replica (as the superuser: pg_wal_replay_pause and the like); the first
        column of its first row."""
        conn = psycopg2.connect(self.url(), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                row = cur.fetchone() if cur.description else None
                return row[0] if row is not None else None
        finally:
            conn.close()

    def ready_for_a_test(self) -> None:
        """Running and replaying (a test before may have stopped it or paused replay)."""
        if not self.running:
            self.start()
        if self.sql("SELECT pg_is_wal_replay_paused()"):
            self.sql("SELECT pg_wal_replay_resume()")

    def remove(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
