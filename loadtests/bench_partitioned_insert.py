"""The ingest's INSERT on a plain occupancy table (migration 0006's keys) against the day-partitioned one
(migration 0011), interleaved in one run so that both see the same machine.

    python -m loadtests.bench_partitioned_insert --rounds 40 --batch 500

A throwaway database bench_partitioned_insert is (re)created and migrated, with a few demo stations, the
day partitions of the default retention (upkeep) and a plain copy `ab_plain` keyed as before partitioning.
Each round posts one batch of `--batch` new events (seq increasing per nozzle, ts now) to each table in
turn with the ingest's statement (occupancy/sql/insert_events.sql, its conflict target adapted to the
table's key), one transaction each, and times it. Prints the median and p90 per event of both.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from db.engine import make_engine
from loadtests import bench_db
from upkeep.partitions import maintain

INSERT = (Path(__file__).resolve().parent.parent / "occupancy" / "sql" / "insert_events.sql").read_text()
PLAIN = """
CREATE TABLE ab_plain (LIKE occupancy_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ab_plain ALTER COLUMN id SET DEFAULT nextval('ab_plain_id_seq');
ALTER TABLE ab_plain ADD PRIMARY KEY (id);
ALTER TABLE ab_plain ADD UNIQUE (station_id, position, nozzle, seq);
CREATE INDEX ON ab_plain (station_id, ts);
ALTER TABLE ab_plain ADD FOREIGN KEY (station_id) REFERENCES stations (id) ON DELETE CASCADE
"""


def _arrays(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _batch(station_id: int, start_seq: int, size: int, now: datetime) -> dict[str, object]:
    positions, nozzles, seqs, ts = [], [], [], []
    for k in range(size):
        positions.append(1 + k % 4)
        nozzles.append(1 + (k // 4) % 2)
        seqs.append(start_seq + k // 8)
        ts.append((now + timedelta(milliseconds=k)).isoformat())
    return {
        "station_id": station_id,
        "positions": _arrays(positions),
        "nozzles": _arrays(nozzles),
        "seqs": _arrays(seqs),
        "states": "{" + ",".join(["idle"] * size) + "}",
        "ts": '{"' + '","'.join(ts) + '"}',
    }


def _timed(engine: Engine, statement: str, params: dict[str, object], expect: int) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        stored = len(conn.execute(text(statement), params).all())
    elapsed = time.perf_counter() - started
    assert stored == expect, (stored, expect)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url-base", default="postgresql://stations@127.0.0.1:55432")
    args = parser.parse_args(argv)
    url = bench_db.recreate_database(args.database_url_base, "bench_partitioned_insert")
    bench_db.migrate(url)
    bench_db.load_demo_network(url, 10)
    engine = make_engine(url, pool_size=2)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE SEQUENCE ab_plain_id_seq"))
            for statement in PLAIN.strip().split(";\n"):
                conn.execute(text(statement))
            station_id = int(conn.execute(text("SELECT min(id) FROM stations")).scalar_one())
        changes = maintain(engine, "occupancy_events", now, retention=timedelta(days=15), ahead_days=3)
        print(f"{len(changes.created)} day partitions + DEFAULT; {args.rounds} rounds of {args.batch} events")
        plain = INSERT.replace("INTO occupancy_events", "INTO ab_plain").replace(
            "(station_id, position, nozzle, seq, ts)", "(station_id, position, nozzle, seq)"
        )
        times: dict[str, list[float]] = {"plain": [], "partitioned": []}
        per_round = args.batch // 8 + 1  # seqs per nozzle in one batch
        for r in range(args.rounds):
            params = _batch(station_id, 1 + r * per_round, args.batch, now + timedelta(seconds=r))
            order = [("plain", plain), ("partitioned", INSERT)]
            if r % 2:
                order.reverse()
            for name, statement in order:
                times[name].append(_timed(engine, statement, params, args.batch) / args.batch)
        for name, values in times.items():
            warm = values[len(values) // 4 :]
            print(
                f"{name:>12}: median {statistics.median(warm) * 1e6:.1f} µs/event, "
                f"p90 {statistics.quantiles(warm, n=10)[-1] * 1e6:.1f} µs/event ({len(warm)} warm rounds)"
            )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
