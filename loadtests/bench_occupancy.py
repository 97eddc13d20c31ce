"""Occupancy ingest benchmark: sustained events/s through the HTTP API, and how fast an event shows.

    python -m loadtests.bench_occupancy --stations 20000 --duration 30

A throwaway database bench_occupancy_<size> is (re)created with the demo network (no prices) and a
credential for each posting station. The service starts as bin/run starts it (uvicorn, 2 workers,
uvloop, httptools, loopback). Then, for `--duration` seconds:
  ingest   `--clients` concurrent connections post NDJSON batches of `--batch` events, each request one
           station's valid nozzle sequences (calling, authorized, fueling, completed, idle; seq and ts
           increasing) with that station's own credential, stations in order per client;
  reflect  a probe station posts one event every `--probe-every` seconds and four other keep-alive
           connections (the kernel spreads them over both workers) poll /v1/stations/{id}/occupancy until
           every one of them shows it: post-to-visible latency, p50 / p99 / max.
Targets: >= 20,000 accepted events/s sustained; reflection p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from access.credentials import issue
from db.engine import make_engine
from loadtests import bench_db
from loadtests.bench_procs import (
    Server,
    cpu_delta,
    machine_busy_seconds,
    memory_kb,
    process_cpu,
    start_server,
    stop_server,
    wait_for_quiet,
    wait_ready,
    worker_pids,
)

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
CYCLE = ("calling", "authorized", "fueling", "completed", "idle")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare_database(base: str, name: str, stations: int) -> str:
    """Drop and recreate `name`, migrate it and load the demo network without prices."""
    url = bench_db.recreate_database(base, name)
    bench_db.migrate(url)
    command = [
        *bench_db.demo_loader_command(),
        "load",
        "--stations",
        str(stations),
        "--database-url",
        url,
        "--no-prices",
    ]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise SystemExit("the demo loader failed")
    return url


def posting_stations(url: str, count: int) -> list[tuple[int, list[tuple[int, int]], str]]:
    """(station id, [(position, nozzle)], token) for `count` open stations, each with a new credential."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.station_id, p.number, n.number "
                    "FROM fueling_positions p JOIN nozzles n ON n.position_id = p.id "
                    "WHERE p.station_id IN "
                    "(SELECT id FROM stations WHERE status = 'open' ORDER BY id LIMIT :n) "
                    "ORDER BY 1, 2, 3"
                ),
                {"n": count},
            ).all()
        nozzles: dict[int, list[tuple[int, int]]] = {}
        for sid, pos, noz in rows:
            nozzles.setdefault(int(sid), []).append((int(pos), int(noz)))
        out = []
        for i, (sid, nz) in enumerate(sorted(nozzles.items())):
            out.append((sid, nz, issue(engine, sid).token))  # scrypt: ~50 ms each
            if (i + 1) % 50 == 0:
                say(f"credentials {i + 1}/{len(nozzles)}")
        return out
    finally:
        engine.dispose()


