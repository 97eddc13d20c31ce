"""Freshness benchmark: how long a change takes to show on every worker while stations post prices.

    python -m loadtests.bench_freshness --stations 120000 --duration 60 --rate 100

Starts the service as production does (2 workers) on database bench_<size> (created, migrated and loaded
with the demo network when it holds none, as bench_nearby does), then for `--duration` seconds a
background writer PUTs `--rate` price changes per second on random stations (each with its own
credential, as a station system does), while a prober makes one change a second in turn: a station's own
price (PUT), a station's status (an UPDATE, as the operator's tools write it) and a nozzle going offline
(a forecourt event). For each it measures the time from the write's answer to the first answer showing
it, on each worker (keep-alive connections stay with one worker; /readyz names it; one the server drops
is pinned to that worker again), and reports p50/p99/max per kind with the workers' time spent applying
the change log. Target: p99 under 1 s for each kind. Results in var/bench/freshness-<timestamp>.json.

The partner feed is measured too (issue 15): a partner client (loadtests/partner_client.FeedFollower)
long-polls GET /v1/partner/changes on each worker; for each price probe, `feed` is the time from the
PUT's answer until both followers received the item carrying the new price, and `feed_lag` the
commit-to-receipt lag (committed_at to receipt) of every item the followers received, background
changes included. `--no-feed` leaves it out.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa

import changelog
from access import partners
from access.credentials import issue
from loadtests import bench_db
from loadtests.bench_procs import Server, start_server, stop_server, wait_ready
from loadtests.partner_client import FeedFollower, Received, lag_summary
from pricing.ladder import PriceUpdate, write_prices

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
KINDS = ("price", "status", "nozzle")
FEED_SCOPES = ("stations:read", "prices:read", "feed:read")
TARGET_P99_S = 1.0
FAILED: list[str] = []  # background writes that failed (reported)
POLL_GAP_S = 0.005  # between polls of one worker: the timing resolution, and the prober's load
_STATIONS = sa.text(
    "SELECT s.id, ST_X(s.geom), ST_Y(s.geom) FROM stations s "
    "WHERE s.status = 'open' AND EXISTS (SELECT 1 FROM fueling_positions p JOIN nozzles n "
    "ON n.position_id = p.id WHERE p.station_id = s.id AND p.number = 1 AND n.number = 1) "
    "ORDER BY md5(s.id::text || :seed) LIMIT :n"
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=120_000, help="network size (database bench_<size>)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of writing and probing")
    parser.add_argument("--rate", type=float, default=100.0, help="background price changes per second")
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    parser.add_argument("--database-prefix", default="bench_")
    parser.add_argument("--writers", type=int, default=300, help="stations the background writer posts for")
    parser.add_argument("--writer-threads", type=int, default=4, help="background writer connections")
    parser.add_argument(
        "--writer-path",
        choices=("http", "db"),
        default="http",
        help="background prices through PUT /v1/stations/{id}/prices, or written to the database directly "
        "(pricing.ladder.write_prices, one transaction per change) when the API cannot take the rate here",
    )
    parser.add_argument("--port", type=int, default=18_450)
    parser.add_argument("--timeout", type=float, default=10.0, help="a change not seen by then is a miss")
    parser.add_argument("--seed", type=int, default=20_261_202)
    parser.add_argument("--no-feed", action="store_true", help="do not measure the partner feed")
    return parser.parse_args(argv)


KEEP_ALIVE_S = 120  # the service's idle keep-alive here (uvicorn's default 5 s closes a probe left waiting)
_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Conn:
    """A keep-alive connection and the worker (pid) it is served by; re-pinned to that worker if dropped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.worker = int(self.get("/readyz")["change_log"]["worker"])
        self.repins = 0

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        try:
            return self._request(method, path, body, headers)
        except _DROPPED:  # the server closed an idle connection: the same worker again, then once more
            self._repin()
            return self._request(method, path, body, headers)

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None
    ) -> tuple[int, Any]:
        self.http.request(method, path, body=body, headers=headers or {})
        response = self.http.getresponse()
        data = response.read()
        return response.status, orjson.loads(data) if data else None

    def _repin(self) -> None:
        self.http.close()
        for _ in range(200):
            fresh = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            fresh.request("GET", "/readyz")
            answer = fresh.getresponse()
            if int(orjson.loads(answer.read())["change_log"]["worker"]) == self.worker:
                self.http = fresh
                self.repins += 1
                return
            fresh.close()
        raise RuntimeError(f"worker {self.worker} not reached again over 200 connections")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        return body


