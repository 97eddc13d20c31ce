"""Map benchmark: the viewport at city and province zoom and vector tiles cold and warm, beside nearby,
against one service in one run.

    python -m loadtests.bench_map --stations 120000 --duration 10 \
        --database-url-base postgresql://stations@127.0.0.1:55432

The service runs as production does (uvicorn, 2 workers, uvloop, httptools) on a bench database holding
the demo network (bench_db, as loadtests/bench_nearby.py). Request sets, all in GCJ-02 (the WeChat map):
- nearby: bench_nearby's 10,000 plain nearby paths (5 km, limit 20), the reference;
- viewport-city: a 0.30° × 0.22° box (a city on a phone at zoom 11) around random stations;
- viewport-province: an 8° × 6° box (a province at zoom 6);
- tiles-warm: the tiles (z 10-16) under 1,500 random stations, requested during the warm-up first, so
  each worker serves them from its tile cache;
- tiles-cold: the tiles (z 12-16) under every station, shuffled, every path distinct and never
  requested before (one wrk thread walks the file once), so every request renders a non-empty tile.
Throughput: wrk at 64 connections; latency: 8 connections. Targets: warm tiles at least nearby's
throughput; the viewport's p99 under 25 ms at any zoom. Results: var/bench/map-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from geo.coords import wgs84_to_gcj02
from geo.mercator import to_mercator
from loadtests import bench_db
from loadtests.bench_procs import Server, http_get, start_server, stop_server, wait_for_quiet, wait_ready
from loadtests.bench_wrk import require_wrk, run_wrk

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
CITY = (0.30, 0.22, 11)  # box width, height (degrees), zoom
PROVINCE = (8.0, 6.0, 6)
WARM_TILES_STATIONS = 1_500
COLD_TILES = 140_000  # per cold run: more than a run can send


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=120_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of load before the warm runs")
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    parser.add_argument("--database-prefix", default="bench_")
    parser.add_argument("--skip-load", action="store_true", help="use the database as it is")
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18_480)
    parser.add_argument("--seed", type=int, default=20_261_202)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    return parser.parse_args(argv)


def _boxes(points: np.ndarray, size: tuple[float, float, int], rng: np.random.Generator) -> list[str]:
    width, height, zoom = size
    lon, lat = wgs84_to_gcj02(points[:, 0], points[:, 1])
    lon = lon + rng.uniform(-width / 2, width / 2, len(lon))
    lat = lat + rng.uniform(-height / 2, height / 2, len(lat))
    return [
        f"/v1/stations?bbox={x - width / 2:.5f},{y - height / 2:.5f},{x + width / 2:.5f},{y + height / 2:.5f}"
        f"&coord=gcj02&zoom={zoom}"
        for x, y in zip(lon.tolist(), lat.tolist(), strict=True)
    ]


def _tiles(points: np.ndarray, zooms: range, rng: np.random.Generator) -> list[str]:
    lon, lat = wgs84_to_gcj02(points[:, 0], points[:, 1])
    mx, my = to_mercator(lon, lat)
    z = rng.choice(list(zooms), len(lon))
    n = np.left_shift(1, z)
    x, y = (mx * n).astype(np.int64), (my * n).astype(np.int64)
    return [
        f"/v1/tiles/{a}/{b}/{c}.mvt?coord=gcj02"
        for a, b, c in zip(z.tolist(), x.tolist(), y.tolist(), strict=True)
    ]


def request_sets(url: str, args: argparse.Namespace, label: str) -> dict[str, Path]:
    points = bench_db.sample_stations(url, args.points, args.seed)
    rng = np.random.default_rng(args.seed)
    warm_points = points[:WARM_TILES_STATIONS]
    warm = sorted({p for z in range(10, 17) for p in _tiles(warm_points, range(z, z + 1), rng)})
    warm_set = set(warm)
    # every station's tile at each of z12-16 (so none is empty), distinct, never among the warm ones
    everyone = bench_db.sample_stations(url, 1_000_000, args.seed + 1)
    cold_set = {p for z in range(12, 17) for p in _tiles(everyone, range(z, z + 1), rng)} - warm_set
    cold = sorted(cold_set)
    rng.shuffle(cold)
    half = COLD_TILES
    if len(cold) < 2 * COLD_TILES:  # a smaller network (110,000) has fewer: half each for the two runs
        half = len(cold) // 2
        say(f"only {len(cold):,} distinct cold tiles ({2 * COLD_TILES:,} wanted): {half:,} for each cold run")
        if half < COLD_TILES // 4:
            raise SystemExit(f"only {len(cold)} distinct cold tiles; {2 * COLD_TILES} wanted")
    sets = {
        "nearby": bench_db.request_paths(points, args.seed, systems_p=(0.0, 1.0, 0.0)),
        "viewport-city": _boxes(points, CITY, rng),
        "viewport-province": _boxes(points, PROVINCE, rng),
        "tiles-warm": warm,
        "tiles-cold-latency": cold[:half],
        "tiles-cold-throughput": cold[half : 2 * half],
    }
    return {
        name: bench_db.write_paths(paths, OUT_DIR / f"map-{label}-{name}.txt") for name, paths in sets.items()
    }


def smoke(server: Server, files: dict[str, Path]) -> dict[str, Any]:
    """A few requests of each set answer 200 (not the cold ones: they must stay unrequested)."""
    sizes: dict[str, Any] = {}
    for name, path_file in files.items():
        if name.startswith("tiles-cold"):
            continue
        bodies = []
        for path in path_file.read_text().splitlines()[:30]:
            status, body = http_get(server.base_url + path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            bodies.append(len(body))
        sizes[name] = round(sum(bodies) / len(bodies))
    return sizes


def measure(
    server: Server, files: dict[str, Path], args: argparse.Namespace, database: str
) -> dict[str, Any]:
    assert server.process is not None
    session = server.process.pid
    results: dict[str, Any] = {}

    def run(name: str, path_file: Path, threads: int, connections: int, duration: int) -> Any:
        wait_for_quiet(session, database, 0.10, args.quiet_wait)
        done = run_wrk(
            server.base_url,
            path_file,
            threads=threads,
            connections=connections,
            duration_s=duration,
            server_session=session,
            database=database,
        )
        if done.non_2xx:
            raise SystemExit(f"{name}: {done.non_2xx} non-2xx answers; see {server.log_path}")
        say(
            f"{name} c{connections}: {done.requests_per_s:,.0f} req/s, p50 {done.p50_ms:.2f} ms, p99 "
            f"{done.p99_ms:.2f} ms ({done.requests:,} requests; CPU wrk {done.wrk_cpu_share:.0%}, server "
            f"{done.server_cpu_share:.0%}, other {done.other_cpu_share:.0%})"
        )
        return done.as_dict()

    # cold first: no tile has been rendered yet; one thread walks each file once (no path repeats)
    for key, connections, name in (
        (("latency", 8, "tiles-cold-latency")),
        ("throughput", 64, "tiles-cold-throughput"),
    ):
        figures = run(name, files[name], 1, connections, args.duration)
        if figures["requests"] > COLD_TILES:
            raise SystemExit(
                f"{name}: {figures['requests']} requests, more than the {COLD_TILES} distinct tiles"
            )
        results.setdefault("tiles-cold", {})[key] = figures
    for name in ("nearby", "viewport-city", "viewport-province", "tiles-warm"):
        say(f"{name}: warm-up {args.warmup} s")
        run_wrk(
            server.base_url,
            files[name],
            threads=2,
            connections=64,
            duration_s=args.warmup,
            server_session=session,
            database=database,
        )
        results[name] = {
            "throughput": run(name, files[name], 2, 64, args.duration),
            "latency": run(name, files[name], 1, 8, args.duration),
        }
    return results


def summary(results: dict[str, Any]) -> list[str]:
    lines = [
        "| request set | req/s (c64) | p50 / p99 ms (c8) | server CPU µs/req (c64) |",
        "|---|---:|---:|---:|",
    ]
    for name, figures in results.items():
        t, lat = figures["throughput"], figures["latency"]
        lines.append(
            f"| {name} | {t['requests_per_s']:,.0f} | {lat['p50_ms']:.2f} / {lat['p99_ms']:.2f} | "
            f"{t['server_cpu_us_per_request']:,.0f} |"
        )
    nearby = results["nearby"]["throughput"]["requests_per_s"]
    warm = results["tiles-warm"]["throughput"]["requests_per_s"]
    worst = max(results[n]["latency"]["p99_ms"] for n in ("viewport-city", "viewport-province"))
    lines.append(
        f"warm tiles / nearby throughput: {warm / nearby:.2f} "
        f"(target >= 1: {'met' if warm >= nearby else 'NOT met'})"
    )
    lines.append(
        f"viewport p99 at 8 connections, worst zoom: {worst:.2f} ms "
        f"(target < 25: {'met' if worst < 25 else 'NOT met'})"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_wrk()
    label = bench_db.size_label(args.stations)
    name = f"{args.database_prefix}{label}"
    url = bench_db.database_url(args.database_url_base, name)
    if not args.skip_load:
        bench_db.ensure_database(args.database_url_base, name)
        bench_db.migrate(url)
        bench_db.load_demo_network(url, args.stations)
    count = bench_db.station_count(url)
    say(f"{name}: {count:,} stations; writing the request sets")
    files = request_sets(url, args, label)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server = Server("map", "api.app:create_app", args.port, OUT_DIR / f"server-map-{stamp}.log")
    report: dict[str, Any] = {"started": stamp, "stations": count, "duration_s": args.duration}
    try:
        start_server(
            server, {"DATABASE_URL": url, "STATIONS_INDEX_REFRESH_SECONDS": "3600"}, ("--no-access-log",)
        )
        say(f"ready after {wait_ready(server, 900.0):.1f} s")
        report["body_bytes"] = smoke(server, files)
        report["results"] = measure(server, files, args, name)
    finally:
        stop_server(server)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"map-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    for line in summary(report["results"]):
        print(line)
    say(f"results in {out.relative_to(ROOT)}; bytes per answer {report['body_bytes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
