"""Servers under test and what /proc says about processes: start, readiness, stop, CPU, memory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
# The production command line (`python -m serving`, as bin/run serves: one SO_REUSEPORT socket per worker,
# the bounded httptools protocol of httpguard/protocol.py): only the app, the host and the port differ.
PRODUCTION_FLAGS = (
    "--factory",
    "--workers",
    str(WORKERS),
    "--loop",
    "uvloop",
    "--http",
    "httpguard.protocol:BoundedHttpToolsProtocol",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    app: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(server: Server, env: dict[str, str], extra_flags: tuple[str, ...] = ()) -> None:
    command = [
        sys.executable,
        "-m",
        "serving",
        server.app,
        *PRODUCTION_FLAGS,
        *extra_flags,
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
    ]
    server.log_path.parent.mkdir(parents=True, exist_ok=True)
    log = server.log_path.open("wb")
    # Its own session, so that stopping it reaches the workers it spawned and nothing else.
    # A local benchmark service: the development secrets serve (explicitly, as in bin/run).
    env = {"STATIONS_MODE": "development", **env}
    server.process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()


def wait_ready(server: Server, timeout_s: float, path: str = "/readyz") -> float:
    """Seconds until every worker has started and `path` answers 200; SystemExit on timeout or death."""
    assert server.process is not None
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}; see {server.log_path}")
        workers_up = server.log_path.read_text(errors="replace").count("Application startup complete.")
        if workers_up >= WORKERS and http_status(server.base_url + path) == 200:
            return time.monotonic() - started
        time.sleep(0.25)
    raise SystemExit(f"{server.name} not ready after {timeout_s:.0f} s; see {server.log_path}")


def http_status(url: str, timeout_s: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def http_post(url: str, body: bytes, timeout_s: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def stop_server(server: Server, grace_s: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it after `grace_s`; safe to call twice."""
    process = server.process
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace_s)
    # Workers that outlived the master still carry its process group id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    server.process = None


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def worker_pids(server: Server) -> list[int]:
    """The uvicorn workers: children of the master that run multiprocessing's spawn_main."""
    assert server.process is not None
    workers = []
    for pid in children(server.process.pid):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                workers.append(pid)
    return workers


def process_cpu() -> dict[int, tuple[str, int, float]]:
    """Every process: pid -> (name, session id, utime + stime seconds) from /proc/<pid>/stat.

    PostgreSQL backends are named by their command line ("postgres: stations bench_120k 127.0.0.1(...)"),
    which says which database they serve.
    """
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, tail = (entry / "stat").read_text().rpartition(")")
            name = head.partition("(")[2]
            if name == "postgres":
                name = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = tail.split()
        table[int(entry.name)] = (name, int(fields[3]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def cpu_delta(
    before: dict[int, tuple[str, int, float]],
    after: dict[int, tuple[str, int, float]],
    session: int,
    database: str,
) -> dict[str, float]:
    """CPU seconds spent between two snapshots by the server's session and by the backends of `database`."""
    spent = {"server": 0.0, "postgres": 0.0}
    marker = f" {database} "
    for pid, (name, sid, seconds) in after.items():
        delta = seconds - before.get(pid, (name, sid, 0.0))[2]
        if sid == session:
            spent["server"] += delta
        elif name.startswith("postgres:") and marker in name:
            spent["postgres"] += delta
    return spent


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    """RSS and PSS in KiB from /proc/<pid>/smaps_rollup."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            out[key.lower() + "_kb"] = int(rest.split()[0])
    return out


def other_cpu_share(session: int, database: str, window_s: float = 1.0) -> float:
    """Share of the machine busy over `window_s` outside the server's session and its database's backends."""
    busy0, total0 = machine_busy_seconds()
    procs0 = process_cpu()
    time.sleep(window_s)
    busy1, total1 = machine_busy_seconds()
    spent = cpu_delta(procs0, process_cpu(), session, database)
    elapsed = max(total1 - total0, 1e-9)
    return max(0.0, (busy1 - busy0 - spent["server"] - spent["postgres"]) / elapsed)


def wait_for_quiet(session: int, database: str, threshold: float, max_wait_s: float) -> tuple[float, float]:
    """Wait until other processes use under `threshold` of the machine; (their last share, seconds waited)."""
    started = time.monotonic()
    share = other_cpu_share(session, database)
    while share >= threshold and time.monotonic() - started < max_wait_s:
        share = other_cpu_share(session, database)
    return share, time.monotonic() - started
