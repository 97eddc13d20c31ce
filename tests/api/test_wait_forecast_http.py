"""The half-hourly wait forecast over real HTTP, from simulated learned days posted as a controller would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import Engine

from demodata.forecourt_sim import HARD_FAULTS, HOLIDAY_RUN_START, holiday_stations, simulate
from geo.records import StationRecord
from loadtests.eval_wait import Service
from occupancy.wire import rfc3339
from tests.occupancy.support import stations_with_tokens
from tests.support import LiveServer

DAY = 86400.0


def test_the_holiday_peak_ahead_is_forecast_busier_than_an_ordinary_one(
    engine: Engine, server: LiveServer
) -> None:
    """Four simulated ordinary days from Monday 21 September 2026 (China time) at a five-position
    station, posted over HTTP; at Thursday 05:00 the 48 hours ahead hold Thursday's morning peak and
    Friday 25's, the Mid-Autumn holiday: Friday's is flagged and forecast busier, the night quieter than
    either, and the as_of given is the one answered."""
    spec = holiday_stations()[2]
    record = StationRecord(
        name="simulated forecourt",
        brand="sim",
        lon=116.3,
        lat=39.9,
        positions=tuple(tuple(g for _, g in sorted(p.nozzle_grades.items())) for p in spec.positions),
    )
    ((sid, token),) = stations_with_tokens(engine, [record])
    server.wait_for_catalogue()
    spec = dataclasses.replace(spec, station_id=sid, holidays=frozenset())
    sim = simulate(spec, 4, seed=11, faults=HARD_FAULTS, start=HOLIDAY_RUN_START)
    as_of = HOLIDAY_RUN_START + 3 * DAY + 5 * 3600.0  # Thursday 24 September, 05:00 in China
    server.clock.set(datetime.fromtimestamp(as_of, UTC))
    items = [d.item for d in sim.deliveries if d.item.ts <= as_of]
    service = Service(server.client, token)
    for k in range(0, len(items), 5000):
        service.post(items[k : k + 5000])
    assert service.rejected == 0 and service.accepted > 20_000

    response = server.get(f"/v1/stations/{sid}/wait/forecast", grade="92", hours=48, as_of=rfc3339(as_of))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["station_id"], body["grade"], body["hours"], body["stale"]) == (sid, "92", 48, False)
    slots = {
        round((datetime.fromisoformat(h["at"]).timestamp() - as_of) / 3600.0, 1): h
        for h in body["half_hours"]
    }
    assert len(slots) == 96 and min(slots) == 0.5 and max(slots) == 48.0
    thursday_peak = max(slots[h]["minutes"] for h in (2.5, 3.0, 3.5))  # 07:30-08:30
    friday_peak = max(slots[h]["minutes"] for h in (26.5, 27.0, 27.5))
    night = slots[18.5]["minutes"]  # Thursday 23:30
    assert not slots[3.0]["holiday"] and slots[27.0]["holiday"] and not slots[18.5]["holiday"]
    assert night < thursday_peak < friday_peak
    assert slots[27.0]["arrival_rate_per_hour"] > 1.5 * slots[3.0]["arrival_rate_per_hour"]
    assert slots[27.0]["p90_minutes"] > slots[3.0]["p90_minutes"]
    for h in body["half_hours"]:
        assert 0 <= h["p10_minutes"] <= h["p90_minutes"]
    # the default as_of is the server's clock: the same instant, the same answer
    assert server.get(f"/v1/stations/{sid}/wait/forecast", grade="92", hours=48).json() == body
