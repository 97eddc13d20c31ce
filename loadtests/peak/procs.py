"""CPU of the processes a run involves, sampled from psutil: the load generator beside the service's workers,
the order core and the database, each found by the loopback port it listens on (so the same code measures a
service this command started and one already running)."""

from __future__ import annotations

import csv
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

CPU_FIELDS = (
    "t_s",
    "generator",
    "service",
    "busiest_worker",
    "ordercore",
    "database",
    "machine_busy",
    "load_1m",
)


def listening_pids(port: int) -> set[int]:
    """Processes holding a listening TCP socket on `port`: the service's workers, each on its own socket."""
    pids: set[int] = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            pids.add(conn.pid)
    return pids


def with_descendants(pids: set[int]) -> set[int]:
    out = set(pids)
    for pid in pids:
        try:
            out.update(c.pid for c in psutil.Process(pid).children(recursive=True))
        except psutil.Error:
            continue
    return out


def _cpu_seconds(pid: int) -> float | None:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(t.user + t.system)


@dataclass
class Groups:
    """Root pids per group; descendants are found again at every sample (PostgreSQL backends come and go)."""

    generator: set[int] = field(default_factory=set)
    service: set[int] = field(default_factory=set)
    ordercore: set[int] = field(default_factory=set)
    database: set[int] = field(default_factory=set)

    def resolve(self) -> dict[str, set[int]]:
        """pid sets per group; a pid claimed by an earlier group is not counted again (a test runs the
        service and the order core in one process: its CPU shows as the service's)."""
        seen: set[int] = set()
        out: dict[str, set[int]] = {}
        for name in ("generator", "service", "ordercore", "database"):
            pids = with_descendants(getattr(self, name)) - seen - {os.getpid()}
            seen |= pids
            out[name] = pids
        return out


class CpuSampler:
    """Samples every `every_s` in a thread until stopped; rows in cores (1.0 = one core busy)."""

    def __init__(self, groups: Groups, every_s: float) -> None:
        self.groups = groups
        self.every_s = every_s
        self.rows: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._last: dict[int, float] = {}
        self.t0 = time.monotonic()

    def start(self) -> None:
        self.t0 = time.monotonic()
        self._sample(time.monotonic(), record=False)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def latest(self) -> dict[str, float] | None:
        return self.rows[-1] if self.rows else None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample(time.monotonic(), record=True)

    def _sample(self, now: float, record: bool) -> None:
        groups = self.groups.resolve()
        busy = psutil.cpu_times()
        machine = float(
            busy.user + busy.system + busy.nice + getattr(busy, "irq", 0) + getattr(busy, "softirq", 0)
        )
        row: dict[str, float] = {"t_s": round(now - self.t0, 3), "busiest_worker": 0.0}
        elapsed = max(now - getattr(self, "_at", now - self.every_s), 1e-6)
        current: dict[int, float] = {}
        for name, pids in groups.items():
            spent = 0.0
            for pid in pids:
                seconds = _cpu_seconds(pid)
                if seconds is None:
                    continue
                current[pid] = seconds
                delta = seconds - self._last.get(pid, seconds if not record else 0.0)
                spent += delta
                if name == "service":
                    row["busiest_worker"] = max(row["busiest_worker"], delta / elapsed)
            row[name] = spent / elapsed
        row["machine_busy"] = (machine - getattr(self, "_machine", machine)) / elapsed
        row["load_1m"] = os.getloadavg()[0]
        self._machine = machine
        self._at = now
        self._last = current
        if record:
            self.rows.append({k: round(v, 3) for k, v in row.items()})

    def write(self, path: Path) -> None:
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=CPU_FIELDS)
            w.writeheader()
            for row in self.rows:
                w.writerow({k: row.get(k, 0.0) for k in CPU_FIELDS})
