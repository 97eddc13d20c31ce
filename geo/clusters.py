"""Clusters of the stations in a box: a grid of web-mercator squares of the map's own system.

The grid is the quadtree level `zoom + 2` (squares of 64 pixels on 256-pixel tiles), coarsened one level
at a time until at most `max_clusters` squares hold stations, so the answer is bounded at any zoom and a
square keeps its place while the map pans. Only stations inside the box are grouped, so a cluster never
holds a station outside it and its bounding box never crosses the box edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.mercator import to_mercator

GRID_LEVELS_BELOW_ZOOM = 2  # 256-pixel tiles / 4 = 64-pixel squares
MAX_LEVEL = 30


@dataclass(frozen=True)
class Clusters:
    """Per cluster, in key order: its members are `order[starts[i]:starts[i] + counts[i]]`."""

    level: int  # quadtree level of the grid squares
    keys: np.ndarray  # int64 square key: column * 2^level + row
    counts: np.ndarray
    order: np.ndarray  # indices into the clustered positions, grouped by square
    starts: np.ndarray
    lon: np.ndarray  # centroid, degrees of the box's system
    lat: np.ndarray
    west: np.ndarray  # bounding box of the members
    south: np.ndarray
    east: np.ndarray
    north: np.ndarray


def cluster(lons: np.ndarray, lats: np.ndarray, zoom: int, max_clusters: int) -> Clusters:
    """Group stations (their lon/lat in the map's system) on the grid; `order` indexes these arrays."""
    mx, my = to_mercator(lons, lats)
    level = min(MAX_LEVEL, zoom + GRID_LEVELS_BELOW_ZOOM)
    while True:
        n = 1 << level
        col = np.minimum((mx * n).astype(np.int64), n - 1)
        row = np.minimum((my * n).astype(np.int64), n - 1)
        keys = col * n + row
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        if len(unique) <= max_clusters or level == 0:
            break
        level -= 1
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    x, y = lons[order], lats[order]
    if len(order):
        west, east = np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts)
        south, north = np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)
        lon, lat = np.add.reduceat(x, starts) / counts, np.add.reduceat(y, starts) / counts
    else:
        west = east = south = north = lon = lat = np.empty(0)
    return Clusters(level, unique, counts, order, starts, lon, lat, west, south, east, north)
