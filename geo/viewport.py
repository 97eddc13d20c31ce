"""Stations inside a box drawn on a map, decided exactly in the box's own coordinate system.

A map in GCJ-02 draws a station at its GCJ-02 position, so a station belongs to a GCJ-02 box when its
GCJ-02 position lies inside, whatever its WGS-84 position does. Candidates come from the H3 buckets
(stored from WGS-84 positions): every station whose position in `coord` lies in the box lies in the
WGS-84 box widened by SHIFT_MARGIN_DEG (GCJ-02 moves a point by at most 0.0103° of longitude and 0.0041°
of latitude, BD-09 by at most another 0.0070°), and its cell's centre lies within the cell's
circumradius of it, so the cells whose centres lie in that box widened once more by the circumradius hold
every candidate. Each candidate is then tested exactly (closed box: min <= lon <= max, min <= lat <= max).
Resolution 7 serves boxes of a few dozen cells, resolution 5 up to 1,500 cells; a larger box is
scanned instead (a vectorised test of every station costs less than gathering that many buckets)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo import cells, coords
from geo.errors import InvalidSearch
from geo.keywords import matching
from geo.snapshot import STATUS_CODES, Snapshot

SHIFT_MARGIN_DEG = 0.03  # > GCJ-02 (0.0103°) + BD-09 (0.0065° + rotation < 0.0005°) shifts, with room
_METRES_PER_DEG_LAT = 110_000.0  # below the ellipsoid's smallest (110,574 m): errs wide
_METRES_PER_DEG_LON_EQUATOR = 111_000.0
# Cells worth gathering at each resolution (h3's polygon fill and one bucket lookup per cell cost more
# than testing the extra candidates a coarser cell brings); more than the last: scan every station.
_MAX_CELLS = {7: 64, 5: 1_500}
_CELL_AREA_KM2 = {7: 5.16, 5: 252.9}  # average cell areas
CLOSED = STATUS_CODES["closed"]


@dataclass(frozen=True)
class Box:
    """A box in `coord` degrees; west <= east (no box across the antimeridian), south <= north."""

    west: float
    south: float
    east: float
    north: float
    coord: coords.CoordSystem = coords.CoordSystem.WGS84

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values):
            raise InvalidSearch("bbox values must be finite numbers")
        if not (-180.0 <= self.west <= self.east <= 180.0):
            raise InvalidSearch("bbox longitudes must satisfy -180 <= minLon <= maxLon <= 180")
        if not (-90.0 <= self.south <= self.north <= 90.0):
            raise InvalidSearch("bbox latitudes must satisfy -90 <= minLat <= maxLat <= 90")


@dataclass(frozen=True)
class Filters:
    grade_bit: int | None = None
    brands: tuple[str, ...] | None = None  # any of these brand codes
    open_now: bool = False
    services: int = 0  # every one of these services (bit set, geo.services.SERVICE_BITS)
    words: tuple[str, ...] = ()  # every keyword in the name or address (geo.keywords)
    places: tuple[int, ...] | None = None  # only stations of these region places (geo.regions)


def _widened(box: Box, margin_m: float) -> tuple[float, float, float, float]:
    shift = 0.0 if box.coord is coords.CoordSystem.WGS84 else SHIFT_MARGIN_DEG
    dlat = shift + margin_m / _METRES_PER_DEG_LAT
    south, north = max(-90.0, box.south - dlat), min(90.0, box.north + dlat)
    widest = max(abs(south), abs(north))
    cos = math.cos(math.radians(min(widest, 89.0)))
    dlon = shift + margin_m / (_METRES_PER_DEG_LON_EQUATOR * cos)
    return max(-180.0, box.west - dlon), south, min(180.0, box.east + dlon), north


def _area_km2(west: float, south: float, east: float, north: float) -> float:
    mid = math.cos(math.radians((south + north) / 2))
    return (east - west) * 111.3 * mid * (north - south) * 111.3


def candidates(snap: Snapshot, box: Box) -> np.ndarray | None:
    """Positions of every searchable station that may lie in the box (a superset), or None: scan all."""
    for res in (7, 5):
        margin = cells.CIRCUMRADIUS_BOUND_M[res] * 1.2
        west, south, east, north = _widened(box, margin)
        if (
            east - west >= 180.0
            or _area_km2(west, south, east, north) / _CELL_AREA_KM2[res] > _MAX_CELLS[res]
        ):
            continue
        buckets = snap.buckets[res]
        found = [
            b
            for b in (buckets.get(c) for c in cells.box_cells(west, south, east, north, res))
            if b is not None
        ]
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)
    return None


def eligible_mask(
    snap: Snapshot, positions: np.ndarray, filters: Filters, open_state: np.ndarray
) -> np.ndarray:
    """Which of these stations pass the filters (open_state is read only for open_now)."""
    f = filters
    keep = np.ones(len(positions), dtype=bool)
    if f.grade_bit is not None:
        keep &= (snap.grade_mask[positions] & (1 << f.grade_bit)) != 0
    if f.brands is not None:
        keep &= np.isin(snap.brand[positions], [snap.brand_code(b) for b in f.brands])
    if f.services:
        keep &= (snap.services[positions] & f.services) == f.services
    if f.places is not None:
        keep &= np.isin(snap.region[positions], f.places)
    if f.open_now:
        keep &= open_state[positions] == 1
    if f.words:  # text last: only the stations left are read
        keep[keep] = matching(snap.texts, positions[keep], f.words)
    return keep


def eligible(snap: Snapshot, positions: np.ndarray, filters: Filters, open_state: np.ndarray) -> np.ndarray:
    f = filters
    plain = f.grade_bit is None and f.brands is None and f.places is None
    if plain and not (f.open_now or f.services or f.words):
        return positions
    kept: np.ndarray = positions[eligible_mask(snap, positions, f, open_state)]
    return kept


def stations_in_box(snap: Snapshot, box: Box, filters: Filters, open_state: np.ndarray) -> np.ndarray:
    """Snapshot positions of the eligible stations whose `box.coord` position lies in the box, by id."""
    found = candidates(snap, box)
    lons, lats = snap.lonlat[box.coord]
    if found is None:  # every station, tested in place (already in id order)
        inside = (lons >= box.west) & (lons <= box.east) & (lats >= box.south) & (lats <= box.north)
        return eligible(snap, np.flatnonzero(inside & (snap.status != CLOSED)), filters, open_state)
    x, y = lons[found], lats[found]
    inside = (x >= box.west) & (x <= box.east) & (y >= box.south) & (y <= box.north)
    return np.sort(eligible(snap, found[inside], filters, open_state))
