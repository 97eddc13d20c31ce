"""Nearby-search benchmark: the service beside the HTTP floor and the plain PostGIS way, in one run.

    python -m loadtests.bench_nearby --stations 120000 1000000 --duration 15
    python -m loadtests.bench_nearby --stations 120000 --servers corridor   # the corridor case alone

For each network size: ensure database bench_<size> (migrated, demo network loaded), write ~10,000
request paths around random stations, then start each server as production does (uvicorn, 2 workers,
uvloop, httptools) on loopback, one at a time, and drive it with wrk: throughput at 64 connections,
latency at 8. `corridor` is the service again, driven with along-route searches Kunming → Dali
(loadtests/bench_route.py). wrk shares the machine's cores, so its CPU is reported beside the figures.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from loadtests import bench_db, bench_route
from loadtests.bench_procs import (
    Server,
    http_get,
    http_post,
    memory_kb,
    start_server,
    stop_server,
    wait_for_quiet,
    wait_ready,
    worker_pids,
)
from loadtests.bench_report import answer_agreement, cpu_cost_ratios, evaluate_targets, print_summary
from loadtests.bench_wrk import require_wrk, run_wrk

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
SERVERS = {
    "nearby": "api.app:create_app",
    "first-screen": "api.app:create_app",
    "floor": "loadtests.floor_app:create_app",
    "postgis": "loadtests.postgis_app:create_app",
    "corridor": "api.app:create_app",
}
# The query the mini-program's first screen sends (all in GCJ-02, the WeChat map's system): the service
# with prices, the anonymous driver's effective price for a ¥300 fill and the wait per station.
FIRST_SCREEN_QUERY = "&grade=92&prices=true&effective=true&wait=true"
SMOKE_REQUESTS = 50
OTHER_CPU_WARNING = 0.10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, nargs="+", default=[120_000, 1_000_000])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run")
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    parser.add_argument("--database-prefix", default="bench_", help="databases are <prefix><size>")
    parser.add_argument("--skip-load", action="store_true", help="use the databases as they are")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=list(SERVERS))
    parser.add_argument("--points", type=int, default=10_000, help="distinct request paths per size")
    parser.add_argument("--port", type=int, default=18_400, help="first loopback port")
    parser.add_argument("--ready-timeout", type=float, default=900.0, help="seconds to wait for /readyz")
    parser.add_argument("--seed", type=int, default=20_261_121)
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="seconds of load before measuring, so each worker's caches hold the request set "
        "(a production worker is warm); its figures are reported as the cold start",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="pass --no-access-log to uvicorn (production logs every request)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare_database(args: argparse.Namespace, stations: int) -> tuple[str, int, Path]:
    label = bench_db.size_label(stations)
    name = f"{args.database_prefix}{label}"
    url = bench_db.database_url(args.database_url_base, name)
    if not args.skip_load:
        created = bench_db.ensure_database(args.database_url_base, name)
        say(f"{name}: {'created' if created else 'exists'}; migrating")
        bench_db.migrate(url)
        say(f"{name}: loading the demo network of {stations:,} stations unless it holds one already")
        bench_db.load_demo_network(url, stations)
    count = bench_db.station_count(url)
    if abs(count - stations) > stations // 10:
        say(f"WARNING {name} holds {count:,} stations, not {stations:,}")
    points = bench_db.sample_stations(url, args.points, args.seed)
    paths = bench_db.request_paths(points, args.seed)
    paths_file = bench_db.write_paths(paths, OUT_DIR / f"paths-{label}.txt")
    first = bench_db.request_paths(points, args.seed, query=FIRST_SCREEN_QUERY, systems_p=(0.0, 1.0, 0.0))
    bench_db.write_paths(first, OUT_DIR / f"paths-{label}-first-screen.txt")
    routes = bench_route.request_lines(min(args.points, 500), args.seed)
    bench_route.write_lines(routes, OUT_DIR / f"paths-{label}-corridor.txt")
    say(f"{name}: {count:,} stations; {len(paths):,} request paths in {paths_file.relative_to(ROOT)}")
    return url, count, paths_file


def paths_of(server: Server, paths_file: Path) -> Path:
    """The request paths a server is driven with: the first-screen query for `first-screen`."""
    if server.name in ("first-screen", "corridor"):
        return paths_file.with_name(f"{paths_file.stem}-{server.name}.txt")
    return paths_file


def smoke_check(server: Server, paths: list[str]) -> tuple[list[list[int]], float]:
    """The first requests must answer 200 with items; their station ids (to compare) and mean body size."""
    answers = []
    sizes = []
    for path in paths[:SMOKE_REQUESTS]:
        if path.startswith("POST "):  # a wrk POST line: `POST <path>\t<json body>`
            target, payload = path[5:].split("\t", 1)
            status, body = http_post(server.base_url + target, payload.encode())
        else:
            status, body = http_get(server.base_url + path)
        if status != 200:
            raise SystemExit(f"{server.name}: {path} answered {status}: {body[:300]!r}")
        document = orjson.loads(body)
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise SystemExit(f"{server.name}: {path} answered without an items list: {body[:300]!r}")
        answers.append([int(item["id"]) for item in items])
        sizes.append(len(body))
    return answers, sum(sizes) / len(sizes)


def measure_server(server: Server, url: str, paths_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {"DATABASE_URL": url, "STATIONS_INDEX_REFRESH_SECONDS": "3600"}
    say(f"{server.name}: starting {server.app} on {server.base_url}")
    start_server(server, env, ("--no-access-log",) if args.no_access_log else ())
    try:
        ready_s = wait_ready(server, args.ready_timeout)
        say(f"{server.name}: ready after {ready_s:.1f} s")
        answers, body_bytes = smoke_check(server, paths_file.read_text().splitlines())
        say(f"{server.name}: smoke check passed, {body_bytes:,.0f} bytes per answer on average")
        assert server.process is not None
        session = server.process.pid
        database = url.rsplit("/", 1)[-1]
        say(f"{server.name}: warm-up, wrk -t2 -c64 -d{args.warmup}s")
        warm = run_wrk(
            server.base_url,
            paths_file,
            threads=2,
            connections=64,
            duration_s=args.warmup,
            server_session=session,
            database=database,
        )
        say(f"{server.name}: warm-up (first touches) {warm.requests_per_s:,.0f} req/s")
        workers = worker_pids(server)
        results: dict[str, Any] = {
            "ready_s": round(ready_s, 1),
            "workers": len(workers),
            "body_bytes": round(body_bytes),
            "warmup": warm.as_dict(),
        }
        for key, threads, connections in (("throughput", 2, 64), ("latency", 1, 8)):
            other, waited = wait_for_quiet(session, database, OTHER_CPU_WARNING, args.quiet_wait)
            if waited > 1.5:
                say(f"waited {waited:.0f} s for other processes to quieten (now {other:.0%} of the machine)")
            say(f"{server.name}: wrk -t{threads} -c{connections} -d{args.duration}s")
            run = run_wrk(
                server.base_url,
                paths_file,
                threads=threads,
                connections=connections,
                duration_s=args.duration,
                server_session=session,
                database=database,
            )
            if run.non_2xx:
                raise SystemExit(
                    f"{server.name}: {run.non_2xx} non-2xx answers under load; see {server.log_path}"
                )
            results[key] = run.as_dict()
            say(
                f"{server.name}: {run.requests_per_s:,.0f} req/s, p50 {run.p50_ms:.2f} ms, "
                f"p99 {run.p99_ms:.2f} ms; CPU of the machine: wrk {run.wrk_cpu_share:.0%}, "
                f"server {run.server_cpu_share:.0%}, postgres {run.postgres_cpu_share:.0%}, "
                f"other {run.other_cpu_share:.0%}"
                + (f"; socket errors {run.socket_errors}" if any(run.socket_errors.values()) else "")
            )
            if run.other_cpu_share > OTHER_CPU_WARNING:
                say(
                    f"WARNING {server.name}: other processes took {run.other_cpu_share:.0%} of the machine "
                    "during this run; its figures are disturbed"
                )
        results["memory"] = [{"pid": pid, **memory_kb(pid)} for pid in workers]
        results["answers"] = answers
        return results
    finally:
        stop_server(server)


def run_size(args: argparse.Namespace, stations: int, servers: list[Server]) -> dict[str, Any]:
    url, count, paths_file = prepare_database(args, stations)
    measured: dict[str, Any] = {}
    for server in servers:
        measured[server.name] = measure_server(server, url, paths_of(server, paths_file), args)
    return {
        "stations": stations,
        "stations_in_db": count,
        "servers": measured,
        "agreement": answer_agreement(measured),
        "cpu_cost_ratios": cpu_cost_ratios(measured),
        "targets": evaluate_targets(measured, enforce=stations == 120_000),
    }


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_wrk()
    signal.signal(signal.SIGTERM, _terminate)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    servers = [
        Server(name, SERVERS[name], args.port + i, OUT_DIR / f"server-{name}-{stamp}.log")
        for i, name in enumerate(args.servers)
    ]
    report: dict[str, Any] = {
        "started": stamp,
        "duration_s": args.duration,
        "access_log": not args.no_access_log,
        "sizes": [],
    }
    try:
        for stations in args.stations:
            report["sizes"].append(run_size(args, stations, servers))
    except KeyboardInterrupt:
        say("interrupted; servers stopped")
        return 130
    finally:
        for server in servers:
            stop_server(server)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"nearby-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    ok = print_summary(report)
    say(f"results in {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