def one_per_worker(port: int, workers: int) -> dict[int, Conn]:
    found: dict[int, Conn] = {}
    for _ in range(200):
        conn = Conn(port)
        found.setdefault(conn.worker, conn)
        if len(found) == workers:
            return found
    raise SystemExit(f"could not reach {workers} workers over 200 connections (reached {sorted(found)})")


def put_price(conn: Conn, station_id: int, token: str, grade: str, price: str) -> None:
    body = orjson.dumps({"prices": [{"grade": grade, "tier": "pump", "price": price}]})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, answer = conn.request("PUT", f"/v1/stations/{station_id}/prices", body, headers)
    if status != 200:
        raise RuntimeError(f"price PUT for {station_id}: {status} {answer}")


def background_writer(
    port: int, writers: list[tuple[int, str]], rate: float, stop: threading.Event, done: list[int], seed: int
) -> None:
    conn = Conn(port)
    rng = random.Random(seed)
    started = time.monotonic()
    while not stop.is_set():
        due = started + done[0] / rate
        wait = due - time.monotonic()
        if wait > 0:
            stop.wait(wait)
            continue
        station_id, token = writers[rng.randrange(len(writers))]
        try:
            put_price(conn, station_id, token, "95", f"{rng.uniform(7.5, 9.5):.2f}")
        except (RuntimeError, OSError) as exc:  # counted and reported; the writer goes on
            FAILED.append(str(exc)[:200])
            conn = Conn(port)
        done[0] += 1


def background_db_writer(
    engine: sa.Engine,
    writers: list[tuple[int, str]],
    rate: float,
    stop: threading.Event,
    done: list[int],
    seed: int,
) -> None:
    rng = random.Random(seed)
    started = time.monotonic()
    while not stop.is_set():
        wait = started + done[0] / rate - time.monotonic()
        if wait > 0:
            stop.wait(wait)
            continue
        now = datetime.now(UTC)
        price = Decimal(f"{rng.uniform(7.5, 9.5):.2f}")
        update = PriceUpdate(writers[rng.randrange(len(writers))][0], "95", "pump", price, now, "bench")
        try:
            write_prices(engine, [update], now=now)
        except sa.exc.DBAPIError as exc:  # counted and reported; the writer goes on
            FAILED.append(str(exc.orig)[:200])
        done[0] += 1


def wait_visible(
    conns: dict[int, Conn], path: str, shows: Any, since: float, timeout: float
) -> dict[int, float | None]:
    """Seconds from `since` until each worker's answer to `path` satisfies `shows` (None: not by timeout)."""
    seen: dict[int, float | None] = {}
    pending = dict(conns)
    deadline = since + timeout
    while pending and time.monotonic() < deadline:
        for worker, conn in list(pending.items()):
            if shows(conn.get(path)):
                seen[worker] = time.monotonic() - since
                del pending[worker]
        if pending:
            time.sleep(POLL_GAP_S)
    seen.update(dict.fromkeys(pending))
    return seen


class FeedWatch:
    """What the feed followers received: (worker, station, 92 pump price) -> receipt (monotonic)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[int, int, str], float] = {}

    def recorder(self, worker: int) -> Any:
        def record(item: Received) -> None:
            if item.station is None:
                return
            for p in item.station["prices"]:
                if p["grade"] == "92" and p["tier"] == "pump":
                    with self.lock:
                        self.seen.setdefault((worker, item.station_id, p["price"]), item.at)

        return record

    def wait(
        self, workers: list[int], station_id: int, price: str, since: float, timeout: float
    ) -> float | None:
        """Seconds from `since` until every worker's follower received the price (None: not by timeout)."""
        deadline = since + timeout
        while True:
            with self.lock:
                got = [self.seen.get((w, station_id, price)) for w in workers]
            if all(g is not None for g in got):
                return max(g - since for g in got if g is not None)
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL_GAP_S)


def _near(lon: float, lat: float) -> str:
    return f"/v1/stations/nearby?lon={lon:.6f}&lat={lat:.6f}&radius_m=30&limit=5&prices=true"


def _item(answer: Any, station_id: int) -> dict[str, Any] | None:
    return next((i for i in answer["items"] if i["id"] == station_id), None)


