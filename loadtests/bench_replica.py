"""Read-replica benchmark: the cost of the routing decision per read, and the replica's lag under writes.

    DATABASE_URL=postgresql://stations@127.0.0.1:55441/postgres \
        python -m loadtests.bench_replica --duration 10 [--sync-commit]

Creates database bench_replica on DATABASE_URL's server (a local cluster: the replica is started beside
it as the tests do, tests/replica_support.py: pg_basebackup -R, pg_ctl on a free port), then
1. `choose`: ReadRouting.choose() in a loop (a lag check every --check-every seconds, reused in between),
   and `measure`: one lag check alone (a round trip to the primary and one to the replica);
2. under a writer committing --rate small transactions a second (0: as fast as one connection can) for
   --duration seconds: the lag ReadRouting reports every 50 ms (seconds, bytes), and the visibility
   delay of a probe row written every 0.2 s (from its commit on the primary to the first replica read
   that sees it). The bin/test cluster runs with synchronous_commit=off, so a commit reaches the WAL
   (and the replica) only at the WAL writer's next flush (200 ms); --sync-commit sets it on for the
   writer and the probe, as production runs. Prints JSON. Stops the replica and drops the database at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time

import psycopg2

from db.engine import make_engine
from db.read_routing import ReadRouting
from tests.replica_support import Replica


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _summary(values: list[float], scale: float = 1.0, digits: int = 3) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(_pct(values, 0.5) * scale, digits),
        "p99": round(_pct(values, 0.99) * scale, digits),
        "max": round(max(values) * scale, digits) if values else float("nan"),
        "mean": round(statistics.fmean(values) * scale, digits) if values else float("nan"),
    }


def _admin(server_url: str, sql: str) -> None:
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0, help="writer commits/s (0: unthrottled)")
    parser.add_argument("--check-every", type=float, default=0.25)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--sync-commit", action="store_true", help="synchronous_commit=on for the writes")
    args = parser.parse_args()
    server = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    base = server.rsplit("/", 1)[0]
    _admin(base + "/postgres", "DROP DATABASE IF EXISTS bench_replica WITH (FORCE)")
    _admin(base + "/postgres", "CREATE DATABASE bench_replica")
    url = base + "/bench_replica"
    commit_mode = "on" if args.sync_commit else "off"
    _admin(
        url, "CREATE TABLE load (id bigserial PRIMARY KEY, at timestamptz NOT NULL, payload text NOT NULL)"
    )
    replica = Replica(url)
    replica.create()
    replica.start()
    primary, standby = make_engine(url), make_engine(replica.url())
    result: dict[str, object] = {}
    try:
        reads = ReadRouting(primary, standby, max_lag_s=5.0, check_every_s=args.check_every)
        deadline = time.monotonic() + 30
        while reads.choose() is not standby and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.perf_counter()
        for _ in range(args.decisions):
            reads.choose()
        per_choose = (time.perf_counter() - started) / args.decisions
        checks = []
        for _ in range(200):
            t0 = time.perf_counter()
            reads.measure()
            checks.append(time.perf_counter() - t0)
        result["choose_us"] = round(per_choose * 1e6, 2)
        result["measure_ms"] = _summary(checks, 1e3)
        result["checks_during_choose_loop"] = round(args.decisions * per_choose / args.check_every, 1)

        stop = threading.Event()
        commits = [0]

        def writer() -> None:
            conn = psycopg2.connect(url)
            conn.autocommit = True
            gap = 1.0 / args.rate if args.rate > 0 else 0.0
            with conn.cursor() as cur:
                cur.execute(f"SET synchronous_commit = {commit_mode}")
                while not stop.is_set():
                    cur.execute("INSERT INTO load (at, payload) VALUES (now(), repeat('x', 200))")
                    commits[0] += 1
                    if gap:
                        time.sleep(gap)
            conn.close()

        lags: list[float] = []
        lag_bytes: list[float] = []
        visible: list[float] = []
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        probe = psycopg2.connect(url)
        probe.autocommit = True
        with probe.cursor() as cur:
            cur.execute(f"SET synchronous_commit = {commit_mode}")
        watch = psycopg2.connect(replica.url())
        watch.autocommit = True
        end = time.monotonic() + args.duration
        next_probe = time.monotonic()
        while time.monotonic() < end:
            lag = reads.measure()
            lags.append(lag.seconds)
            lag_bytes.append(float(lag.bytes))
            if time.monotonic() >= next_probe:
                with probe.cursor() as cur:
                    cur.execute("INSERT INTO load (at, payload) VALUES (now(), 'probe') RETURNING id")
                    row = cur.fetchone()
                    assert row is not None
                committed = time.perf_counter()
                with watch.cursor() as cur:
                    give_up = time.monotonic() + 10
                    while time.monotonic() < give_up:
                        cur.execute("SELECT 1 FROM load WHERE id = %s", (row[0],))
                        if cur.fetchone() is not None:
                            visible.append(time.perf_counter() - committed)
                            break
                        time.sleep(0.002)
                next_probe = time.monotonic() + 0.2
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=10)
        probe.close()
        watch.close()
        result["synchronous_commit"] = commit_mode
        result["writer_commits_per_s"] = round(commits[0] / args.duration, 1)
        result["lag_seconds"] = _summary(lags)
        result["lag_bytes"] = _summary(lag_bytes, digits=0)
        result["probe_visible_ms"] = _summary(visible, 1e3, 1)
    finally:
        primary.dispose()
        standby.dispose()
        replica.remove()
        _admin(base + "/postgres", "DROP DATABASE IF EXISTS bench_replica WITH (FORCE)")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
