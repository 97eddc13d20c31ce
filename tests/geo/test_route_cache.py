"""Routes sent as polylines are built once while among the last few, and shared read-only."""

from __future__ import annotations

import numpy as np
import pytest

from geo import coords, polyline
from geo.errors import InvalidRoute
from geo.route import build_route
from geo.route_cache import CACHED_ROUTES, polyline_route, route_in

LONS = np.array([102.71, 102.60, 102.44, 102.08])
LATS = np.array([25.04, 25.02, 24.93, 25.15])


def _text(shift: float = 0.0) -> str:
    return polyline.encode((LONS + shift).tolist(), LATS.tolist())


def test_a_polyline_seen_again_is_the_route_built_the_first_time() -> None:
    text = _text(0.001)
    first = polyline_route(text, 5, coords.CoordSystem.GCJ02)
    assert polyline_route(text, 5, coords.CoordSystem.GCJ02) is first
    lons, lats = polyline.decode(text, 5)
    fresh = build_route(*coords.to_wgs84(lons, lats, coords.CoordSystem.GCJ02))
    assert first.ax.tolist() == fresh.ax.tolist() and first.along_m.tolist() == fresh.along_m.tolist()
    # the same text in another system or precision is another route
    assert polyline_route(text, 5, coords.CoordSystem.WGS84).ax.tolist() != first.ax.tolist()
    assert polyline_route(text, 6, coords.CoordSystem.GCJ02).total_m < first.total_m / 5


def test_only_the_last_routes_are_kept() -> None:
    text = _text(0.002)
    first = polyline_route(text, 5, coords.CoordSystem.BD09)
    for i in range(CACHED_ROUTES):
        polyline_route(_text(0.01 * (i + 1)), 5, coords.CoordSystem.BD09)
    again = polyline_route(text, 5, coords.CoordSystem.BD09)
    assert again is not first
    assert again.az.tolist() == first.az.tolist()


def test_a_shared_route_cannot_be_changed() -> None:
    route = polyline_route(_text(0.003), 5, coords.CoordSystem.WGS84)
    with pytest.raises(ValueError, match="read-only"):
        route.along_m[0] = 1.0


def test_a_route_that_cannot_be_searched_is_refused_every_time() -> None:
    text = polyline.encode([102.7, 102.7], [25.0, 25.0])
    for _ in range(2):
        with pytest.raises(InvalidRoute, match="two distinct points"):
            polyline_route(text, 5, coords.CoordSystem.GCJ02)


def test_geojson_vertices_take_the_same_way_to_wgs84() -> None:
    text = _text(0.004)
    lons, lats = polyline.decode(text, 5)
    given = route_in(lons, lats, coords.CoordSystem.GCJ02)
    assert given.ax.tolist() == polyline_route(text, 5, coords.CoordSystem.GCJ02).ax.tolist()
