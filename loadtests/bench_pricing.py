"""Pricing benchmark: comparison and quotes beside nearby search, on one running service, in one run.

    python -m loadtests.bench_pricing --stations 120000 --duration 15

The database bench_<size> must hold the demo network with its synthetic prices (`stations-demo load`).
One server starts as production does (uvicorn, 2 workers, uvloop, httptools, loopback) and is warmed;
then, for each route, wrk measures throughput at 64 connections and latency at 8:
  nearby   GET /v1/stations/nearby (5 km, limit 20)
  compare  GET /v1/prices/compare (5 km, 92#, ¥300, limit 20): every station in the radius priced
  quotes   POST /v1/quotes (92#, ¥300): priced from the ladder, signed and stored
Targets: compare at least half of nearby's throughput, p99 under 25 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import text

from db.engine import make_engine
from loadtests import bench_db
from loadtests.bench_procs import Server, memory_kb, start_server, stop_server, wait_ready, worker_pids
from loadtests.bench_wrk import require_wrk, run_wrk

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def priced_stations(url: str, count: int, seed: int) -> np.ndarray:
    """(n, 3) id, lon, lat of open stations with a fresh 92# pump price (quotes refuse stale ones), drawn
    repeatably."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.id, ST_X(s.geom), ST_Y(s.geom) FROM stations s JOIN station_prices p "
                    "ON p.station_id = s.id AND p.grade = '92' AND p.tier = 'pump' "
                    "AND p.effective_to IS NULL "
                    "WHERE s.status = 'open' AND p.confirmed_at > now() - interval '47 hours' ORDER BY s.id"
                )
            ).all()
    finally:
        engine.dispose()
    if not rows:
        raise SystemExit("no station has a 92# price: load the demo network with its prices first")
    table = np.array([tuple(r) for r in rows], dtype=np.float64)
    rng = np.random.default_rng(seed)
    return table[rng.choice(len(table), size=min(count, len(table)), replace=False)]


def route_files(url: str, label: str, points: int, seed: int) -> dict[str, Path]:
    stations = priced_stations(url, points, seed)
    nearby = bench_db.request_paths(stations[:, 1:3], seed)
    compare = [
        p.replace("/v1/stations/nearby?", "/v1/prices/compare?").replace("&limit=20", "")
        + "&grade=92&amount=300&limit=20"
        for p in nearby
    ]
    quotes = [
        "POST /v1/quotes\t"
        + orjson.dumps({"station_id": int(i), "grade": "92", "fill": {"by_amount": "300"}}).decode()
        for i in stations[:, 0]
    ]
    return {
        name: bench_db.write_paths(lines, OUT_DIR / f"{name}-{label}.txt")
        for name, lines in (("nearby", nearby), ("compare", compare), ("quotes", quotes))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=120_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18_450)
    parser.add_argument("--seed", type=int, default=20_261_122)
    args = parser.parse_args(argv)
    require_wrk()
    label = bench_db.size_label(args.stations)
    database = f"bench_{label}"
    url = bench_db.database_url(args.database_url_base, database)
    files = route_files(url, label, args.points, args.seed)
    say(f"{database}: {len(files)} request files of {args.points:,} requests")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server = Server("service", "api.app:create_app", args.port, OUT_DIR / f"server-pricing-{stamp}.log")
    results: dict[str, Any] = {"stations": args.stations, "started": stamp, "routes": {}}
    start_server(server, {"DATABASE_URL": url, "STATIONS_INDEX_REFRESH_SECONDS": "3600"})
    try:
        say(f"ready after {wait_ready(server, 900):.1f} s")
        assert server.process is not None
        session = server.process.pid
        for name in ("nearby", "compare"):
            warm = run_wrk(
                server.base_url,
                files[name],
                threads=2,
                connections=64,
                duration_s=args.warmup,
                server_session=session,
                database=database,
            )
            say(f"{name}: warm-up {warm.requests_per_s:,.0f} req/s")
        for name, path in files.items():
            route: dict[str, Any] = {}
            for key, threads, connections in (("throughput", 2, 64), ("latency", 1, 8)):
                run = run_wrk(
                    server.base_url,
                    path,
                    threads=threads,
                    connections=connections,
                    duration_s=args.duration,
                    server_session=session,
                    database=database,
                )
                if run.non_2xx:
                    raise SystemExit(f"{name}: {run.non_2xx} non-2xx answers; see {server.log_path}")
                route[key] = run.as_dict()
                say(
                    f"{name} c{connections}: {run.requests_per_s:,.0f} req/s, p50 {run.p50_ms:.2f} ms, "
                    f"p99 {run.p99_ms:.2f} ms; wrk {run.wrk_cpu_share:.0%}, "
                    f"server {run.server_cpu_share:.0%}, postgres {run.postgres_cpu_share:.0%}, "
                    f"other {run.other_cpu_share:.0%}"
                )
            results["routes"][name] = route
        results["memory"] = [{"pid": pid, **memory_kb(pid)} for pid in worker_pids(server)]
    finally:
        stop_server(server)
    routes = results["routes"]
    nearby_rps = routes["nearby"]["throughput"]["requests_per_s"]
    compare = routes["compare"]
    results["targets"] = {
        "compare_vs_nearby": round(compare["throughput"]["requests_per_s"] / nearby_rps, 3),
        "compare_p99_ms_at_c8": compare["latency"]["p99_ms"],
    }
    ok = results["targets"]["compare_vs_nearby"] >= 0.5 and compare["latency"]["p99_ms"] < 25
    print(f"\n== pricing routes at {args.stations:,} stations ({args.duration} s per run) ==")
    print(
        f"{'route':8s} {'req/s c64':>10s} {'p50 c8':>8s} {'p99 c8':>8s} "
        f"{'server µs/req':>14s} {'pg µs/req':>10s}"
    )
    for name, route in routes.items():
        t, lat = route["throughput"], route["latency"]
        print(
            f"{name:8s} {t['requests_per_s']:>10,.0f} {lat['p50_ms']:>8.2f} {lat['p99_ms']:>8.2f} "
            f"{t['server_cpu_us_per_request']:>14,.0f} {t['postgres_cpu_us_per_request']:>10,.0f}"
        )
    print(
        f"compare / nearby throughput {results['targets']['compare_vs_nearby']:.2f} (target >= 0.5), "
        f"compare p99 {compare['latency']['p99_ms']:.2f} ms (target < 25): {'PASS' if ok else 'FAIL'}"
    )
    out = OUT_DIR / f"pricing-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"results in {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
