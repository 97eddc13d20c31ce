"""Web-mercator in whatever system the map draws in: the same formulas over GCJ-02 or BD-09 degrees as
over WGS-84 ones (a Chinese basemap's tiles are web-mercator tiles of its own system).

Positions are normalised: x and y in [0, 1), x east from the antimeridian, y south from the top edge of
the world (85.0511°N); a tile (z, x, y) covers [x / 2^z, (x + 1) / 2^z) × [y / 2^z, (y + 1) / 2^z)."""

from __future__ import annotations

import math

import numpy as np

MAX_LAT = 85.05112877980659  # where the square world of web mercator ends


def to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised (x, y) of points in degrees; latitudes beyond ±MAX_LAT are clamped to the edge."""
    x = (lon + 180.0) / 360.0
    phi = np.radians(np.clip(lat, -MAX_LAT, MAX_LAT))
    y = 0.5 - np.arctanh(np.sin(phi)) / (2.0 * math.pi)  # ln(tan φ + sec φ) = artanh(sin φ), cheaper
    return x, np.clip(y, 0.0, 1.0)


def from_mercator(x: float, y: float) -> tuple[float, float]:
    """(lon, lat) in degrees of a normalised position."""
    lon = x * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))
    return lon, lat


def tile_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's normalised bounds (x0, y0, x1, y1): y0 is its north edge."""
    n = float(1 << z)
    return x / n, y / n, (x + 1) / n, (y + 1) / n


def tile_degrees(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile as (west, south, east, north) degrees of the system it is drawn in."""
    x0, y0, x1, y1 = tile_box(z, x, y)
    west, north = from_mercator(x0, y0)
    east, south = from_mercator(x1, y1)
    return west, south, east, north
