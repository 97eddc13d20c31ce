"""Conversions are total: any finite in-range point, in any system, converts without an exception to a
finite in-range point, on the scalar and the vector path alike (the GCJ-02 inversion near a pole raised
'math domain error' and made nearby a 500)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo import coords
from geo.coords import CoordSystem

lons = st.floats(-180.0, 180.0, allow_nan=False) | st.sampled_from(
    [-180.0, 180.0, 0.0, 5e-324, -5e-324, 1e-300]
)
lats = st.floats(-90.0, 90.0, allow_nan=False) | st.sampled_from(
    [-90.0, 90.0, -89.99999999, 89.99999999, 0.0]
)


def in_range(lon: float, lat: float) -> bool:
    return math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


@settings(max_examples=300, deadline=None)
@given(lons, lats, st.sampled_from(list(CoordSystem)))
@example(8.61870895019928e-50, -89.9479161965582, CoordSystem.GCJ02)  # the 500
def test_every_in_range_point_converts_to_an_in_range_point(
    lon: float, lat: float, system: CoordSystem
) -> None:
    wlon, wlat = coords.to_wgs84(lon, lat, system)
    assert in_range(wlon, wlat)
    vlon, vlat = coords.to_wgs84(np.array([lon]), np.array([lat]), system)
    assert float(vlon[0]) == pytest.approx(wlon, abs=1e-9) and float(vlat[0]) == pytest.approx(wlat, abs=1e-9)
    back = coords.from_wgs84(wlon, wlat, system)
    assert all(math.isfinite(v) for v in back)


@settings(max_examples=100, deadline=None)
@given(lons, lats)
def test_far_from_china_gcj02_is_the_identity_both_ways(lon: float, lat: float) -> None:
    if 70.0 <= lon <= 140.0 and 15.0 <= lat <= 58.0:
        return
    assert coords.gcj02_to_wgs84(lon, lat) == (lon, lat) == coords.wgs84_to_gcj02(lon, lat)
