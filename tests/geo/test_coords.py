"""Coordinate systems: published reference values, exact inverses, China-only GCJ-02."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import coords
from geo.coords import CoordSystem
from geo.distance import distance_m
from geo.errors import InvalidCoordinates

# Test vectors printed in the README of wandergis/coordTransform (the reference JS/Python implementation
# used across Chinese map tooling), for the Tian'anmen point (116.404, 39.915).
FORWARD_REFERENCES = [
    (coords.wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
    (coords.gcj02_to_bd09, (116.41036949371029, 39.92133699351021)),
    (coords.wgs84_to_bd09, (116.41662724378733, 39.922699552216216)),
]
# Their inverses are single-step approximations; ours iterate, so they agree to well under a metre.
INVERSE_REFERENCES = [
    (coords.gcj02_to_wgs84, (116.39775550083061, 39.91359571849836)),
    (coords.bd09_to_gcj02, (116.39762729119315, 39.90865673957631)),
]


@pytest.mark.parametrize(("convert", "expected"), FORWARD_REFERENCES)
def test_forward_conversions_match_published_values(convert, expected) -> None:  # type: ignore[no-untyped-def]
    lon, lat = convert(116.404, 39.915)
    assert lon == pytest.approx(expected[0], abs=1e-12)
    assert lat == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize(("convert", "expected"), INVERSE_REFERENCES)
def test_inverse_conversions_agree_with_published_approximations(convert, expected) -> None:  # type: ignore[no-untyped-def]
    lon, lat = convert(116.404, 39.915)
    assert distance_m(lon, lat, *expected) < 0.5


# Mainland points as the rectangle model of China's outline sees them (it is coarse within ~50 km of
# some borders, e.g. Laos/Vietnam; see geo/coords.py).
china = st.tuples(st.floats(98.0, 123.0), st.floats(22.0, 42.0)).filter(lambda p: coords.in_china(*p))


@given(china)
def test_gcj02_round_trip_is_exact(point: tuple[float, float]) -> None:
    lon, lat = point
    assert distance_m(*coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat)), lon, lat) < 0.01
    assert distance_m(*coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat)), lon, lat) < 0.01


@given(china)
def test_bd09_round_trip_is_exact(point: tuple[float, float]) -> None:
    lon, lat = point
    assert distance_m(*coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat)), lon, lat) < 0.01
    assert distance_m(*coords.wgs84_to_bd09(*coords.bd09_to_wgs84(lon, lat)), lon, lat) < 0.01


@given(china)
def test_offsets_are_the_few_hundred_metres_a_wrong_system_costs(point: tuple[float, float]) -> None:
    lon, lat = point
    assert 10 < distance_m(*coords.wgs84_to_gcj02(lon, lat), lon, lat) < 1000  # ~60 m in Qinghai, ~700 m east
    assert 300 < distance_m(*coords.wgs84_to_bd09(lon, lat), lon, lat) < 2000


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(2.3522, 48.8566), (139.6917, 35.6895), (121.5654, 25.0330), (-74.006, 40.7128), (106.9057, 47.8864)],
    ids=["paris", "tokyo", "taipei", "new-york", "ulaanbaatar"],
)
def test_gcj02_is_identity_outside_mainland_china(lon: float, lat: float) -> None:
    assert not coords.in_china(lon, lat)
    assert coords.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert coords.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_vectorised_and_scalar_paths_agree() -> None:
    rng = np.random.default_rng(5)
    lon = rng.uniform(75, 134, 500)
    lat = rng.uniform(18, 53, 500)
    for system in (CoordSystem.GCJ02, CoordSystem.BD09):
        vx, vy = coords.from_wgs84(lon, lat, system)
        back_x, back_y = coords.to_wgs84(vx, vy, system)
        for i in range(0, 500, 25):
            sx, sy = coords.from_wgs84(float(lon[i]), float(lat[i]), system)
            assert (sx, sy) == pytest.approx((vx[i], vy[i]), abs=1e-12)
        assert np.max(np.abs(back_x - lon)) < 1e-8 and np.max(np.abs(back_y - lat)) < 1e-8


@pytest.mark.parametrize("name", ["wgs84", "WGS-84", "gcj02", "GCJ-02", "bd09", "BD-09"])
def test_coordinate_system_names(name: str) -> None:
    assert CoordSystem.parse(name).value == name.lower().replace("-", "")


@pytest.mark.parametrize("name", ["", "epsg4326", "gcj", "mars"])
def test_unknown_coordinate_system_is_refused(name: str) -> None:
    with pytest.raises(InvalidCoordinates):
        CoordSystem.parse(name)
