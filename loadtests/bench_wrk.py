"""Run wrk against one server and read its report: requests/s, p50/p99, errors, and wrk's own CPU."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadtests.bench_procs import cpu_delta, machine_busy_seconds, process_cpu

LUA_SCRIPT = Path(__file__).resolve().with_name("wrk_nearby.lua")
CORES = os.cpu_count() or 1
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    threads: int
    connections: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    wrk_cpu_s: float
    # Shares of the whole machine (all cores; 0.5 = one of two cores) during the run.
    wrk_cpu_share: float
    server_cpu_share: float
    postgres_cpu_share: float
    # Busy time not taken by wrk, the server or the database's backends: work that disturbed the run.
    other_cpu_share: float
    machine_busy_share: float
    # CPU per request is steadier than throughput when other work shares the cores.
    server_cpu_us_per_request: float
    postgres_cpu_us_per_request: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    """wrk's path, installed with apt-get first when it is missing and we may (root), as bin/ installs
    PostGIS; otherwise the command to run."""
    found = shutil.which("wrk")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, check=False, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
            subprocess.run(install, env=env, check=False, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "wrk is not installed: sudo apt-get install -y wrk (the benchmark drives load with it)"
        )
    return found


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_report(text: str) -> dict[str, Any]:
    """The figures of wrk's text report (with --latency) and of the script's WRK_JSON line."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    machine = re.search(r"^WRK_JSON (\{.*\})$", text, re.M)
    if not (rps and p50 and p99 and machine):
        raise SystemExit(f"wrk report not understood:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    summary = json.loads(machine.group(1))
    return {
        "requests_per_s": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "non_2xx": max(int(non_2xx.group(1)) if non_2xx else 0, int(summary["status"])),
        "requests": int(summary["requests"]),
        "socket_errors": {k: int(summary[k]) for k in ("connect", "read", "write", "timeout")},
    }


def run_wrk(
    url: str,
    paths_file: Path,
    *,
    threads: int,
    connections: int,
    duration_s: int,
    server_session: int,
    database: str,
) -> WrkResult:
    """One bounded wrk run; wrk's CPU is utime+stime from wait4 (the /proc/<pid>/stat counters at exit)."""
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(paths_file),
    ]
    busy0, total0 = machine_busy_seconds()
    procs0 = process_cpu()
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = started + duration_s + 30
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"wrk did not finish within {duration_s + 30} s")
            time.sleep(0.1)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    busy1, total1 = machine_busy_seconds()
    spent = cpu_delta(procs0, process_cpu(), server_session, database)
    if process.returncode != 0:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{text}")
    figures = parse_report(text)
    wrk_cpu = usage.ru_utime + usage.ru_stime
    machine = (busy1 - busy0) / max(total1 - total0, 1e-9)
    capacity = wall * CORES
    other = machine - (wrk_cpu + spent["server"] + spent["postgres"]) / capacity
    return WrkResult(
        threads=threads,
        connections=connections,
        duration_s=round(wall, 2),
        wrk_cpu_s=round(wrk_cpu, 2),
        wrk_cpu_share=round(wrk_cpu / capacity, 3),
        server_cpu_share=round(spent["server"] / capacity, 3),
        postgres_cpu_share=round(spent["postgres"] / capacity, 3),
        other_cpu_share=round(max(other, 0.0), 3),
        machine_busy_share=round(machine, 3),
        server_cpu_us_per_request=round(1e6 * spent["server"] / max(figures["requests"], 1), 1),
        postgres_cpu_us_per_request=round(1e6 * spent["postgres"] / max(figures["requests"], 1), 1),
        **figures,
    )
