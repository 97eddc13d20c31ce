"""A SYNTHETIC forecourt feed for the demo network: simulated nozzle events posted like real controllers.

    python -m demodata.forecourt_feed [--stations 200] [--api http://127.0.0.1:8000] [--backfill-days 3]

Picks demo stations (identifier source `synthetic-demo`) nearest to a few city centres, issues each a new
credential (tokens stay in memory), simulates each forecourt with demodata.forecourt_sim on the station's own
positions, nozzles and grades, backfills the previous days through POST /v1/occupancy/events in event time
(so the estimator has history), then posts each station's new telemetry every ~2 s until SIGTERM/SIGINT.
Every simulated day is seeded by (station, day) and its seq numbers start at day * 10^6, so a restart over
the same database re-sends identical items (counted as duplicates, never rejected).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine, text

from access.credentials import issue
from db.engine import make_engine
from demodata.cities import CITIES
from demodata.forecourt_sim import Delivery, Peak, StationSpec, simulate
from demodata.generator import SOURCE
from occupancy.events import NozzleEvent, PositionLayout
from occupancy.layouts import load_layouts
from occupancy.wire import NDJSON, ndjson_body

CENTRES = ("昆明", "太原")  # Kunming, Taiyuan (demodata.cities)
DAY_S = 86400.0
CST_OFFSET_S = 8 * 3600.0
SEQ_PER_DAY = 1_000_000
BATCH = 2000
_MIX = {"92": 0.5, "95": 0.32, "98": 0.05, "0": 0.13}

_PICK = text(
    """SELECT s.id FROM stations s WHERE s.status = 'open'
         AND EXISTS (SELECT 1 FROM station_identifiers i WHERE i.station_id = s.id AND i.source = :source)
         AND EXISTS (SELECT 1 FROM fueling_positions p JOIN nozzles n ON n.position_id = p.id
                     WHERE p.station_id = s.id)
       ORDER BY s.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), s.id LIMIT :n"""
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] forecourt feed (SYNTHETIC): {message}", flush=True)


@dataclasses.dataclass(slots=True)
class Counts:
    posted: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failures: int = 0

    def add(self, other: Counts) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return (
            f"{self.posted} items posted: {self.accepted} accepted, {self.duplicates} duplicates, "
            f"{self.rejected} rejected; {self.failures} failed posts"
        )


@dataclasses.dataclass(slots=True)
class FeedStation:
    spec: StationSpec
    token: str
    pending: list[Delivery] = dataclasses.field(default_factory=list)  # by delivery time, not yet posted
    simulated_until: float = 0.0  # end of the last simulated day


def pick_stations(engine: Engine, n: int) -> list[int]:
    """Up to n open demo stations with nozzles, the nearest to each centre in turn (deterministic)."""
    centres = [c for name in CENTRES for c in CITIES if c.name == name]
    per = math.ceil(n / max(len(centres), 1))
    picked: list[int] = []
    with engine.connect() as conn:
        for c in centres:
            rows = conn.execute(_PICK, {"source": SOURCE, "lon": c.lon, "lat": c.lat, "n": per})
            picked.extend(sid for (sid,) in rows if sid not in picked)
    return picked[:n]


def station_spec(station_id: int, positions: Sequence[PositionLayout]) -> StationSpec:
    """Demand per position as in demodata.forecourt_sim.standard_stations (queues at the morning and evening
    peaks), a grade mix of what the station sells; a third of stations count their queue."""
    grades = sorted({g for p in positions for g in p.grades})
    size = len(positions)
    return StationSpec(
        station_id,
        tuple(positions),
        day_rate_per_h=3.5 * size,
        peaks=(Peak(8.0, 0.75, 5.5 * size), Peak(18.0, 1.0, 6.5 * size)),
        grade_mix=tuple((g, _MIX.get(g, 0.08)) for g in grades),
        reports_every_s=60.0 if station_id % 3 == 0 else None,
        heartbeat_s=240.0,
    )


def cst_midnight(ts: float) -> float:
    return (ts + CST_OFFSET_S) // DAY_S * DAY_S - CST_OFFSET_S


def simulate_day(spec: StationSpec, midnight: float) -> list[Delivery]:
    """One local day of the station, seeded by (station, day); items after the day's end are cut."""
    day = int((midnight + CST_OFFSET_S) // DAY_S)
    sim = simulate(spec, 1, seed=spec.station_id * 100_003 + day, start=midnight)
    end = midnight + DAY_S
    offset = day * SEQ_PER_DAY
    return [
        Delivery(
            d.at,
            dataclasses.replace(d.item, seq=d.item.seq + offset)
            if isinstance(d.item, NozzleEvent)
            else d.item,
        )
        for d in sim.deliveries
        if d.item.ts < end
    ]


class Poster:
    """Posts NDJSON batches with a station's credential; transient failures are retried with backoff."""

    def __init__(self, client: httpx.Client, stop: threading.Event, attempts: int = 5) -> None:
        self.client = client
        self.stop = stop
        self.attempts = attempts

    def post(self, station: FeedStation, items: Sequence[Delivery]) -> Counts | None:
        """The counts, or None when the batch could not be delivered (the caller keeps it for later)."""
        body = ndjson_body(d.item for d in items)
        headers = {"Authorization": f"Bearer {station.token}", "Content-Type": NDJSON}
        delay = 0.5
        out = Counts()
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.post("/v1/occupancy/events", content=body, headers=headers)
                if response.status_code == 200:
                    answer = response.json()
                    out.posted += len(items)
                    out.accepted += answer["accepted"]
                    out.duplicates += answer["duplicates"]
                    out.rejected += answer["rejected"]
                    if answer["rejects"]:
                        say(f"station {station.spec.station_id}: first rejects {answer['rejects'][:3]}")
                    return out
                if response.status_code < 500 and response.status_code != 429:
                    say(
                        f"station {station.spec.station_id}: POST refused {response.status_code} "
                        f"{response.text[:300]}; {len(items)} items dropped"
                    )
                    out.failures += 1
                    out.rejected += len(items)
                    return out
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            out.failures += 1
            say(
                f"station {station.spec.station_id}: POST failed ({problem}), "
                f"attempt {attempt}/{self.attempts}; retrying in {delay:.1f} s"
            )
            if self.stop.wait(delay):
                return None
            delay = min(delay * 2, 30.0)
        return None


def prepare(engine: Engine, n: int) -> list[FeedStation]:
    ids = pick_stations(engine, n)
    with engine.connect() as conn:
        layouts = load_layouts(conn, ids)
    return [
        FeedStation(station_spec(sid, list(layouts[sid].values())), issue(engine, sid).token) for sid in ids
    ]


def backfill(
    poster: Poster,
    stations: Sequence[FeedStation],
    since: float,
    until: float,
    workers: int = 3,
    progress: Callable[[int, Counts], None] | None = None,
) -> Counts:
    """Simulate [since, until] (whole local days) and post every item with ts >= since delivered by `until`,
    per station in delivery order; later deliveries stay pending for the live loop."""
    total = Counts()
    lock = threading.Lock()
    done = 0

    def one(station: FeedStation) -> None:
        nonlocal done
        midnight = cst_midnight(since)
        while midnight <= until:
            station.pending.extend(simulate_day(station.spec, midnight))
            midnight += DAY_S
        station.simulated_until = midnight
        station.pending.sort(key=lambda d: d.at)
        due = [d for d in station.pending if d.at <= until and d.item.ts >= since]
        station.pending = [d for d in station.pending if d.at > until]
        counts = Counts()
        for k in range(0, len(due), BATCH):
            if poster.stop.is_set():
                return
            got = poster.post(station, due[k : k + BATCH])
            counts.add(got if got is not None else Counts(failures=1))
        with lock:
            total.add(counts)
            done += 1
            if progress is not None:
                progress(done, total)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, stations))
    return total


