"""Clusters of the stations in a box: a grid of web-mercator squares of the map's own system.

The grid is the quadtree level `zoom + 2` (squares of 64 pixels on 256-pixel tiles), coarsened one level
at a time until at most `max_clusters` squares hold stations, so the answer is bounded at any zoom and a
square keeps its place while the map pans. The first level tried is at most two finer than one whose
squares over the stations' extent cannot exceed the bound, so a whole-country box at zoom 22 costs
three passes, not twenty. Only stations inside the box are grouped, so a cluster never holds a station
outside it and its bounding box never crosses the box edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.mercator import to_mercator

GRID_LEVELS_BELOW_ZOOM = 2  # 256-pixel tiles / 4 = 64-pixel squares
MAX_LEVEL = 30
_MAX_BINS = 1 << 22  # squares over the extent counted with one bincount; more: sort instead


@dataclass(frozen=True)
class Clusters:
    """Per cluster, in key order; `group[i]` is the cluster of the i-th station given."""

    level: int  # quadtree level of the grid squares
    keys: np.ndarray  # int64 square key: column * 2^level + row
    counts: np.ndarray
    group: np.ndarray
    lon: np.ndarray  # centroid, degrees of the stations' system
    lat: np.ndarray
    west: np.ndarray  # bounding box of the members
    south: np.ndarray
    east: np.ndarray
    north: np.ndarray


def _squares(col: np.ndarray, row: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted keys of the occupied squares, their counts, each station's index into them) for stations
    in squares (col, row) of `level`."""
    n = 1 << level
    c0, r0 = int(col.min()), int(row.min())
    height = int(row.max()) - r0 + 1
    width = int(col.max()) - c0 + 1
    if width * height > _MAX_BINS:
        keys, group, counts = np.unique(col * n + row, return_inverse=True, return_counts=True)
        return keys, counts, group
    compact = (col - c0) * height + (row - r0)
    per_bin = np.bincount(compact, minlength=width * height)
    occupied = np.flatnonzero(per_bin)
    index = np.empty(width * height, dtype=np.int64)
    index[occupied] = np.arange(len(occupied))
    keys = (occupied // height + c0) * n + (occupied % height + r0)
    return keys, per_bin[occupied], index[compact]


def cluster(lons: np.ndarray, lats: np.ndarray, zoom: int, max_clusters: int) -> Clusters:
    """Group stations (their lon/lat in the map's system) on the grid."""
    if not len(lons):
        empty = np.empty(0)
        none = np.empty(0, dtype=np.int64)
        return Clusters(0, none, none, none, empty, empty, empty, empty, empty, empty)
    mx, my = to_mercator(lons, lats)
    extent = float(mx.max() - mx.min()), float(my.max() - my.min())
    first = level = min(MAX_LEVEL, zoom + GRID_LEVELS_BELOW_ZOOM, start_level(*extent, max_clusters))
    n = 1 << first
    col0 = np.minimum((mx * n).astype(np.int64), n - 1)
    row0 = np.minimum((my * n).astype(np.int64), n - 1)
    while True:  # a coarser square is the finer one's column and row shifted right
        keys, counts, group = _squares(col0 >> (first - level), row0 >> (first - level), level)
        if len(keys) <= max_clusters or level == 0:
            break
        level -= 1
    k = len(keys)
    west = np.full(k, np.inf)
    south = np.full(k, np.inf)
    east = np.full(k, -np.inf)
    north = np.full(k, -np.inf)
    np.minimum.at(west, group, lons)
    np.minimum.at(south, group, lats)
    np.maximum.at(east, group, lons)
    np.maximum.at(north, group, lats)
    lon = np.bincount(group, weights=lons, minlength=k) / counts
    lat = np.bincount(group, weights=lats, minlength=k) / counts
    return Clusters(level, keys, counts, group, lon, lat, west, south, east, north)


def start_level(dx: float, dy: float, max_clusters: int) -> int:
    """The first level tried for stations spanning dx by dy (mercator units)."""
    level = 0
    while level < MAX_LEVEL and (dx * (2 << level) + 2) * (dy * (2 << level) + 2) <= max_clusters:
        level += 1
    return level + 2
