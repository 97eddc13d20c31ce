"""The one command: run the holiday-morning profile against the service and write the report.

    python -m loadtests.peak --scale 2 --duration 120 --out var/peak/run1
    python -m loadtests.peak --capacity --duration 90 --out var/peak/capacity    # the highest factor held
    python -m loadtests.peak --url http://127.0.0.1:8000 --ordercore-url http://127.0.0.1:8001 \
        --database-url postgresql://stations@127.0.0.1:55432/stations --scale 1 --duration 60 --out DIR

Without --url it starts bin/run on its own ports (--api-port, --core-port, --pg-port) and stops it at the end.
It needs the database (station credentials for the station systems, the fueling positions checkout names).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import text

from access import partners
from api.settings import DEV_DRIVER_TOKEN_KEY
from db.engine import make_engine
from loadtests.peak import plots, report
from loadtests.peak.plan import make_plan, revoke_plan
from loadtests.peak.procs import CpuSampler, Groups, listening_pids
from loadtests.peak.profile import peak_users, stage_at
from loadtests.peak.run_config import RunConfig
from loadtests.peak.service import Target, bin_run, http_json

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PARTNER_PATHS = {"snapshot": "/v1/partner/snapshot", "changes": "/v1/partner/changes"}
PARTNER_SCOPES = ("stations:read", "prices:read", "feed:read")  # what the partner scenario reads
PLOTTED = (
    "GET /v1/stations/nearby",
    "GET /v1/stations (viewport)",
    "GET /v1/tiles/{z}/{x}/{y}.mvt",
    "GET /v1/stations/{id}/wait",
    "GET /v1/stations/{id}",
    "GET /v1/prices/compare",
    "POST /v1/route/stations",
    "POST /v1/occupancy/events",
    "POST /v1/checkout",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.peak", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="peak factor (40 interactive users per 1.0)")
    p.add_argument("--duration", type=float, default=120.0, help="seconds the profile lasts (per step)")
    p.add_argument("--out", type=Path, required=True, help="directory of the report (created)")
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--window", type=float, default=5.0, help="seconds per row of the timeline")
    p.add_argument("--url", help="a running service (loopback only); default: start bin/run")
    p.add_argument("--ordercore-url", help="its order core (with --url)")
    p.add_argument("--database-url", help="its database (with --url)")
    p.add_argument("--api-port", type=int, default=8151)
    p.add_argument("--core-port", type=int, default=8152)
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("STATIONS_PG_PORT", "55432")))
    p.add_argument(
        "--database",
        default="stations",
        help="database of the local cluster bin/run serves (not stations: the cluster must be running)",
    )
    p.add_argument("--ready-timeout", type=float, default=900.0)
    p.add_argument("--centres", type=int, default=12, help="cities the drivers search around")
    p.add_argument("--station-systems", type=int, default=20, help="stations posting events and prices")
    p.add_argument("--order-share", type=float, default=0.1, help="share of driver journeys that order")
    p.add_argument(
        "--driver-key", default=DEV_DRIVER_TOKEN_KEY, help="driver-token key (development default)"
    )
    p.add_argument("--operator-token", default="dev-operator-token")
    p.add_argument("--ordercore-token", default="dev-ordercore-token")
    p.add_argument(
        "--no-partner", action="store_true", help="leave the partner scenario (snapshot + feed) out"
    )
    p.add_argument(
        "--partner-key",
        default="",
        help="API key of the partner scenario (default: one made for the run, revoked at its end)",
    )
    p.add_argument(
        "--workers", type=int, default=2, help="the service's workers (for the saturation verdict)"
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="first seconds of each run shown in the timeline but left out of the verdict (a cold node)",
    )
    p.add_argument("--capacity", action="store_true", help="search the highest factor held (step search)")
    p.add_argument("--start-scale", type=float, default=1.0, help="first factor of the capacity search")
    p.add_argument("--max-steps", type=int, default=6, help="runs of the capacity search at most")
    args = p.parse_args(argv)
    if args.url and not (args.ordercore_url and args.database_url):
        p.error("--url needs --ordercore-url and --database-url")
    for url in (args.url, args.ordercore_url):
        if url and (urlsplit(url).hostname or "") not in LOOPBACK:
            p.error(f"{url}: only loopback targets")
    if not 0 < args.duration <= 3600 or args.scale <= 0 or not 1 <= args.max_steps <= 12:
        p.error("--duration in (0, 3600], --scale > 0, --max-steps in [1, 12]")
    return args


@contextlib.contextmanager
def service(args: argparse.Namespace) -> Iterator[Target]:
    if args.url:
        yield Target(args.url.rstrip("/"), args.ordercore_url.rstrip("/"), args.database_url)
        return
    with bin_run(
        args.api_port,
        args.core_port,
        args.pg_port,
        args.out / "service.log",
        args.ready_timeout,
        args.database,
    ) as t:
        yield t


def partner_routes(target: Target) -> dict[str, str]:
    """The partner scenario's paths when the service documents both (issue 15's routes), else nothing."""
    paths = orjson.loads(http_json(target.url + "/openapi.json")).get("paths", {})
    return dict(PARTNER_PATHS) if all(p in paths for p in PARTNER_PATHS.values()) else {}


def _progress(t0: float, args: argparse.Namespace, scale: float, sampler: CpuSampler, stats: Path) -> None:
    elapsed = time.monotonic() - t0
    stage = stage_at(elapsed, args.duration, scale)
    cpu = sampler.latest() or {}
    line = (
        f"  {elapsed:6.0f} s  {stage.phase if stage else 'ending':<12} users {stage.users if stage else 0:>4}"
    )
    rows = report.read_csv(stats)
    if rows:
        last = rows[-1]
        line += (
            f"  {float(last.get('Requests/s') or 0):7.1f} req/s  p99 {last.get('99%', '-'):>5} ms"
            f"  requests {last.get('Total Request Count', '-')} failed {last.get('Total Failure Count', '-')}"
        )
    line += (
        f"  cores: generator {cpu.get('generator', 0):.2f} service {cpu.get('service', 0):.2f}"
        f" db {cpu.get('database', 0):.2f} machine {cpu.get('machine_busy', 0):.2f}"
    )
    print(line, flush=True)


def run_once(args: argparse.Namespace, target: Target, scale: float, out: Path) -> dict[str, Any]:
    """One run of the profile at `scale`; writes the report into `out` and returns its summary."""
    out.mkdir(parents=True, exist_ok=True)
    engine = make_engine(target.database_url)
    with engine.connect() as conn:
        stations = int(conn.execute(text("SELECT count(*) FROM stations")).scalar_one())
    plan = make_plan(engine, seed=args.seed, centres=args.centres, systems=args.station_systems)
    plan.partner = {} if args.no_partner else partner_routes(target)
    plan.write(out / "plan.json")
    partner_key, run_key = args.partner_key, None
    if plan.partner and not partner_key:  # a key of the run's own, revoked at its end like the credentials
        account = partners.create_partner(
            engine, f"peak-{int(time.time())}-{args.seed}", rate_per_second=1000, burst=1000, daily_quota=None
        )
        run_key = partners.create_key(engine, account.partner_id, PARTNER_SCOPES)
        partner_key = run_key.token
    config = RunConfig(
        plan=out / "plan.json",
        out=out,
        scale=scale,
        duration_s=args.duration,
        seed=args.seed,
        window_s=args.window,
        run_epoch_s=int(time.time()),
        ordercore_url=target.ordercore_url,
        ordercore_token=args.ordercore_token,
        driver_key=args.driver_key,
        operator_token=args.operator_token,
        order_share=args.order_share,
        partner_key=partner_key,
        warmup_s=args.warmup,
    )
    load_before = os.getloadavg()
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        target.url,
        "--run-time",
        f"{int(args.duration) + 20}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(out / "locust"),
        "--loglevel",
        "WARNING",
        "--skip-log-setup",
    ]
    print(
        f"peak run: scale {scale} ({peak_users(scale)} interactive users at the peak + {len(plan.systems)} "
        f"station systems + operator{' + partner' if plan.partner else ''}), {args.duration:.0f} s, "
        f"{stations:,} stations, {len(plan.centres)} cities; report in {out}",
        flush=True,
    )
    with (out / "locust.log").open("wb") as log:
        locust = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **config.environ()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    groups = Groups(
        generator={locust.pid},
        service=listening_pids(target.port("api")),
        ordercore=listening_pids(target.port("core")),
        database=listening_pids(target.port("db")),
    )
    sampler = CpuSampler(groups, args.window)
    sampler.start()
    t0 = time.monotonic()
    try:
        while locust.poll() is None:
            if time.monotonic() - t0 > args.duration + 90:
                print("  the generator outlived its run: stopping it", flush=True)
                locust.terminate()
                locust.wait(timeout=30)
                break
            time.sleep(args.window)
            _progress(t0, args, scale, sampler, out / "locust_stats_history.csv")
    finally:
        if locust.poll() is None:
            locust.kill()
            locust.wait(timeout=10)
        sampler.stop()
        sampler.write(out / "cpu.csv")
        revoked = revoke_plan(engine, plan)
        if run_key is not None:
            partners.revoke_key(engine, run_key.key_id, datetime.now(UTC))
        engine.dispose()
    results = report.judge_run(out)
    cpu = report.cpu_summary(out)
    fits = report.cpu_per_request(out, args.window)
    held = report.held(results) and locust.returncode in (0, 1)
    meta: dict[str, Any] = {
        "scale": scale,
        "duration_s": args.duration,
        "warmup_s": args.warmup,  # the first seconds: in the timeline, not in the verdict
        "seed": args.seed,
        "stations": stations,
        "peak_interactive_users": peak_users(scale),
        "station_systems": len(plan.systems),
        "partner_scenario": "on" if plan.partner else "off (the service has no partner snapshot/feed routes)",
        "requests": sum(r.requests for r in results),
        "failures": sum(r.failures for r in results),
        "held": held,
        "generator_exit": locust.returncode,
        "load_avg_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_avg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "credentials_revoked": revoked,
        "command": " ".join(sys.argv) if sys.argv else "",
        "saturation": report.saturation(cpu, os.cpu_count() or 1, args.workers),
        "cpu_per_request": fits,
        "note": "Latencies are measured by the generator on the same cores as the service.",
    }
    if not (out / "routes_raw.csv").exists():
        meta["held"] = False
        meta["note"] = f"the generator wrote no results (exit {locust.returncode}); see {out / 'locust.log'}"
    plots.write_plots(out, list(PLOTTED))
    report.write_html(out, meta, results, cpu)
    (out / "summary.json").write_text(json.dumps({**meta, "cpu": cpu}, indent=1, ensure_ascii=False))
    _print_summary(meta, results, cpu)
    return {**meta, "cpu": cpu, "failing": [r.route for r in results if r.verdict == "fail"]}


def _print_summary(meta: dict[str, Any], results: list[report.RouteResult], cpu: dict[str, float]) -> None:
    print(
        f"\n== scale {meta['scale']}: {'HELD' if meta['held'] else 'NOT HELD'} "
        f"({meta['requests']} requests, {meta['failures']} failed; load {meta['load_avg_after']}) =="
    )
    print(f"{'route':<42} {'req':>7} {'fail':>5} {'req/s':>7} {'p50':>7} {'p99':>7} {'target':>7}  verdict")
    for r in results:
        target = "-" if r.target_ms is None else f"{r.target_ms:.0f}"
        print(
            f"{r.route:<42} {r.requests:>7} {r.failures:>5} {r.rps:>7.1f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{target:>7}  {r.verdict}"
        )
    print(
        f"cores (mean/peak): generator {cpu['generator_mean']}/{cpu['generator_peak']}, service "
        f"{cpu['service_mean']}/{cpu['service_peak']}, "
        f"database {cpu['database_mean']}/{cpu['database_peak']}, "
        f"machine {cpu['machine_busy_mean']}/{cpu['machine_busy_peak']}"
    )
    print("nearest its limit: " + ", ".join(f"{n} {v:.0%}" for n, v in meta["saturation"][:3]), flush=True)
    for group, fit in meta["cpu_per_request"].items():
        print(
            f"CPU per request ({group}): {fit['mean_ms_per_request']} ms on average; fit"
            f" {fit['ms_per_request']} ms"
            f" + {fit['background_cores']} cores background"
        )


def capacity(args: argparse.Namespace, target: Target) -> list[dict[str, Any]]:
    """Double the factor while the profile holds, then bisect between the last held and the first not held,
    at most --max-steps runs in all."""
    steps: list[dict[str, Any]] = []
    lo, hi = 0.0, None
    scale = args.start_scale
    for i in range(args.max_steps):
        result = run_once(args, target, scale, args.out / f"step-{i + 1}-scale-{scale:g}")
        steps.append(result)
        if result["held"]:
            lo = max(lo, scale)
        else:
            hi = scale if hi is None else min(hi, scale)
        if hi is None:
            scale = scale * 2
        elif lo == 0.0:
            scale = round(hi / 2, 3)
        elif hi - lo <= max(0.25, lo * 0.15):
            break
        else:
            scale = round((lo + hi) / 2, 3)
        time.sleep(5)
    _write_capacity(args.out, steps, lo, hi)
    return steps


def _write_capacity(out: Path, steps: list[dict[str, Any]], lo: float, hi: float | None) -> None:
    fields = (
        "scale",
        "held",
        "requests",
        "failures",
        "peak_interactive_users",
        "failing",
        "generator_peak",
        "service_peak",
        "busiest_worker_peak",
        "database_peak",
        "machine_busy_peak",
        "load_1m_peak",
        "saturated_first",
    )
    rows = []
    for s in steps:
        cpu = s["cpu"]
        rows.append(
            {
                "scale": s["scale"],
                "held": s["held"],
                "requests": s["requests"],
                "failures": s["failures"],
                "peak_interactive_users": s["peak_interactive_users"],
                "failing": " ".join(s["failing"]),
                **{k: cpu[k] for k in fields if k in cpu},
                "saturated_first": s["saturation"][0][0] if s["saturation"] else "",
            }
        )
    with (out / "capacity.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    first_fail = next((s for s in steps if not s["held"]), None)
    verdict = (
        f"highest factor held: {lo:g}"
        + (f" (first not held: {hi:g})" if hi is not None else " (none failed)")
        if lo
        else "no factor held"
    )
    why = ""
    if first_fail is not None:
        sat = first_fail["saturation"]
        why = (
            f"At {first_fail['scale']:g} the routes over target or failing were "
            f"{', '.join(first_fail['failing']) or '(none: the run itself failed)'}; nearest its limit: "
            + ", ".join(f"{n} {v:.0%}" for n, v in sat[:3])
        )
    (out / "capacity.json").write_text(json.dumps({"verdict": verdict, "why": why, "steps": rows}, indent=1))
    table = report._table(list(fields), [[r.get(k, "") for k in fields] for r in rows])
    links = "".join(
        f"<li><a href='step-{i + 1}-scale-{s['scale']:g}/report.html'>scale {s['scale']:g}</a></li>"
        for i, s in enumerate(steps)
    )
    (out / "capacity.html").write_text(
        f"<html><head><meta charset='utf-8'><style>{report.STYLE}</style></head><body>"
        f"<h1>Capacity: {verdict}</h1>"
        f"<p>{why}</p>{table}<ul>{links}</ul></body></html>"
    )
    print(f"\n== capacity: {verdict} ==\n{why}\n(capacity.csv, capacity.html in {out})", flush=True)


def rebuild(out: Path, window_s: float) -> None:
    """Judge, fit, plot and write the HTML again from a run's files (after a change to the report)."""
    summary = json.loads((out / "summary.json").read_text())
    results = report.judge_run(out)
    cpu = report.cpu_summary(out)
    meta = {k: v for k, v in summary.items() if k != "cpu"}
    meta["cpu_per_request"] = report.cpu_per_request(out, window_s)
    plots.write_plots(out, list(PLOTTED))
    report.write_html(out, meta, results, cpu)
    (out / "summary.json").write_text(json.dumps({**meta, "cpu": cpu}, indent=1, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["rebuild"]:
        for path in sys.argv[2:]:
            rebuild(Path(path), 5.0)
        return 0
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with service(args) as target:
        if args.capacity:
            steps = capacity(args, target)
            return 0 if steps and any(s["held"] for s in steps) else 1
        result = run_once(args, target, args.scale, args.out)
        return 0 if result["held"] else 1