def tick(poster: Poster, stations: Sequence[FeedStation], now: float) -> Counts:
    """Post every station's items delivered by `now`; simulate the next day when today's runs out."""
    total = Counts()
    for station in stations:
        if now + 600 >= station.simulated_until:
            station.pending.extend(simulate_day(station.spec, station.simulated_until))
            station.pending.sort(key=lambda d: d.at)
            station.simulated_until += DAY_S
        cut = 0
        while cut < len(station.pending) and station.pending[cut].at <= now:
            cut += 1
        if cut:
            got = poster.post(station, station.pending[:cut])
            if got is None:
                total.failures += 1
                continue  # kept: retried at the next tick
            del station.pending[:cut]
            total.add(got)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('STATIONS_PORT', '8000')}")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--backfill-days", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between live posts")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url or DATABASE_URL is required")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engine = make_engine(args.database_url, pool_size=2)
    try:
        stations = prepare(engine, args.stations)
    finally:
        engine.dispose()
    if not stations:
        say(
            "no synthetic demo stations with nozzles in this database: nothing to feed (waiting for a signal)"
        )
        stop.wait()
        return 0
    say(
        f"{len(stations)} demo stations around {', '.join(CENTRES)}, a new credential each; "
        f"backfilling {args.backfill_days:g} days through {args.api}"
    )
    with httpx.Client(base_url=args.api, timeout=30) as client:
        poster = Poster(client, stop)
        started = time.monotonic()
        now = time.time()

        counts = backfill(
            poster,
            stations,
            now - args.backfill_days * DAY_S,
            now,
            progress=lambda done, c: (
                say(f"backfill {done}/{len(stations)} stations, {c}")
                if done % 20 == 0 or done == len(stations)
                else None
            ),
        )
        say(f"backfill done in {time.monotonic() - started:.0f} s: {counts}")
        minute, minute_start = Counts(), time.monotonic()
        while not stop.wait(args.every):
            minute.add(tick(poster, stations, time.time()))
            if time.monotonic() - minute_start >= 60:
                say(f"last minute: {minute}")
                minute, minute_start = Counts(), time.monotonic()
    say(f"stopped; last partial minute: {minute}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