def probe(
    kind: str,
    n: int,
    conns: dict[int, Conn],
    writer: Conn,
    engine: sa.Engine,
    target: tuple[int, float, float, str],
    timeout: float,
    feed: FeedWatch | None = None,
    feed_results: list[float | None] | None = None,
) -> dict[int, float | None]:
    station_id, lon, lat, token = target
    if kind == "price":
        price = f"{6 + (n % 300) / 100:.2f}"
        put_price(writer, station_id, token, "92", price)
        since = time.monotonic()

        def shows(answer: Any) -> bool:
            item = _item(answer, station_id)
            return item is not None and item["prices"].get("92", {}).get("pump") == price

        seen = wait_visible(conns, _near(lon, lat), shows, since, timeout)
        if feed is not None and feed_results is not None:
            feed_results.append(feed.wait(sorted(conns), station_id, price, since, timeout))
        return seen
    if kind == "status":
        status = "temporarily_closed" if n % 2 == 0 else "open"
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE stations SET status = :s WHERE id = :id"), {"s": status, "id": station_id}
            )
        since = time.monotonic()

        def shows(answer: Any) -> bool:
            item = _item(answer, station_id)
            return item is not None and item["status"] == status

        return wait_visible(conns, _near(lon, lat), shows, since, timeout)
    seq = time.time_ns() // 1_000
    event = {
        "station_id": station_id,
        "position": 1,
        "nozzle": 1,
        "state": "offline",
        "seq": seq,
        "ts": datetime.now(UTC).isoformat(),
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    code, answer = writer.request("POST", "/v1/occupancy/events", orjson.dumps([event]), headers)
    if code != 200 or answer["accepted"] != 1:
        raise RuntimeError(f"forecourt event for {station_id}: {code} {answer}")
    since = time.monotonic()

    def shows_offline(body: Any) -> bool:
        first = next((p for p in body["positions"] if p["number"] == 1), None)
        return first is not None and (first["status"] == "offline" or first["nozzle_state"] == "offline")

    return wait_visible(conns, f"/v1/stations/{station_id}/occupancy", shows_offline, since, timeout)


def _summary(values: list[float | None]) -> dict[str, Any]:
    got = np.array([v for v in values if v is not None])
    misses = sum(v is None for v in values)
    if not len(got):
        return {"probes": len(values), "missed": misses}
    return {
        "probes": len(values),
        "missed": misses,
        "p50_s": round(float(np.percentile(got, 50)), 4),
        "p99_s": round(float(np.percentile(got, 99)), 4),
        "max_s": round(float(got.max()), 4),
        "pass": misses == 0 and float(np.percentile(got, 99)) < TARGET_P99_S,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = f"{args.database_prefix}{bench_db.size_label(args.stations)}"
    url = bench_db.database_url(args.database_url_base, name)
    created = bench_db.ensure_database(args.database_url_base, name)
    say(f"{name}: {'created' if created else 'exists'}; migrating")
    bench_db.migrate(url)
    say(f"{name}: loading the demo network of {args.stations:,} stations unless it holds one already")
    bench_db.load_demo_network(url, args.stations)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        rows = conn.execute(_STATIONS, {"seed": str(args.seed), "n": args.writers + 100}).all()
    if len(rows) < args.writers + 10:
        raise SystemExit(f"{name}: only {len(rows)} open stations with a nozzle 1 at position 1")
    say(f"issuing credentials for {len(rows)} stations")
    creds = [(int(r[0]), float(r[1]), float(r[2]), issue(engine, int(r[0])).token) for r in rows]
    writers = [(c[0], c[3]) for c in creds[: args.writers]]
    targets = creds[args.writers :]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server = Server("freshness", "api.app:create_app", args.port, OUT_DIR / f"server-freshness-{stamp}.log")
    stop = threading.Event()
    written = [0]
    results: dict[str, list[float | None]] = {k: [] for k in KINDS}
    feed_results: list[float | None] = []
    followers: list[FeedFollower] = []
    feed = None if args.no_feed else FeedWatch()
    key = ""
    if feed is not None:  # the key's scrypt hash is slow: made before the service starts
        account = partners.create_partner(
            engine, f"bench-{stamp}-{args.seed}", rate_per_second=1000, burst=1000, daily_quota=None
        )
        key = partners.create_key(engine, account.partner_id, FEED_SCOPES).token
    try:
        start_server(
            server, {"DATABASE_URL": url}, ("--no-access-log", "--timeout-keep-alive", str(KEEP_ALIVE_S))
        )
        say(f"service ready after {wait_ready(server, 900):.1f} s")
        if feed is not None:
            for pinned_worker, pinned in one_per_worker(args.port, 2).items():
                follower = FeedFollower(
                    "127.0.0.1", args.port, key, wait_s=10, on_item=feed.recorder(pinned_worker)
                )
                follower._conn = pinned.http  # the connection stays with this worker
                if pinned.http.sock is not None:  # a long-poll answers after up to wait_s
                    pinned.http.sock.settimeout(follower.wait_s + 30)
                with engine.connect() as conn:
                    follower.cursor = str(changelog.cursor_at_head(conn))
                followers.append(follower)
                threading.Thread(target=follower.run, args=(stop,), daemon=True).start()
            say(f"partner feed followed by {len(followers)} long-polling clients, one per worker")
        conns = one_per_worker(args.port, 2)
        before = {w: c.get("/readyz")["change_log"] for w, c in conns.items()}
        share = args.rate / args.writer_threads
        counts = [[0] for _ in range(args.writer_threads)]
        via: Any = args.port if args.writer_path == "http" else engine
        target: Any = background_writer if args.writer_path == "http" else background_db_writer
        writer_threads = [
            threading.Thread(target=target, args=(via, writers, share, stop, c, i), daemon=True)
            for i, c in enumerate(counts)
        ]
        for thread in writer_threads:
            thread.start()
        probe_conn = Conn(args.port)
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < args.duration:
            kind = KINDS[n % len(KINDS)]
            seen = probe(
                kind,
                n,
                conns,
                probe_conn,
                engine,
                targets[n % len(targets)],
                args.timeout,
                feed,
                feed_results,
            )
            worst = None if None in seen.values() else max(v for v in seen.values() if v is not None)
            results[kind].append(worst)
            n += 1
            if n % 15 == 0:
                total = sum(c[0] for c in counts)
                say(
                    f"{n} probes, {total:,} background price changes "
                    f"({total / (time.monotonic() - started):.0f}/s)"
                )
            time.sleep(max(0.0, started + n - time.monotonic()))
        elapsed = time.monotonic() - started
        stop.set()
        for thread in writer_threads:
            thread.join(timeout=10)
        written[0] = sum(c[0] for c in counts)
        after = {w: c.get("/readyz")["change_log"] for w, c in conns.items()}
    finally:
        stop.set()
        stop_server(server)
    applying = {
        str(w): {
            "changes": after[w]["applied_changes"] - before[w]["applied_changes"],
            "fetch_s": round(after[w]["fetch_seconds"] - before[w]["fetch_seconds"], 3),
            "apply_s": round(after[w]["apply_seconds"] - before[w]["apply_seconds"], 3),
            "reloads": after[w]["reloads"] - before[w]["reloads"],
        }
        for w in after
    }
    report = {
        "started": stamp,
        "stations": args.stations,
        "duration_s": round(elapsed, 1),
        "background_changes": written[0],
        "background_rate": round(written[0] / elapsed, 1),
        "background_path": args.writer_path,
        "background_failed": len(FAILED),
        "background_failures": sorted(set(FAILED))[:5],
        "kinds": {k: _summary(v) for k, v in results.items()}
        | ({"feed": _summary(feed_results)} if feed is not None else {}),
        "feed_lag": lag_summary([lag for f in followers for lag in f.lags]),
        "feed_pages": sum(f.pages for f in followers),
        "workers": applying,
        "repinned_connections": sum(c.repins for c in conns.values()),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"freshness-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n== {args.stations:,} stations, {report['background_rate']}/s background price changes, "
        f"{elapsed:.0f} s =="
    )
    if FAILED:
        print(f"{len(FAILED)} background writes failed, e.g. {FAILED[0]}")
    for kind, k in report["kinds"].items():
        figures = f"p50 {k.get('p50_s', '-')} s, p99 {k.get('p99_s', '-')} s, max {k.get('max_s', '-')} s"
        verdict = "PASS" if k.get("pass") else "FAIL"
        print(f"{kind:<7} probes {k['probes']:>3}, missed {k['missed']}, {figures}: {verdict}")
    if feed is not None:
        lag = report["feed_lag"]
        print(
            f"feed lag (commit to receipt, all {lag.get('items', 0):,} items on both workers): "
            f"p50 {lag.get('p50_s', '-')} s, p99 {lag.get('p99_s', '-')} s, max {lag.get('max_s', '-')} s"
        )
    for worker, a in applying.items():
        share = (a["fetch_s"] + a["apply_s"]) / elapsed
        print(
            f"worker {worker}: {a['changes']:,} changes applied, fetch {a['fetch_s']} s + apply "
            f"{a['apply_s']} s ({share:.1%} of the run), reloads {a['reloads']}"
        )
    say(f"results in {out.relative_to(ROOT)}")
    return 0 if all(s.get("pass") for s in report["kinds"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