@dataclass
class StationFeed:
    """Valid event sequences for one station: each nozzle walks the fueling cycle, seq and ts increasing."""

    station_id: int
    nozzles: list[tuple[int, int]]
    token: str
    seq: dict[tuple[int, int], int] = field(default_factory=dict)
    step: dict[tuple[int, int], int] = field(default_factory=dict)
    last_ts: dict[tuple[int, int], float] = field(default_factory=dict)

    def batch(self, size: int, now: float) -> bytes:
        """NDJSON lines formatted directly (the client shares the machine: keep its CPU per event low)."""
        lines: list[bytes] = []
        per = max(1, size // len(self.nozzles))
        start_ms = int(now * 1000) - 60_000
        sid = self.station_id
        for key in self.nozzles:
            seq, step = self.seq.get(key, 0), self.step.get(key, 0)
            ts_ms = max(int(self.last_ts.get(key, 0.0) * 1000), start_ms)
            for _ in range(per):
                if len(lines) == size:
                    break
                seq += 1
                ts_ms += 5
                lines.append(_LINE % (sid, key[0], key[1], CYCLE_BYTES[step % 5], seq, _iso_ms(ts_ms)))
                step += 1
            self.seq[key], self.step[key], self.last_ts[key] = seq, step, ts_ms / 1000
        return b"\n".join(lines) + b"\n"


_LINE = b'{"station_id":%d,"position":%d,"nozzle":%d,"state":"%s","seq":%d,"ts":"%s"}'
CYCLE_BYTES = tuple(s.encode() for s in CYCLE)
_SECONDS: dict[int, bytes] = {}


def _iso_ms(ms: int) -> bytes:
    """RFC 3339 UTC with milliseconds, the date-time part cached per second."""
    second, milli = divmod(ms, 1000)
    head = _SECONDS.get(second)
    if head is None:
        if len(_SECONDS) > 100_000:
            _SECONDS.clear()
        head = _SECONDS[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
    return b"%s.%03dZ" % (head, milli)


@dataclass
class IngestTally:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    first_rejects: list[Any] = field(default_factory=list)


async def ingest_client(
    base_url: str, feeds: list[StationFeed], batch: int, until: float, tally: IngestTally
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        i = 0
        while time.time() < until:
            feed = feeds[i % len(feeds)]
            i += 1
            body = feed.batch(batch, time.time())
            started = time.perf_counter()
            response = await client.post(
                "/v1/occupancy/events",
                content=body,
                headers={"Authorization": f"Bearer {feed.token}", "Content-Type": "application/x-ndjson"},
            )
            tally.latencies.append(time.perf_counter() - started)
            tally.requests += 1
            if response.status_code != 200:
                tally.errors += 1
                continue
            answer = response.json()
            tally.accepted += answer["accepted"]
            tally.duplicates += answer["duplicates"]
            tally.rejected += answer["rejected"]
            if answer["rejects"] and len(tally.first_rejects) < 5:
                tally.first_rejects.append(answer["rejects"][:3])


async def verify_everywhere(base_url: str, tokens: list[str], connections: int) -> None:
    """An empty batch per token on each of `connections` connections (the kernel spreads them over the
    workers), so that the window measures ingest, not first-time credential checks."""

    async def one(client: httpx.AsyncClient) -> None:
        for token in tokens:
            answer = await client.post(
                "/v1/occupancy/events",
                content=b"[]",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if answer.status_code != 200:
                raise SystemExit(f"credential check failed: {answer.status_code} {answer.text}")

    clients = [httpx.AsyncClient(base_url=base_url, timeout=120) for _ in range(connections)]
    try:
        await asyncio.gather(*(one(c) for c in clients))
    finally:
        for c in clients:
            await c.aclose()


def probe(
    base_url: str,
    station: tuple[int, list[tuple[int, int]], str],
    every: float,
    until: float,
    out: list[float],
    timeouts: list[int],
    posts: list[float],
) -> None:
    """Post one event, then poll on four other connections until all of them show it."""
    sid, nozzles, token = station
    position, nozzle = nozzles[0]
    poster = httpx.Client(base_url=base_url, timeout=10)
    pollers = [httpx.Client(base_url=base_url, timeout=10) for _ in range(4)]
    seq = 0
    try:
        while time.time() < until:
            seq += 1
            state = "calling" if seq % 2 else "idle"
            ts = datetime.fromtimestamp(round(time.time(), 3), UTC)
            want = ts.isoformat(timespec="milliseconds")
            item = {
                "station_id": sid,
                "position": position,
                "nozzle": nozzle,
                "state": state,
                "seq": seq,
                "ts": want,
            }
            started = time.perf_counter()
            answer = poster.post(
                "/v1/occupancy/events",
                content=orjson.dumps([item]),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if answer.status_code != 200 or answer.json()["accepted"] != 1:
                raise SystemExit(f"probe event refused: {answer.status_code} {answer.text}")
            posts.append(time.perf_counter() - started)
            waiting = set(range(len(pollers)))
            while waiting and time.perf_counter() - started < 10:
                for k in list(waiting):
                    body = pollers[k].get(f"/v1/stations/{sid}/occupancy").json()
                    first = body["positions"][0]
                    if first["nozzle_state"] == state and first["since"] == want:
                        waiting.discard(k)
                if waiting:
                    time.sleep(0.05)
            if waiting:
                timeouts.append(seq)
            else:
                out.append(time.perf_counter() - started)
            time.sleep(max(0.0, every - (time.perf_counter() - started)))
    finally:
        poster.close()
        for p in pollers:
            p.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=20_000, help="demo network size")
    parser.add_argument("--posting", type=int, default=200, help="stations that post (one credential each)")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--clients", type=int, default=8, help="concurrent posting connections")
    parser.add_argument("--duration", type=int, default=30, help="seconds of sustained posting")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of posting before the window")
    parser.add_argument("--probe-every", type=float, default=0.5, help="seconds between probe events")
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    parser.add_argument("--port", type=int, default=18_460)
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.25,
        help="wait (up to 3 min) until other processes use less than this share of the machine",
    )
    args = parser.parse_args(argv)
    label = bench_db.size_label(args.stations)
    database = f"bench_occupancy_{label}"
    say(f"{database}: creating, migrating, loading {args.stations:,} demo stations")
    url = prepare_database(args.database_url_base, database, args.stations)
    stations = posting_stations(url, args.posting + 1)
    probe_station, stations = stations[0], stations[1:]
    feeds = [StationFeed(sid, nz, token) for sid, nz, token in stations]
    say(
        f"{len(feeds)} posting stations ({sum(len(f.nozzles) for f in feeds):,} nozzles), "
        f"probe station {probe_station[0]}"
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server = Server("service", "api.app:create_app", args.port, OUT_DIR / f"server-occupancy-{stamp}.log")
    start_server(server, {"DATABASE_URL": url})
    results: dict[str, Any] = {
        "stations": args.stations,
        "posting_stations": len(feeds),
        "batch": args.batch,
        "clients": args.clients,
        "duration_s": args.duration,
        "started": stamp,
    }
    try:
        say(f"ready after {wait_ready(server, 600):.1f} s")
        assert server.process is not None
        groups = [feeds[k :: args.clients] for k in range(args.clients)]  # a station's batches stay in order

        async def run(seconds: float, tally: IngestTally) -> None:
            until = time.time() + seconds
            await asyncio.gather(
                *(ingest_client(server.base_url, g, args.batch, until, tally) for g in groups)
            )

        say(f"each worker verifies each credential once (scrypt, ~50 ms): {len(feeds) + 1} tokens")
        asyncio.run(
            verify_everywhere(server.base_url, [f.token for f in feeds] + [probe_station[2]], args.clients)
        )
        warm = IngestTally()
        asyncio.run(run(args.warmup, warm))
        say(f"warm-up: {warm.accepted / max(args.warmup, 1):,.0f} events/s, {warm.rejected} rejected")
        tally = IngestTally()
        reflections: list[float] = []
        timeouts: list[int] = []
        posts: list[float] = []
        share, waited = wait_for_quiet(server.process.pid, database, args.quiet, 180)
        say(f"other processes use {share:.0%} of the machine (waited {waited:.0f} s for < {args.quiet:.0%})")
        cpu_before = process_cpu()
        busy_before, total_before = machine_busy_seconds()
        own_before = time.process_time()
        until = time.time() + args.duration
        prober = threading.Thread(
            target=probe,
            args=(server.base_url, probe_station, args.probe_every, until, reflections, timeouts, posts),
            daemon=True,
        )
        started = time.perf_counter()
        prober.start()

        async def window() -> float:
            task = asyncio.create_task(run(args.duration, tally))
            while not task.done():
                await asyncio.wait({task}, timeout=5)
                elapsed = time.perf_counter() - started
                say(
                    f"{elapsed:4.0f} s: {tally.accepted:,} accepted ({tally.accepted / elapsed:,.0f}/s), "
                    f"{tally.rejected} rejected, {tally.errors} errors, {len(reflections)} probes"
                )
            await task
            return time.perf_counter() - started  # the last answer, not the next progress tick

        elapsed = asyncio.run(window())
        prober.join(timeout=15)
        spent = cpu_delta(cpu_before, process_cpu(), server.process.pid, database)
        busy_after, total_after = machine_busy_seconds()
        machine = max(total_after - total_before, 1e-9)
        spent["bench"] = time.process_time() - own_before
        spent["other_share"] = (
            max(0.0, busy_after - busy_before - spent["server"] - spent["postgres"] - spent["bench"])
            / machine
        )
        results["memory"] = [{"pid": pid, **memory_kb(pid)} for pid in worker_pids(server)]
    finally:
        stop_server(server)
    rate = tally.accepted / elapsed
    results["ingest"] = {
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "rejected": tally.rejected,
        "requests": tally.requests,
        "errors": tally.errors,
        "elapsed_s": round(elapsed, 2),
        "events_per_s": round(rate),
        "request_p50_ms": round(1000 * percentile(tally.latencies, 0.5), 1),
        "request_p99_ms": round(1000 * percentile(tally.latencies, 0.99), 1),
        "server_cpu_us_per_event": round(1e6 * spent["server"] / max(tally.accepted, 1), 1),
        "postgres_cpu_us_per_event": round(1e6 * spent["postgres"] / max(tally.accepted, 1), 1),
        "bench_client_cpu_us_per_event": round(1e6 * spent["bench"] / max(tally.accepted, 1), 1),
        "other_processes_machine_share": round(spent["other_share"], 3),
        "first_rejects": tally.first_rejects,
    }
    results["reflection"] = {
        "probes": len(reflections),
        "timeouts": len(timeouts),
        "p50_ms": round(1000 * percentile(reflections, 0.5), 1),
        "p99_ms": round(1000 * percentile(reflections, 0.99), 1),
        "max_ms": round(1000 * max(reflections, default=float("nan")), 1),
        "mean_ms": round(1000 * statistics.fmean(reflections), 1) if reflections else None,
        "post_p50_ms": round(1000 * percentile(posts, 0.5), 1),
        "post_p99_ms": round(1000 * percentile(posts, 0.99), 1),
    }
    ok = rate >= 20_000 and not timeouts and percentile(reflections, 0.99) < 1.0 and tally.errors == 0
    ing, ref = results["ingest"], results["reflection"]
    print(
        f"\n== occupancy ingest at {args.stations:,} stations, {len(feeds)} posting, "
        f"{args.batch} events/request, {args.clients} clients, {args.duration} s =="
    )
    print(
        f"sustained {ing['events_per_s']:,} accepted events/s ({ing['accepted']:,} in {ing['elapsed_s']} s, "
        f"{ing['requests']} requests, {ing['rejected']} rejected, {ing['errors']} errors); request p50 "
        f"{ing['request_p50_ms']} ms, p99 {ing['request_p99_ms']} ms"
    )
    print(
        f"CPU per event: server {ing['server_cpu_us_per_event']} µs, "
        f"postgres {ing['postgres_cpu_us_per_event']} µs, "
        f"this client {ing['bench_client_cpu_us_per_event']} µs; other processes used "
        f"{ing['other_processes_machine_share']:.0%} of the machine during the window"
    )
    print(
        f"reflection on every connection: p50 {ref['p50_ms']} ms, p99 {ref['p99_ms']} ms, "
        f"max {ref['max_ms']} ms over {ref['probes']} probes ({ref['timeouts']} not shown within 10 s); "
        f"of which the probe's own POST p50 {ref['post_p50_ms']} ms, p99 {ref['post_p99_ms']} ms"
    )
    print(f"targets: >= 20,000 events/s, reflection p99 < 1 s: {'PASS' if ok else 'FAIL'}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"occupancy-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"results in {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
