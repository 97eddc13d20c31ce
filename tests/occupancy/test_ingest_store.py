"""Storing batches in PostgreSQL: late events against their stored neighbours, duplicates, reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Engine, text

from occupancy.ingest import IngestResult, ingest_batch
from occupancy.layouts import LayoutCache
from occupancy.parse import parse_batch
from tests.occupancy.support import forecourt_station
from tests.support import insert_records

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _ev(
    sid: int, seq: int, state: str, minutes: float, position: int = 1, nozzle: int = 1
) -> dict[str, object]:
    ts = (T0 + timedelta(minutes=minutes)).isoformat()
    return {"station_id": sid, "position": position, "nozzle": nozzle, "state": state, "seq": seq, "ts": ts}


def _post(engine: Engine, sid: int, items: list[dict[str, object]]) -> IngestResult:
    batch = parse_batch(orjson.dumps(items), False, 1000)
    with engine.begin() as conn:
        return ingest_batch(conn, sid, LayoutCache().get(conn, sid), batch, T0 + timedelta(hours=1))


def test_late_events_must_fit_between_their_stored_neighbours(engine: Engine) -> None:
    (sid,) = insert_records(engine, [forecourt_station()])
    first = _post(
        engine, sid, [_ev(sid, 1, "calling", 0), _ev(sid, 2, "authorized", 1), _ev(sid, 5, "idle", 9)]
    )
    assert first.accepted == 3 and [e.seq for _, e in first.events] == [1, 2, 5]
    late = _post(
        engine,
        sid,
        [
            _ev(sid, 4, "idle", 8),  # 0: authorized(2) .. idle(4) spans a gap; idle(4) -> idle(5) is a repeat
            _ev(sid, 3, "fueling", 10),  # 1: after seq 4's time (and 5's)
            _ev(sid, 3, "completed", 5),  # 2: authorized(2) -> completed(3) is not a transition
            _ev(sid, 2, "authorized", 1),  # 3: the stored seq 2 again
            _ev(sid, 2, "fueling", 1),  # 4: seq 2 with other content
            _ev(sid, 6, "calling", 10),
            _ev(sid, 6, "calling", 10),  # 5, 6: the same event twice in one batch
        ],
    )
    assert [(r.index, r.code) for r in late.rejects] == [
        (1, "ts_order"),
        (2, "impossible_transition"),
        (4, "seq_conflict"),
    ]
    assert (late.accepted, late.duplicates) == (2, 2)
    with engine.connect() as conn:
        head = conn.execute(
            text("SELECT seq, state FROM nozzle_heads WHERE station_id = :s"), {"s": sid}
        ).one()
        stored = conn.execute(text("SELECT seq FROM occupancy_events ORDER BY seq")).scalars().all()
    assert tuple(head) == (6, "calling") and stored == [1, 2, 4, 5, 6]
    blocked = _post(engine, sid, [_ev(sid, 3, "fueling", 4)])  # fueling(3) -> stored idle(4) is impossible
    assert [r.code for r in blocked.rejects] == ["impossible_transition"]
    fill = _post(engine, sid, [_ev(sid, 3, "authorized", 4)])  # authorized(2) -> (3) -> idle(4) fits
    assert fill.accepted == 1 and not fill.rejects


def test_waiting_reports_are_stored_once(engine: Engine) -> None:
    (sid,) = insert_records(engine, [forecourt_station()])
    report = {"station_id": sid, "waiting_vehicles": 3, "ts": T0.isoformat()}
    assert _post(engine, sid, [report, report]).accepted == 1
    again = _post(
        engine, sid, [report, {**report, "waiting_vehicles": 4}, {**report, "waiting_vehicles": 501}]
    )
    assert again.duplicates == 1 and [(r.index, r.code) for r in again.rejects] == [
        (1, "report_conflict"),
        (2, "invalid_field"),
    ]


def test_an_unknown_station_is_refused_item_by_item(engine: Engine) -> None:
    result = _post(engine, 4242, [_ev(4242, 1, "calling", 0)])
    assert result.accepted == 0 and [r.code for r in result.rejects] == ["unknown_station"]
