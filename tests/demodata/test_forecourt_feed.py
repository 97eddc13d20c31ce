"""The SYNTHETIC forecourt feed's backfill, through the real app over HTTP."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine

from demodata.forecourt_feed import Poster, backfill, cst_midnight, prepare, simulate_day
from demodata.generator import SOURCE
from geo.records import StationRecord
from occupancy.wire import rfc3339
from tests.support import LiveServer, insert_records

# The server's clock: a Tuesday morning in Kunming. Each simulated day is seeded by (station, day), so the
# backfill of the three hours before it (the morning peak) is the same items on every run.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _demo(k: int, lon: float, lat: float) -> StationRecord:
    return StationRecord(
        name=f"演示加油站{k}",
        brand="sinopec",
        lon=lon,
        lat=lat,
        positions=(("92", "95"), ("92", "95", "98"), ("0", "92")),
        identifiers=((SOURCE, f"feed-test-{k}"),),
    )


def test_backfill_is_accepted_and_the_wait_is_live(server: LiveServer, engine: Engine) -> None:
    ids = insert_records(
        engine,
        [
            _demo(1, 102.84, 24.88),
            _demo(2, 112.55, 37.88),
            StationRecord(name="not demo", brand="x", lon=102.83, lat=24.88, positions=(("92",),)),
        ],
    )
    server.wait_for_catalogue()
    stations = prepare(engine, 2)
    assert [s.spec.station_id for s in stations] == ids[:2]  # demo stations only, one per centre
    server.clock.set(MORNING)
    until = MORNING.timestamp() - 60
    since = until - 3 * 3600
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        counts = backfill(Poster(client, threading.Event()), stations, since, until)
    assert counts.posted > 100
    assert counts.rejected == 0 and counts.failures == 0
    assert counts.accepted + counts.duplicates == counts.posted

    spec = stations[0].spec
    posted = [
        d.item.ts
        for m in {cst_midnight(since), cst_midnight(until)}
        for d in simulate_day(spec, m)
        if d.item.ts >= since and d.at <= until
    ]
    last = max(posted)
    response = server.get(f"/v1/stations/{spec.station_id}/wait", grade="92", as_of=rfc3339(last))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stale"] is False
    assert body["basis"] in ("reported_queue", "inferred_queue")
