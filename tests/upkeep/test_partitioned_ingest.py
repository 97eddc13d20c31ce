"""Exactly-once ingest on the partitioned table: the unique key now holds ts, so a repeated seq with another
ts (possibly another day's partition) must still be found by the ingest itself; the tail's reads stay
index scans and prune old partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, text

from occupancy.feed import TABLES
from occupancy.ingest import IngestResult, ingest_batch
from occupancy.layouts import LayoutCache
from occupancy.parse import parse_batch
from tests.occupancy.support import forecourt_station
from tests.support import insert_records
from upkeep.partitions import maintain, partition_of

MIDNIGHT = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 00:00 on 3 December in Beijing
FIFTEEN = timedelta(days=15)


def _ev(sid: int, seq: int, state: str, seconds: float) -> dict[str, object]:
    ts = (MIDNIGHT + timedelta(seconds=seconds)).isoformat()
    return {"station_id": sid, "position": 1, "nozzle": 1, "state": state, "seq": seq, "ts": ts}


def _post(
    engine: Engine, sid: int, items: list[dict[str, object]], now: datetime = MIDNIGHT + timedelta(hours=1)
) -> IngestResult:
    batch = parse_batch(orjson.dumps(items), False, 1000)
    with engine.begin() as conn:
        layout = LayoutCache().get(conn, sid)
        return ingest_batch(conn, sid, layout, batch, now, oldest=now - FIFTEEN)


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, state, tableoid::regclass::text FROM occupancy_events ORDER BY seq")
        )
        return [tuple(r) for r in rows]


def test_a_repeated_event_is_a_duplicate_and_another_ts_a_conflict_across_days(clean: Engine) -> None:
    maintain(clean, "occupancy_events", MIDNIGHT - timedelta(hours=1), retention=FIFTEEN, ahead_days=1)
    (sid,) = insert_records(clean, [forecourt_station()])
    first = _post(clean, sid, [_ev(sid, 1, "calling", -2), _ev(sid, 2, "authorized", -1)])  # 2 Dec
    second = _post(clean, sid, [_ev(sid, 3, "fueling", 1), _ev(sid, 4, "completed", 60)])  # 3 Dec
    assert (first.accepted, second.accepted) == (2, 2)
    again = _post(
        clean,
        sid,
        [
            _ev(sid, 1, "calling", -2),  # 0: stored on 2 December: a duplicate (late path)
            _ev(sid, 4, "completed", 60),  # 1: the head again: a duplicate
            _ev(sid, 2, "authorized", 5),  # 2: seq 2 with a ts of 3 December (another partition)
            _ev(sid, 3, "fueling", -5),  # 3: seq 3 (3 December) with a ts of 2 December
            _ev(sid, 4, "completed", 61),  # 4: the head's seq with another ts, same day
        ],
    )
    assert (again.accepted, again.duplicates) == (0, 2)
    assert [(r.index, r.code) for r in again.rejects] == [
        (2, "seq_conflict"),
        (3, "seq_conflict"),
        (4, "seq_conflict"),
    ]
    assert _stored(clean) == [
        (1, "calling", "occupancy_events_p20261202"),
        (2, "authorized", "occupancy_events_p20261202"),
        (3, "fueling", "occupancy_events_p20261203"),
        (4, "completed", "occupancy_events_p20261203"),
    ]


def test_events_without_their_day_partition_go_to_default_and_stay_exactly_once(clean: Engine) -> None:
    (sid,) = insert_records(clean, [forecourt_station()])
    assert _post(clean, sid, [_ev(sid, 1, "calling", 0), _ev(sid, 2, "authorized", 1)]).accepted == 2
    changes = maintain(clean, "occupancy_events", MIDNIGHT, retention=FIFTEEN, ahead_days=0)
    assert changes.created[-1] == "occupancy_events_p20261203" and changes.moved_rows == 2
    again = _post(clean, sid, [_ev(sid, 1, "calling", 0), _ev(sid, 1, "authorized", 0)])
    assert (again.accepted, again.duplicates, [r.code for r in again.rejects]) == (0, 1, ["seq_conflict"])
    with clean.connect() as conn:
        ids = conn.execute(text("SELECT id FROM occupancy_events")).scalars().all()
        assert set(partition_of(conn, "occupancy_events", ids).values()) == {"occupancy_events_p20261203"}


def test_an_event_older_than_the_retention_is_refused_not_stored_again(clean: Engine) -> None:
    maintain(clean, "occupancy_events", MIDNIGHT, retention=FIFTEEN, ahead_days=0)
    (sid,) = insert_records(clean, [forecourt_station()])
    items = [_ev(sid, 1, "calling", 0), _ev(sid, 2, "authorized", 1), _ev(sid, 3, "fueling", 2)]
    assert _post(clean, sid, items).accepted == 3
    later = MIDNIGHT + timedelta(days=16)
    assert (
        "occupancy_events_p20261203"
        in maintain(clean, "occupancy_events", later, retention=FIFTEEN, ahead_days=0).dropped
    )
    # Its day is gone (nothing left to tell a repeat from a new event): refused, never counted again.
    again = _post(clean, sid, [_ev(sid, 2, "authorized", 1), _ev(sid, 4, "completed", 3)], now=later)
    assert again.accepted == 0 and [r.code for r in again.rejects] == ["expired_ts", "expired_ts"]
    assert _stored(clean) == []


def _plan(engine: Engine, sql: str, params: dict[str, Any]) -> str:
    with engine.connect() as conn:
        rows = conn.execute(text(f"EXPLAIN (COSTS OFF) {sql}"), params).scalars().all()
    return "\n".join(rows)


def test_the_tail_reads_by_index_and_skips_old_partitions(clean: Engine) -> None:
    start = MIDNIGHT - timedelta(days=3)
    maintain(clean, "occupancy_events", start, retention=FIFTEEN, ahead_days=3)
    (sid,) = insert_records(clean, [forecourt_station()])
    with clean.begin() as conn:  # 3 days of one event every 10 s on one nozzle: ~26,000 rows
        conn.execute(
            text(
                "INSERT INTO occupancy_events (station_id, position, nozzle, seq, state, ts) "
                "SELECT :s, 1, 1, n, 'idle', CAST(:start AS timestamptz) + n * interval '10 seconds' "
                "FROM generate_series(1, 25920) AS n"
            ),
            {"s": sid, "start": start},
        )
        conn.execute(text("ANALYZE occupancy_events"))
    events = TABLES[0]
    after = _plan(clean, events.after.text, {"last": 25_000, "limit": 50_000})
    # Each day holding rows is read through its (id, ts) key from `last` on, never scanned whole (the
    # empty ones may be: nothing to read); only the rows found are sorted.
    for day in ("20261130", "20261201", "20261202"):
        key = f"occupancy_events_p{day}_pkey"
        assert f"Index Scan using {key}" in after or f"Bitmap Index Scan on {key}" in after, after
        assert f"Seq Scan on occupancy_events_p{day}" not in after, after
    since = _plan(clean, events.since.text, {"cutoff": MIDNIGHT - timedelta(hours=1)})
    # Only 2 December (from 23:00) and the days after it are read.
    assert "occupancy_events_p20261130" not in since and "occupancy_events_p20261201" not in since
    assert "occupancy_events_p20261202" in since
