"""Nearby over real HTTP equals the PostGIS brute-force scan, on synthetic clusters and on France."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from geo.records import StationRecord
from tests.api.oracle import assert_same_answer, scan
from tests.geo.synthetic import CENTRES, rows
from tests.ingest.support import ingest
from tests.support import LiveServer, insert_records


@pytest.fixture
def clusters(engine: Engine, server: LiveServer) -> LiveServer:
    records = [
        StationRecord(name=r["name"], brand=r["brand"], lon=r["lon"], lat=r["lat"], grades=tuple(r["grades"]))
        for r in rows(3000, seed=11)
    ]
    insert_records(engine, records)
    server.wait_for_catalogue()
    return server


def test_random_points_and_radii_match_the_scan(clusters: LiveServer) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        centre=st.sampled_from(CENTRES),
        dx=st.floats(-0.4, 0.4),
        dy=st.floats(-0.4, 0.4),
        radius=st.floats(50, 50_000),
        limit=st.integers(1, 100),
    )
    def check(centre: tuple[float, float], dx: float, dy: float, radius: float, limit: int) -> None:
        lon, lat = centre[0] + dx, centre[1] + dy
        response = clusters.get("/v1/stations/nearby", lon=lon, lat=lat, radius_m=radius, limit=limit)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["coord"] == "wgs84"
        assert_same_answer(body["items"], scan(clusters.engine, lon, lat, radius, limit), radius)

    check()


def test_french_national_list_200_points(
    engine: Engine, server: LiveServer, shared_data: Path, tmp_path: Path
) -> None:
    summary = ingest(
        engine, "fr", shared_data / "fr-prix-carburants-20221012" / "stations.csv", tmp_path / "r"
    )
    assert summary.counts.inserted > 13_000
    server.wait_for_catalogue()
    with engine.connect() as conn:
        from sqlalchemy import text

        stations = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM stations ORDER BY id")).all()
    rng = random.Random(2026)
    for _ in range(200):
        lon0, lat0 = stations[rng.randrange(len(stations))]
        lon, lat = lon0 + rng.uniform(-0.05, 0.05), lat0 + rng.uniform(-0.05, 0.05)
        radius = rng.choice([500.0, 2_000.0, 5_000.0, 20_000.0, 50_000.0])
        limit = rng.choice([1, 5, 20, 100])
        response = server.get("/v1/stations/nearby", lon=lon, lat=lat, radius_m=radius, limit=limit)
        assert response.status_code == 200, response.text
        assert_same_answer(response.json()["items"], scan(engine, lon, lat, radius, limit), radius)
