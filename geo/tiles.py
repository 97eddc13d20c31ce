"""Mapbox Vector Tiles (2.1) of the stations, in the web-mercator tiles of the map's own system.

A tile holds the searchable stations whose position in that system lies in the tile (half-open:
x0 <= x < x1, y0 <= y < y1 in normalised mercator, so each station is in exactly one tile of a zoom).
From POINTS_FROM_ZOOM on, layer `stations`: one point each, attributes id, brand and grades (comma-joined
codes). Below it, layer `clusters`: the stations grouped on 64-pixel squares (geo.clusters), one point
at each group's centroid with count, the most common brand and the grades any member offers. Prices and
waits are left out on purpose: they change faster than tiles are cached (the viewport and nearby routes
carry them). Encoded with the mapbox-vector-tile package (extent 4096, y down)."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]  # no stubs; pyproject's overrides are not ours
import numpy as np
from shapely.geometry import Point

from geo.clusters import cluster
from geo.coords import CoordSystem
from geo.grades import GRADE_BITS
from geo.mercator import tile_box, tile_degrees, to_mercator
from geo.snapshot import Snapshot
from geo.viewport import CLOSED, Box, candidates

EXTENT = 4096
MAX_ZOOM = 22
POINTS_FROM_ZOOM = 12
MAX_TILE_CLUSTERS = 256
STATIONS_LAYER = "stations"
CLUSTERS_LAYER = "clusters"
_GRADE_OF_BIT = sorted(GRADE_BITS.items(), key=lambda item: item[1])
_OPTIONS = {"extents": EXTENT, "y_coord_down": True, "quantize_bounds": None, "check_winding_order": False}


def tile_positions(
    snap: Snapshot, coord: CoordSystem, z: int, x: int, y: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (by id) of the stations in the tile, with their pixel coordinates in it (0..EXTENT)."""
    west, south, east, north = tile_degrees(z, x, y)
    found = candidates(
        snap, Box(max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0), coord)
    )
    if found is None:
        found = np.flatnonzero(snap.status != CLOSED)
    found = np.sort(found)
    lons, lats = snap.lonlat[coord]
    mx, my = to_mercator(lons[found], lats[found])
    x0, y0, x1, y1 = tile_box(z, x, y)
    inside = (mx >= x0) & (mx < x1) & (my >= y0) & (my < y1)
    scale = float(1 << z) * EXTENT
    px = np.minimum(((mx[inside] - x0) * scale).astype(np.int64), EXTENT - 1)
    py = np.minimum(((my[inside] - y0) * scale).astype(np.int64), EXTENT - 1)
    return found[inside], px, py


def grades_text(mask: int) -> str:
    return ",".join(grade for grade, bit in _GRADE_OF_BIT if mask & (1 << bit))


def render_tile(snap: Snapshot, coord: CoordSystem, z: int, x: int, y: int) -> bytes:
    """The encoded tile (empty bytes when no station lies in it)."""
    positions, px, py = tile_positions(snap, coord, z, x, y)
    if not len(positions):
        return b""
    if z >= POINTS_FROM_ZOOM:
        layer = _stations_layer(snap, positions, px, py)
    else:
        layer = _clusters_layer(snap, coord, (z, x, y), positions)
    return bytes(mapbox_vector_tile.encode([layer], default_options=_OPTIONS))


def _stations_layer(snap: Snapshot, positions: np.ndarray, px: np.ndarray, py: np.ndarray) -> dict[str, Any]:
    ids = snap.ids[positions].tolist()
    brand_codes = snap.brand[positions].tolist()
    masks = snap.grade_mask[positions].tolist()
    features = [
        {
            "geometry": Point(gx, gy),
            "properties": {"id": sid, "brand": snap.brands[b], "grades": grades_text(m)},
            "id": sid,
        }
        for sid, b, m, gx, gy in zip(ids, brand_codes, masks, px.tolist(), py.tolist(), strict=True)
    ]
    return {"name": STATIONS_LAYER, "features": features}


def _clusters_layer(
    snap: Snapshot, coord: CoordSystem, tile: tuple[int, int, int], positions: np.ndarray
) -> dict[str, Any]:
    z = tile[0]
    lons, lats = snap.lonlat[coord]
    found = cluster(lons[positions], lats[positions], z, MAX_TILE_CLUSTERS)
    cx, cy = to_mercator(found.lon, found.lat)
    x0, y0, _, _ = tile_box(*tile)
    scale = float(1 << z) * EXTENT
    gx = np.clip(((cx - x0) * scale).astype(np.int64), 0, EXTENT - 1).tolist()
    gy = np.clip(((cy - y0) * scale).astype(np.int64), 0, EXTENT - 1).tolist()
    width = len(snap.brands)
    k = len(found.counts)
    brand_counts = np.bincount(found.group * width + snap.brand[positions], minlength=k * width)
    top_brand = brand_counts.reshape(k, width).argmax(axis=1).tolist()
    masks = np.zeros(k, dtype=np.int64)
    np.bitwise_or.at(masks, found.group, snap.grade_mask[positions])
    features = [
        {
            "geometry": Point(gx[i], gy[i]),
            "properties": {"count": count, "brand": snap.brands[top_brand[i]], "grades": grades_text(mask)},
            "id": key,
        }
        for i, (key, count, mask) in enumerate(
            zip(found.keys.tolist(), found.counts.tolist(), masks.tolist(), strict=True)
        )
    ]
    return {"name": CLUSTERS_LAYER, "features": features}
