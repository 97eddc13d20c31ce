"""Routes given as encoded polylines, built once: the same polyline (a driver paging along a route with
its cursor, or sorting it another way) is decoded, brought to WGS-84 (the GCJ-02 and BD-09 inverses
iterate, ~1 ms for 1,400 vertices) and cut into pieces only the first time, while it is among the
worker's last CACHED_ROUTES. A Route's arrays are read-only, so every request can share it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from geo import coords, polyline
from geo.route import Route, build_route

CACHED_ROUTES = 16  # a route of 20,000 vertices holds ~2 MB


def route_in(lons: np.ndarray, lats: np.ndarray, coord: coords.CoordSystem) -> Route:
    """The route through these vertices given in `coord`, brought to WGS-84 (the edge: everything
    below is WGS-84)."""
    if coord is not coords.CoordSystem.WGS84:
        in_range = (np.abs(lats) <= 90.0) & (np.abs(lons) <= 180.0)
        if in_range.all():  # else build_route refuses them as they are
            lons, lats = coords.to_wgs84(lons, lats, coord)
    return build_route(lons, lats)


@lru_cache(maxsize=CACHED_ROUTES)
def polyline_route(text: str, precision: int, coord: coords.CoordSystem) -> Route:
    """route_in of the decoded polyline (geo.polyline); InvalidRoute, never remembered, as they raise."""
    lons, lats = polyline.decode(text, precision)
    return route_in(lons, lats, coord)
