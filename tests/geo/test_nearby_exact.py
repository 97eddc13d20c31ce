"""The H3 ring search gives exactly the full scan's answer: same stations, same order."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import cells
from geo.errors import InvalidSearch
from geo.grades import GRADE_BITS
from geo.live_index import compute_open_state
from geo.nearby import NearbyQuery, brute_force, decode_cursor, nearest_stations
from geo.services import service_mask
from geo.snapshot import Snapshot, build_snapshot
from tests.geo.synthetic import CENTRES, rows

SNAP = build_snapshot(rows(6000, seed=7), version=1)
OPEN = compute_open_state(SNAP, datetime(2026, 11, 23, 3, 0, tzinfo=UTC))  # Monday 11:00 in Shanghai


def assert_same(snap: Snapshot, query: NearbyQuery) -> None:
    got = nearest_stations(snap, query, OPEN)
    want = brute_force(snap, query, OPEN)
    assert snap.ids[got.positions].tolist() == snap.ids[want.positions].tolist()
    np.testing.assert_allclose(got.distances_m(), want.distances_m(), atol=1e-6)
    assert got.next_cursor == want.next_cursor


points = st.one_of(
    st.tuples(st.sampled_from(CENTRES), st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)).map(
        lambda t: (t[0][0] + t[1], t[0][1] + t[2])
    ),
    st.tuples(st.floats(75, 130), st.floats(20, 50)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    point=points,
    radius=st.floats(10, 50_000),
    limit=st.integers(1, 100),
    grade=st.sampled_from([None, "92", "0", "CNG", "98"]),
    brands=st.sampled_from([(), ("sinopec",), ("shell", "petrochina"), ("no-such-brand",)]),
    open_now=st.booleans(),
    services=st.sampled_from([(), ("car_wash",), ("convenience_store", "wifi")]),
    words=st.sampled_from([(), ("人民路",), ("路", "1")]),
    region=st.sampled_from([None, "530100", "云南"]),
)
def test_ring_search_equals_full_scan(
    point: tuple[float, float],
    radius: float,
    limit: int,
    grade: str | None,
    brands: tuple[str, ...],
    open_now: bool,
    services: tuple[str, ...],
    words: tuple[str, ...],
    region: str | None,
) -> None:
    query = NearbyQuery(
        lon=point[0],
        lat=point[1],
        radius_m=radius,
        limit=limit,
        grade_bit=GRADE_BITS[grade] if grade else None,
        brands=brands,
        open_now=open_now,
        services=service_mask(services),
        words=words,
        places=None if region is None else tuple(SNAP.regions.resolve(region).places),
    )
    assert_same(SNAP, query)


@pytest.mark.parametrize("res", [7, 5])
def test_query_points_on_cell_vertices_and_edges(res: int) -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        lon0, lat0 = CENTRES[int(rng.integers(len(CENTRES)))]
        cell = cells.cell_of(lon0 + rng.normal(0, 0.1), lat0 + rng.normal(0, 0.1), res)
        vertices = cells.boundary_of(cell)
        (alon, alat), (blon, blat) = vertices[0], vertices[1]
        for lon, lat in ((alon, alat), ((alon + blon) / 2, (alat + blat) / 2)):
            for radius, limit in ((50_000, 100), (3_000, 20), (800, 5)):
                assert_same(SNAP, NearbyQuery(lon=lon, lat=lat, radius_m=radius, limit=limit))


def test_radius_edge_includes_a_station_exactly_at_the_radius_like_the_full_scan() -> None:
    lon, lat = CENTRES[0]
    full = brute_force(SNAP, NearbyQuery(lon=lon, lat=lat, radius_m=50_000, limit=100))
    for d in full.distances_m()[::7]:
        for radius in (float(d), float(np.nextafter(d, 0)), float(np.nextafter(d, np.inf))):
            assert_same(SNAP, NearbyQuery(lon=lon, lat=lat, radius_m=radius, limit=100))


def test_pages_walk_the_same_order_as_one_long_scan() -> None:
    lon, lat = CENTRES[1]
    everything = brute_force(SNAP, NearbyQuery(lon=lon, lat=lat, radius_m=50_000, limit=100))
    seen: list[int] = []
    after = None
    while True:
        page = nearest_stations(
            SNAP, NearbyQuery(lon=lon, lat=lat, radius_m=50_000, limit=7, after=after), OPEN
        )
        seen.extend(SNAP.ids[page.positions].tolist())
        if page.next_cursor is None:
            break
        after = decode_cursor(page.next_cursor)
        assert len(seen) < 1000
    assert seen[:100] == SNAP.ids[everything.positions].tolist()
    assert len(seen) == len(set(seen))


def test_ties_in_distance_are_ordered_by_id() -> None:
    duplicated = list(rows(6000, seed=7))
    lon, lat = duplicated[10]["lon"], duplicated[10]["lat"]
    extra = [dict(duplicated[10], id=90_000 + k) for k in range(5)]
    snap = build_snapshot(duplicated + extra, version=2)
    page = nearest_stations(snap, NearbyQuery(lon=lon, lat=lat, radius_m=10, limit=6))
    ids = snap.ids[page.positions].tolist()
    assert ids[0] == 11 and ids[1:6] == [90_000 + k for k in range(5)]


@pytest.mark.parametrize(("radius", "limit"), [(0, 10), (50_001, 10), (100, 0), (100, 101)])
def test_out_of_range_parameters_are_refused(radius: float, limit: int) -> None:
    with pytest.raises(InvalidSearch):
        NearbyQuery(lon=100, lat=30, radius_m=radius, limit=limit)


@pytest.mark.parametrize("cursor", ["", "abc", "!!!", "AAAAAAAAAAAAAAAAAAAAAA", "A" * 200])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidSearch):
        decode_cursor(cursor)
