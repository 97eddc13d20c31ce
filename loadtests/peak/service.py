"""The service under load: bin/run started on its own ports (stopped with SIGTERM), or one already running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    ordercore_url: str
    database_url: str

    def port(self, which: str) -> int:
        url = {"api": self.url, "core": self.ordercore_url, "db": self.database_url}[which]
        return urlsplit(url).port or {"api": 80, "core": 80, "db": 5432}[which]


def http_status(url: str, timeout_s: float = 3.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def http_json(url: str, timeout_s: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        body: bytes = response.read()
        return body


@contextlib.contextmanager
def bin_run(
    api_port: int, core_port: int, pg_port: int, log: Path, ready_timeout_s: float, database: str = "stations"
) -> Iterator[Target]:
    """bin/run on the given ports (no demo forecourt feed: the harness's station systems post events),
    until the block ends; SIGTERM then stops the API, the order core and the cluster it started.
    Another `database` than bin/run's own is given to it as DATABASE_URL on the local cluster (which must
    then be running: bin/run starts no cluster for a DATABASE_URL)."""
    env = {
        **os.environ,
        "STATIONS_PORT": str(api_port),
        "ORDERCORE_PORT": str(core_port),
        "STATIONS_PG_PORT": str(pg_port),
        "STATIONS_DEMO_FEED": "0",
    }
    env.pop("DATABASE_URL", None)
    if database != "stations":
        env["DATABASE_URL"] = f"postgresql://stations@127.0.0.1:{pg_port}/{database}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "run")],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    target = Target(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{core_port}",
        f"postgresql://stations@127.0.0.1:{pg_port}/{database}",
    )
    try:
        started = time.monotonic()
        while http_status(target.url + "/readyz") != 200:
            if process.poll() is not None:
                raise SystemExit(f"bin/run exited with {process.returncode}; see {log}")
            if time.monotonic() - started > ready_timeout_s:
                raise SystemExit(f"the service was not ready after {ready_timeout_s:.0f} s; see {log}")
            time.sleep(1.0)
        print(
            f"service ready at {target.url} after {time.monotonic() - started:.0f} s (log {log})", flush=True
        )
        yield target
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # bin/run's own trap stops what it started
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
