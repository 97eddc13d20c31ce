"""The run's report: routes.csv with each route's verdict against its target, the summary, report.html."""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.peak.targets import TARGETS, target_of

MIN_SAMPLES = 20  # fewer requests than this: the p99 is not judged (reported as "few")


@dataclass(frozen=True, slots=True)
class RouteResult:
    route: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    target_ms: float | None
    verdict: str  # pass, fail, few (too few samples to judge the p99), report (no target)
    source: str


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def judge(row: dict[str, str]) -> RouteResult:
    route = row["route"]
    target = target_of(route)
    requests, failures = int(row["requests"]), int(row["failures"])
    p99 = float(row["p99_ms"])
    limit = target.p99_ms if target else None
    if failures:
        verdict = "fail"
    elif limit is None:
        verdict = "report"
    elif p99 > limit:
        verdict = "fail" if requests >= MIN_SAMPLES else "few"
    else:
        verdict = "pass" if requests >= MIN_SAMPLES else "few"
    return RouteResult(
        route,
        requests,
        failures,
        float(row["rps"]),
        float(row["p50_ms"]),
        float(row["p95_ms"]),
        p99,
        float(row["max_ms"]),
        limit,
        verdict,
        target.source if target else "not in the targets table",
    )


def route_order(route: str) -> int:
    names = [t.route for t in TARGETS]
    return names.index(route) if route in names else len(names)


def judge_run(out: Path) -> list[RouteResult]:
    results = sorted((judge(r) for r in read_csv(out / "routes_raw.csv")), key=lambda r: route_order(r.route))
    with (out / "routes.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            (
                "route",
                "requests",
                "failures",
                "rps",
                "p50_ms",
                "p95_ms",
                "p99_ms",
                "max_ms",
                "target_p99_ms",
                "verdict",
                "target_source",
            )
        )
        for r in results:
            w.writerow(
                (
                    r.route,
                    r.requests,
                    r.failures,
                    r.rps,
                    r.p50_ms,
                    r.p95_ms,
                    r.p99_ms,
                    r.max_ms,
                    "" if r.target_ms is None else r.target_ms,
                    r.verdict,
                    r.source,
                )
            )
    return results


def held(results: list[RouteResult]) -> bool:
    """Every judged route under its target and no request failed anywhere."""
    return bool(results) and all(r.verdict in ("pass", "few", "report") for r in results)


def cpu_summary(out: Path) -> dict[str, float]:
    """Mean and peak cores per group over the run (from cpu.csv)."""
    rows = read_csv(out / "cpu.csv")
    summary: dict[str, float] = {}
    for key in ("generator", "service", "busiest_worker", "ordercore", "database", "machine_busy", "load_1m"):
        values = [float(r[key]) for r in rows]
        summary[f"{key}_mean"] = round(sum(values) / len(values), 3) if values else 0.0
        summary[f"{key}_peak"] = round(max(values), 3) if values else 0.0
    return summary


def saturation(cpu: dict[str, float], cores: int, workers: int) -> list[tuple[str, float]]:
    """What is nearest its limit at the run's busiest moments, most saturated first: the generator (one
    locust process: one core), a worker (one core each), the database (all cores), the machine (all cores)."""
    ratios = [
        ("load generator (one locust process, 1 core)", cpu.get("generator_peak", 0.0)),
        ("busiest API worker (1 core)", cpu.get("busiest_worker_peak", 0.0)),
        (f"API workers together ({workers} cores)", cpu.get("service_peak", 0.0) / workers),
        (f"database ({cores} cores)", cpu.get("database_peak", 0.0) / cores),
        (f"whole machine ({cores} cores, shared with other work)", cpu.get("machine_busy_peak", 0.0) / cores),
    ]
    return sorted(((n, round(v, 3)) for n, v in ratios), key=lambda x: -x[1])


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:1em auto}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}"
    "td:first-child{text-align:left}"
    ".pass{color:#070}.fail{color:#b00;font-weight:bold}img{max-width:100%}"
)


