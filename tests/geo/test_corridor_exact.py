"""The H3 corridor search gives exactly the brute-force answer (every station against every piece of the
route): same stations, same order, bit-identical distances; and the route geometry is the ellipsoid's."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.corridor import CorridorMatches, CorridorQuery, brute_force, corridor_stations
from geo.errors import InvalidRoute, InvalidSearch
from geo.grades import GRADE_BITS
from geo.live_index import compute_open_state
from geo.route import MAX_VERTICES, PIECE_M, build_route
from geo.snapshot import build_snapshot
from tests.geo.synthetic import CENTRES, rows

SNAP = build_snapshot(rows(6000, seed=5), version=1)
OPEN = compute_open_state(SNAP, datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
GEOD = Geod(ellps="WGS84")


def assert_same(got: CorridorMatches, want: CorridorMatches) -> None:
    assert SNAP.ids[got.positions].tolist() == SNAP.ids[want.positions].tolist()
    assert got.along_m.tolist() == want.along_m.tolist()
    assert got.off_route_m.tolist() == want.off_route_m.tolist()


walks = st.tuples(
    st.sampled_from(CENTRES),
    st.lists(st.tuples(st.floats(-0.08, 0.08), st.floats(-0.08, 0.08)), min_size=1, max_size=40),
    st.floats(1.0, 5000.0),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks)
def test_random_routes_match_brute_force(
    walk: tuple[tuple[float, float], list[tuple[float, float]], float],
) -> None:
    (lon0, lat0), steps, corridor = walk
    lons = lon0 + np.cumsum([0.0] + [s[0] for s in steps])
    lats = lat0 + np.cumsum([0.0] + [s[1] for s in steps])
    try:
        route = build_route(lons, lats)
    except InvalidRoute:  # every step was zero
        return
    query = CorridorQuery(route, corridor)
    assert_same(corridor_stations(SNAP, query), brute_force(SNAP, query))


winding = st.tuples(
    st.sampled_from(CENTRES),
    st.floats(0.0, 360.0),
    st.lists(st.tuples(st.floats(-180.0, 180.0), st.floats(30.0, 400.0)), min_size=8, max_size=400),
    st.floats(1.0, 5000.0),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(winding)
def test_winding_routes_with_short_pieces_match_brute_force(
    walk: tuple[tuple[float, float], float, list[tuple[float, float]], float],
) -> None:
    """A vertex every 30-400 m turning by up to 180 degrees (a mountain road, hairpins, a road driven
    back): many pieces of several groups lie within the corridor of one station, and only the nearest
    decide its answer."""
    (lon0, lat0), heading, turns, corridor = walk
    lons, lats = [lon0], [lat0]
    for turn, step in turns:
        heading += turn
        lon, lat, _ = GEOD.fwd(lons[-1], lats[-1], heading, step)
        lons.append(lon)
        lats.append(lat)
    query = CorridorQuery(build_route(np.array(lons), np.array(lats)), corridor)
    assert_same(corridor_stations(SNAP, query), brute_force(SNAP, query))


def test_a_road_driven_back_on_short_pieces_ties_across_groups() -> None:
    """Out 6 km east and back on the same road, a vertex every 150 m: stations beside it are as near to
    both legs (pieces of groups far apart along the route); each takes the earliest, as the full scan."""
    lon0, lat0 = 102.7, 25.0
    out = [GEOD.fwd(lon0, lat0, 90.0, 150.0 * i)[:2] for i in range(41)]
    there_and_back = out + out[-2::-1]
    route = build_route(np.array([p[0] for p in there_and_back]), np.array([p[1] for p in there_and_back]))
    stations = [
        _row(
            i + 1, *GEOD.fwd(*GEOD.fwd(lon0, lat0, 90.0, 37.0 * i)[:2], 0.0 if i % 2 else 180.0, 11.0 * i)[:2]
        )
        for i in range(160)
    ]
    snap = build_snapshot(stations, version=1)
    query = CorridorQuery(route, 900.0)
    found, want = corridor_stations(snap, query), brute_force(snap, query)
    assert len(found.positions) == 82  # 900 m off the road at most: i <= 81
    assert (found.along_m < 6_000.5).all()  # all on the way out
    assert snap.ids[found.positions].tolist() == snap.ids[want.positions].tolist()
    assert found.along_m.tolist() == want.along_m.tolist()
    assert found.off_route_m.tolist() == want.off_route_m.tolist()


@pytest.mark.parametrize(
    "filters",
    [
        {"grade_bit": GRADE_BITS["0"]},
        {"brands": ("shell",)},
        {"brands": ("shell", "sinopec")},
        {"open_now": True},
        {"grade_bit": GRADE_BITS["92"], "open_now": True},
    ],
)
def test_filters_match_brute_force(filters: dict[str, object]) -> None:
    lon0, lat0 = CENTRES[1]
    route = build_route(np.array([lon0 - 0.3, lon0, lon0 + 0.2]), np.array([lat0 - 0.1, lat0, lat0 + 0.25]))
    query = CorridorQuery(route, 3000.0, **filters)  # type: ignore[arg-type]
    got = corridor_stations(SNAP, query, OPEN)
    assert len(got.positions) > 10
    assert_same(got, brute_force(SNAP, query, OPEN))


def test_a_long_straight_segment_follows_the_ellipsoid() -> None:
    """One 330 km segment: cut into pieces lifted to the surface, so a point's distance off the route is
    the geodesic one (pyproj: the geodesic from the nearest point, perpendicular to the route)."""
    route = build_route(np.array([102.7, 100.2]), np.array([25.0, 25.6]))
    assert len(route) == int(np.ceil(route.total_m / PIECE_M))
    length = GEOD.inv(102.7, 25.0, 100.2, 25.6)[2]
    assert route.total_m == pytest.approx(length, abs=1.0)
    for fraction, off in ((0.3, 1200.0), (0.5, 4800.0), (0.77, 35.0)):
        lon, lat = _along(fraction)
        az = GEOD.inv(lon, lat, 100.2, 25.6)[0]
        slon, slat, _ = GEOD.fwd(lon, lat, az + 90.0, off)
        snap = build_snapshot([_row(1, slon, slat)], version=1)
        found = brute_force(snap, CorridorQuery(route, 5000.0))
        assert found.off_route_m[0] == pytest.approx(off, abs=0.05)
        assert found.along_m[0] == pytest.approx(fraction * length, abs=0.5)


def _along(fraction: float) -> tuple[float, float]:
    az, _, length = GEOD.inv(102.7, 25.0, 100.2, 25.6)
    lon, lat, _ = GEOD.fwd(102.7, 25.0, az, fraction * length)
    return lon, lat


def _row(station_id: int, lon: float, lat: float) -> dict[str, object]:
    from geo.cells import cells_of

    c = cells_of(lon, lat)
    return {
        "id": station_id,
        "lon": lon,
        "lat": lat,
        "h3_r5": c[5],
        "h3_r7": c[7],
        "name": "s",
        "brand": "sinopec",
        "address": "",
        "grades": ["92"],
        "status": "open",
        "opening_hours": None,
        "timezone": "Asia/Shanghai",
    }


def test_a_hairpin_takes_the_earliest_of_equally_near_points() -> None:
    """Out 10 km east and back on the same road: a station beside it is as near to both legs."""
    lon0, lat0 = 102.7, 25.0
    east, north, _ = GEOD.fwd(lon0, lat0, 90.0, 10_000.0)
    route = build_route(np.array([lon0, east, lon0]), np.array([lat0, north, lat0]))
    lon, lat, back = GEOD.fwd(lon0, lat0, 90.0, 4_000.0)
    slon, slat, _ = GEOD.fwd(lon, lat, back - 180.0 - 90.0, 300.0)  # perpendicular, to the north
    snap = build_snapshot([_row(1, slon, slat)], version=1)
    query = CorridorQuery(route, 500.0)
    found = corridor_stations(snap, query)
    assert found.along_m.tolist() == pytest.approx([4_000.0], abs=0.5)  # not 16 km, the way back
    assert found.off_route_m.tolist() == pytest.approx([300.0], abs=0.05)
    want = brute_force(snap, query)
    assert (found.along_m.tolist(), found.off_route_m.tolist()) == (
        want.along_m.tolist(),
        want.off_route_m.tolist(),
    )


def test_a_nearer_second_pass_wins() -> None:
    """Back on a parallel road 100 m north: a station north of both is nearer the way back."""
    lon0, lat0 = 102.7, 25.0
    east, _, _ = GEOD.fwd(lon0, lat0, 90.0, 10_000.0)
    north = GEOD.fwd(lon0, lat0, 0.0, 100.0)[1]
    route = build_route(np.array([lon0, east, east, lon0]), np.array([lat0, lat0, north, north]))
    slon, slat, _ = GEOD.fwd(*GEOD.fwd(lon0, lat0, 90.0, 3_000.0)[:2], 0.0, 250.0)
    snap = build_snapshot([_row(1, slon, slat)], version=1)
    found = corridor_stations(snap, CorridorQuery(route, 500.0))
    assert found.off_route_m.tolist() == pytest.approx([150.0], abs=2.0)  # parallels, not geodesics
    assert found.along_m[0] == pytest.approx(10_000 + 100 + 7_000, abs=2.0)


@pytest.mark.parametrize(
    ("lons", "lats", "message"),
    [
        ([102.7], [25.0], "two distinct points"),
        ([102.7, 102.7], [25.0, 25.0], "two distinct points"),
        ([102.7, 116.4], [25.0, 39.9], "at most 1000 km"),
        ([102.7, 200.0], [25.0, 25.0], "longitudes"),
        ([102.7, float("nan")], [25.0, 25.0], "finite"),
    ],
)
def test_routes_that_cannot_be_searched(lons: list[float], lats: list[float], message: str) -> None:
    with pytest.raises(InvalidRoute, match=message):
        build_route(np.array(lons), np.array(lats))


def test_too_many_vertices() -> None:
    n = MAX_VERTICES + 1
    with pytest.raises(InvalidRoute, match="vertices"):
        build_route(np.linspace(102.0, 102.1, n), np.full(n, 25.0))


@pytest.mark.parametrize("corridor", [0.0, -1.0, 5000.1])
def test_corridor_bounds(corridor: float) -> None:
    route = build_route(np.array([102.7, 102.8]), np.array([25.0, 25.0]))
    with pytest.raises(InvalidSearch):
        CorridorQuery(route, corridor)
