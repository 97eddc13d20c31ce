"""Every request the scenarios make, bucketed per route and time window, written as CSV at the end of a run.

Plain Python (no locust import): the locustfile feeds it from locust's request event.
"""

from __future__ import annotations

import csv
import json
from array import array
from collections import Counter
from pathlib import Path

import numpy as np

TIMELINE_FIELDS = (
    "window_start_s",
    "route",
    "requests",
    "failures",
    "rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
)
ROUTE_FIELDS = ("route", "requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def _quantiles(values: array[float]) -> tuple[float, float, float, float]:
    if not values:
        return (0.0, 0.0, 0.0, 0.0)
    a = np.frombuffer(values, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, (50, 95, 99))
    return (float(p50), float(p95), float(p99), float(a.max()))


class Recorder:
    def __init__(self, window_s: float, warmup_s: float = 0.0) -> None:
        self.window_s = window_s
        # The first warmup_s seconds (a cold node: credentials verified once, caches filled) are in the
        # timeline but not in the per-route figures the verdict reads; failures always count.
        self.warmup_s = warmup_s
        self.warm_up_requests: Counter[str] = Counter()
        self.t0: float | None = None
        self.windows: dict[tuple[int, str], array[float]] = {}
        self.failed: Counter[tuple[int, str]] = Counter()
        self.whole: dict[str, array[float]] = {}
        self.errors: Counter[tuple[str, str]] = Counter()
        self.users: dict[int, tuple[int, str]] = {}
        self.counts: Counter[str] = Counter()  # free-form tallies (forecourt items, refusals) for the report
        self.last = 0.0

    def start(self, now: float) -> None:
        self.t0 = now

    def request(self, now: float, route: str, response_ms: float, error: str | None) -> None:
        if self.t0 is None:
            self.t0 = now
        window = int((now - self.t0) // self.window_s)
        self.last = max(self.last, now - self.t0)
        self.windows.setdefault((window, route), array("d")).append(response_ms)
        if now - self.t0 >= self.warmup_s:
            self.whole.setdefault(route, array("d")).append(response_ms)
        else:
            self.warm_up_requests[route] += 1
            self.counts["warm-up requests (timeline only, not in the verdict)"] += 1
        if error is not None:
            self.failed[(window, route)] += 1
            self.errors[(route, error[:200])] += 1

    def users_at(self, now: float, users: int, phase: str) -> None:
        if self.t0 is None:
            return
        self.users[int((now - self.t0) // self.window_s)] = (users, phase)

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "timeline.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(TIMELINE_FIELDS)
            for (window, route), values in sorted(self.windows.items()):
                p50, p95, p99, top = _quantiles(values)
                n = len(values)
                w.writerow(
                    (
                        round(window * self.window_s, 3),
                        route,
                        n,
                        self.failed[(window, route)],
                        round(n / self.window_s, 3),
                        round(p50, 3),
                        round(p95, 3),
                        round(p99, 3),
                        round(top, 3),
                    )
                )
        elapsed = max(self.last - self.warmup_s, self.window_s)
        with (out / "routes_raw.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(ROUTE_FIELDS)
            for route, values in sorted(self.whole.items()):
                p50, p95, p99, top = _quantiles(values)
                failures = sum(c for (r, _), c in self.errors.items() if r == route)
                w.writerow(
                    (
                        route,
                        len(values),
                        failures,
                        round(len(values) / elapsed, 3),
                        round(p50, 3),
                        round(p95, 3),
                        round(p99, 3),
                        round(top, 3),
                    )
                )
        with (out / "failures.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("route", "error", "count"))
            for (route, error), count in sorted(self.errors.items()):
                w.writerow((route, error, count))
        with (out / "users.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("window_start_s", "users", "phase"))
            for window, (users, phase) in sorted(self.users.items()):
                w.writerow((round(window * self.window_s, 3), users, phase))
        (out / "counts.json").write_text(json.dumps(dict(sorted(self.counts.items())), indent=1))