def write_html(out: Path, meta: dict[str, Any], results: list[RouteResult], cpu: dict[str, float]) -> Path:
    rows = [
        [
            r.route,
            r.requests,
            r.failures,
            f"{r.rps:.1f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.max_ms:.0f}",
            "-" if r.target_ms is None else f"{r.target_ms:.0f}",
            r.verdict.upper(),
            r.source,
        ]
        for r in results
    ]
    failures = read_csv(out / "failures.csv")
    counts = json.loads((out / "counts.json").read_text()) if (out / "counts.json").exists() else {}
    sat = meta.get("saturation") or []
    parts = [
        "<html><head><meta charset='utf-8'><title>Holiday peak run</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Holiday-morning peak: scale {meta['scale']}, {meta['duration_s']:.0f} s</h1>",
        f"<p><b>Verdict: {'HELD' if meta['held'] else 'NOT HELD'}</b> (every route under its p99 target and "
        "no failed request). " + html.escape(meta.get("note", "")) + "</p>",
        _table(
            ["setting", "value"],
            [[k, v] for k, v in meta.items() if k not in ("saturation", "note", "cpu_per_request")],
        ),
        "<h2>Routes</h2>",
        _table(
            [
                "route",
                "requests",
                "failures",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "target p99",
                "verdict",
                "target from",
            ],
            rows,
        ),
        "<p>Per route and time window: <code>timeline.csv</code>; CPU per 5 s: <code>cpu.csv</code>.</p>",
        "<h2>Latency and throughput across the ramp</h2>",
        "<img src='latency.png'><img src='throughput.png'>",
        "<h2>CPU: the generator beside the service</h2><img src='cpu.png'>",
        _table(
            ["group", "mean cores", "peak cores"],
            [
                [k, cpu.get(f"{k}_mean", 0), cpu.get(f"{k}_peak", 0)]
                for k in (
                    "generator",
                    "service",
                    "busiest_worker",
                    "ordercore",
                    "database",
                    "machine_busy",
                    "load_1m",
                )
            ],
        ),
        "<h2>CPU per request (fit of cores against req/s over the windows)</h2>",
        _table(
            [
                "group",
                "mean ms CPU per request (all its CPU / requests)",
                "fit: ms per request",
                "fit: background cores",
                "windows",
            ],
            [
                [g, f["mean_ms_per_request"], f["ms_per_request"], f["background_cores"], f["points"]]
                for g, f in fits.items()
            ],
        )
        if (fits := meta.get("cpu_per_request") or {})
        else "<p>too few windows to fit</p>",
        "<h2>Nearest its limit (peak use / capacity)</h2>",
        _table(["what", "share"], [[n, f"{v:.0%}"] for n, v in sat]),
        "<h2>Failures</h2>",
        _table(["route", "error", "count"], [[f["route"], f["error"], f["count"]] for f in failures])
        if failures
        else "<p>none</p>",
        "<h2>Counts</h2>",
        _table(["what", "count"], [[k, v] for k, v in counts.items()]),
        "</body></html>",
    ]
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path


def cpu_per_request(out: Path, window_s: float) -> dict[str, dict[str, float]]:
    """Least-squares fit, over the run's windows, of each group's cores against the requests/s of the window
    before the sample: `ms_per_request` (the slope, CPU per request) and `background_cores` (the intercept:
    work done whatever the traffic). Robust to other work on the machine in a way latencies are not (CPU
    time is counted per process), though cache misses under contention still inflate it."""
    rps: dict[float, float] = {}
    for row in read_csv(out / "timeline.csv"):
        start = float(row["window_start_s"])
        rps[start] = rps.get(start, 0.0) + float(row["rps"])
    pairs = []
    rows = read_csv(out / "cpu.csv")
    for row in rows[2:]:  # the first two samples hold the generator's and the users' start-up
        window = round((float(row["t_s"]) - window_s) / window_s) * window_s
        if rps.get(window, 0.0) > 0:
            pairs.append((rps[window], row))
    requests = sum(rps.values()) * window_s
    fits: dict[str, dict[str, float]] = {}
    if len(pairs) < 5:
        return fits
    xs = [p[0] for p in pairs]
    mean_x = sum(xs) / len(xs)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x <= 0:
        return fits
    for group in ("generator", "service", "ordercore", "database"):
        ys = [float(p[1][group]) for p in pairs]
        mean_y = sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
        spent = sum(float(r[group]) for r in rows) * window_s
        fits[group] = {
            "mean_ms_per_request": round(spent / requests * 1000.0, 3) if requests else 0.0,
            "ms_per_request": round(slope * 1000.0, 3),
            "background_cores": round(mean_y - slope * mean_x, 3),
            "points": len(pairs),
        }
    return fits
