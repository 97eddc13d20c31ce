"""The one typed wrapper over h3. Cells are ints inside the service and hex strings only at the edge.

This is the only module where h3's (lat, lng) order meets the service's (lon, lat) order.
"""

from __future__ import annotations

from functools import lru_cache

import h3
import h3.api.basic_int as h3i

# Raised by h3 when a grid walk cannot be done (for example across a pentagon).
GridError = h3.H3BaseException

# Upper bounds of the chord (ECEF metres, WGS-84) from any cell's centre to any point of the cell. The
# largest circumradius over ~360,000 res-5 and ~400,000 res-7 cells sampled uniformly over the globe was
# 10,883 m and 1,555 m (near icosahedron face centres, where cells are largest); these add 2%.
# tests/geo/test_cell_radius.py re-checks fresh samples worldwide and over China.
CIRCUMRADIUS_BOUND_M = {5: 11_100.0, 7: 1_586.0}
STORED_RESOLUTIONS = (5, 7, 9)


def cell_of(lon: float, lat: float, res: int) -> int:
    return int(h3i.latlng_to_cell(lat, lon, res))


def cells_of(lon: float, lat: float) -> dict[int, int]:
    """The stored cells of a point: {resolution: cell}."""
    return {res: int(h3i.latlng_to_cell(lat, lon, res)) for res in STORED_RESOLUTIONS}


def center_of(cell: int) -> tuple[float, float]:
    lat, lng = h3i.cell_to_latlng(cell)
    return float(lng), float(lat)


def centres_of(cells: list[int]) -> tuple[list[float], list[float]]:
    """Centres of several cells: (lons, lats)."""
    lons: list[float] = []
    lats: list[float] = []
    for cell in cells:
        lat, lng = h3i.cell_to_latlng(cell)
        lons.append(lng)
        lats.append(lat)
    return lons, lats


def boundary_of(cell: int) -> list[tuple[float, float]]:
    """Vertices (lon, lat), including the extra vertices of cells that cross icosahedron faces."""
    return [(float(lng), float(lat)) for lat, lng in h3i.cell_to_boundary(cell)]


def disk(cell: int, k: int) -> list[int]:
    """All cells within grid distance k (no guaranteed order)."""
    return [int(c) for c in h3i.grid_disk(cell, k)]


def ring(cell: int, k: int) -> list[int]:
    """Cells at grid distance exactly k (no guaranteed order)."""
    return [int(c) for c in h3i.grid_ring(cell, k)]


def resolution_of(cell: int) -> int:
    return int(h3i.get_resolution(cell))


def to_hex(cell: int) -> str:
    return str(h3i.int_to_str(cell))


def from_hex(text: str) -> int:
    return int(h3i.str_to_int(text))


@lru_cache(maxsize=1 << 18)
def center_and_vertices(cell: int) -> tuple[tuple[float, float], tuple[tuple[float, float], ...]]:
    return center_of(cell), tuple(boundary_of(cell))


def box_cells(west: float, south: float, east: float, north: float, res: int) -> list[int]:
    """Cells whose centre lies inside the box (degrees; h3 takes its edges as straight in lon/lat).
    No guaranteed order."""
    shape = h3.LatLngPoly([(south, west), (south, east), (north, east), (north, west)])
    return [int(c) for c in h3i.h3shape_to_cells(shape, res)]
