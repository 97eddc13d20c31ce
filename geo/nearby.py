"""Exact nearby search over a Snapshot, using H3 cells to gather candidates.

Candidates are the stations of grid_disk(origin, k), origin being the query point's cell. Every other
station lies outside that disk, so its distance is at least the distance from the point to the nearest
cell of ring k+1. For each origin and k we keep L = min over ring k+1 cells of
|centre(origin) - centre(c)| - R (chord distances in ECEF metres; R bounds the distance from any cell's
centre to its farthest point at that resolution, geo.cells.CIRCUMRADIUS_BOUND_M), and by the triangle
inequality no unseen station is nearer than
L - |p - centre(origin)|. The search stops when the (limit+1)-th eligible candidate, or the radius when
fewer qualify, is strictly nearer than that bound, so the answer equals a brute-force scan: same
stations, same order (distance, then id). Steps go from small disks at resolution 7 to larger ones at
resolution 5; a full scan remains as the last resort. Disk contents and bounds are cached per origin.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from geo import cells
from geo.distance import chord_to_metres, ecef, ecef_point, metres_to_chord
from geo.errors import InvalidSearch
from geo.keywords import matching
from geo.snapshot import Snapshot

MAX_RADIUS_M = 50_000.0
MAX_LIMIT = 100
_BOUND_SLACK_M = 5.0  # curved cell edges, ellipsoid vs h3's sphere


@dataclass(frozen=True)
class NearbyQuery:
    lon: float  # WGS-84
    lat: float
    radius_m: float
    limit: int
    grade_bit: int | None = None
    brands: tuple[str, ...] = ()  # any of these brand codes (none: every brand)
    open_now: bool = False
    services: int = 0  # every one of these services (bit set, geo.services.SERVICE_BITS)
    words: tuple[str, ...] = ()  # every keyword in the name or address (geo.keywords)
    places: tuple[int, ...] | None = None  # only stations of these region places (geo.regions)
    after: tuple[float, int] | None = None  # keyset cursor: (chord, station id) of the last item seen

    def __post_init__(self) -> None:
        if not (0 < self.radius_m <= MAX_RADIUS_M):
            raise InvalidSearch(f"radius_m must be in (0, {MAX_RADIUS_M:.0f}]")
        if not (1 <= self.limit <= MAX_LIMIT):
            raise InvalidSearch(f"limit must be between 1 and {MAX_LIMIT}; use the cursor for more")


@dataclass(frozen=True)
class NearbyResult:
    positions: np.ndarray  # snapshot positions, nearest first
    chords: np.ndarray  # chord metres, same order
    next_cursor: str | None

    def distances_m(self) -> np.ndarray:
        return chord_to_metres(self.chords)


_CURSOR = struct.Struct("<2sdq")
_CURSOR_TAG = b"n1"


def encode_cursor(chord: float, station_id: int) -> str:
    return base64.urlsafe_b64encode(_CURSOR.pack(_CURSOR_TAG, chord, station_id)).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        tag, chord, station_id = _CURSOR.unpack(raw)
    except (binascii.Error, struct.error, ValueError):
        raise InvalidSearch("cursor is not one this service issued") from None
    if tag != _CURSOR_TAG or not math.isfinite(chord) or chord < 0 or station_id < 1:
        raise InvalidSearch("cursor is not one this service issued")
    return float(chord), int(station_id)


_DISKS_CAP = 200_000


def _disk(snap: Snapshot, res: int, origin: int, k: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Snapshot positions in grid_disk(origin, k), their ECEF block, the bound L, and origin's centre."""
    key = (origin, k)
    cache = snap.disk_cache
    hit: tuple[np.ndarray, np.ndarray, float, np.ndarray] | None = cache.get(key)
    if hit is not None:
        return hit
    buckets = snap.buckets[res]
    parts = [b for b in (buckets.get(c) for c in cells.disk(origin, k)) if b is not None]
    positions = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    ring = cells.ring(origin, k + 1)
    lons, lats = cells.centres_of([origin, *ring])
    xyz = ecef(np.asarray(lons), np.asarray(lats))
    ox, oy, oz = xyz[0].tolist()
    nearest_unseen = float(np.sqrt(((xyz[1:] - xyz[0]) ** 2).sum(axis=1)).min())
    bound = nearest_unseen - cells.CIRCUMRADIUS_BOUND_M[res] - _BOUND_SLACK_M
    if len(cache) >= _DISKS_CAP:
        cache.clear()
    entry = (positions, snap.xyz[positions], bound, np.array((ox, oy, oz)))
    cache[key] = entry
    return entry


def certified_disk(
    snap: Snapshot, res: int, origin: int, k: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """The stations of grid_disk(origin, k) (positions, their ECEF block), the bound L (a station outside
    the disk is at least L - |p - centre| from any point p) and origin's centre; cached on the snapshot
    (geo.corridor gathers route candidates with it)."""
    return _disk(snap, res, origin, k)


@lru_cache(maxsize=4096)
def _radius_chord(radius_m: float) -> float:
    return metres_to_chord(radius_m)


class _Step:
    """Eligible candidates of one disk within the radius (and after the cursor), with their chords."""

    __slots__ = ("chords", "positions", "snap")

    def __init__(
        self,
        snap: Snapshot,
        query: NearbyQuery,
        p: np.ndarray,
        positions: np.ndarray,
        xyz: np.ndarray,
        open_state: np.ndarray | None,
    ) -> None:
        self.snap = snap
        keep = None
        if query.grade_bit is not None:
            keep = (snap.grade_mask[positions] & (1 << query.grade_bit)) != 0
        if query.brands:
            codes = [snap.brand_code(b) for b in query.brands]
            brand_ok = np.isin(snap.brand[positions], codes)
            keep = brand_ok if keep is None else keep & brand_ok
        if query.services:
            services_ok = (snap.services[positions] & query.services) == query.services
            keep = services_ok if keep is None else keep & services_ok
        if query.places is not None:
            place_ok = np.isin(snap.region[positions], query.places)
            keep = place_ok if keep is None else keep & place_ok
        if query.open_now and open_state is not None:
            open_ok = open_state[positions] == 1
            keep = open_ok if keep is None else keep & open_ok
        if keep is not None:
            positions, xyz = positions[keep], xyz[keep]
        diff = xyz - p
        chords = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        inside = chords <= _radius_chord(query.radius_m)
        if query.after is not None:
            after_chord, after_id = query.after
            ids = snap.ids[positions]
            inside &= (chords > after_chord) | ((chords == after_chord) & (ids > after_id))
        if query.words:  # text last: only the stations in the radius are read
            inside[inside] = matching(snap.texts, positions[inside], query.words)
        self.positions = positions[inside]
        self.chords = chords[inside]

    def need(self, want: int, radius_chord: float) -> float:
        """Chord that every answer lies within: the want-th candidate's, or the radius."""
        if len(self.chords) < want:
            return radius_chord
        return float(np.partition(self.chords, want - 1)[want - 1])

    def result(self, want: int, limit: int) -> NearbyResult:
        positions, chords = self.positions, self.chords
        if len(chords) > want:  # keep the want nearest and everything tied with the last of them
            cut = np.partition(chords, want - 1)[want - 1]
            near = chords <= cut
            positions, chords = positions[near], chords[near]
        order = np.lexsort((self.snap.ids[positions], chords))[:want]
        positions, chords = positions[order], chords[order]
        cursor = None
        if len(positions) > limit:
            positions, chords = positions[:limit], chords[:limit]
            cursor = encode_cursor(float(chords[-1]), int(self.snap.ids[positions[-1]]))
        return NearbyResult(positions, chords, cursor)


_STEPS = ((7, 1), (7, 2), (7, 4), (5, 1), (5, 2), (5, 4), (5, 7))


def nearest_stations(
    snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None = None
) -> NearbyResult:
    """Stations within query.radius_m of the point, nearest first, exactly as a full scan would order them.

    open_state (1 open, 0 closed, -1 unknown per snapshot position) is needed only when query.open_now.
    Each origin cell remembers the step that answered last time and starts there: any certified disk
    gives the exact answer, a remembered one just skips the disks that were too small before.
    """
    want = query.limit + 1
    p = np.array(ecef_point(query.lon, query.lat))
    radius_chord = _radius_chord(query.radius_m)
    first_origin = cells.cell_of(query.lon, query.lat, _STEPS[0][0])
    origins = {_STEPS[0][0]: first_origin}
    hints = snap.step_hints
    start = hints.get(first_origin, 0)
    try:
        for number in range(start, len(_STEPS)):
            res, k = _STEPS[number]
            origin = origins.get(res)
            if origin is None:
                origin = origins[res] = cells.cell_of(query.lon, query.lat, res)
            positions, xyz, bound, centre = _disk(snap, res, origin, k)
            if len(positions) < want and k < 4:
                continue  # too few stations here even before filtering: look wider at once
            step = _Step(snap, query, p, positions, xyz, open_state)
            offset = float(np.sqrt(((p - centre) ** 2).sum()))
            if step.need(want, radius_chord) < bound - offset:
                if number != start:
                    hints[first_origin] = number
                return step.result(want, query.limit)
    except cells.GridError:  # h3 may refuse rings that cross a pentagon: scan instead
        pass
    return brute_force(snap, query, open_state)


def brute_force(snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None = None) -> NearbyResult:
    """The reference answer: every station measured (used by tests and as a last resort)."""
    p = np.array(ecef_point(query.lon, query.lat))
    step = _Step(snap, query, p, np.arange(len(snap), dtype=np.int64), snap.xyz, open_state)
    return step.result(query.limit + 1, query.limit)


def stations_within(
    snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every eligible station within the radius (query.limit is ignored), nearest first: positions, chords.
    The same certified disks as nearest_stations: a disk is used once the radius lies inside its bound."""
    p = np.array(ecef_point(query.lon, query.lat))
    radius_chord = _radius_chord(query.radius_m)
    origins: dict[int, int] = {}
    step: _Step | None = None
    try:
        for res, k in _STEPS:
            origin = origins.get(res)
            if origin is None:
                origin = origins[res] = cells.cell_of(query.lon, query.lat, res)
            positions, xyz, bound, centre = _disk(snap, res, origin, k)
            if radius_chord < bound - float(np.sqrt(((p - centre) ** 2).sum())):
                step = _Step(snap, query, p, positions, xyz, open_state)
                break
    except cells.GridError:
        step = None
    if step is None:
        step = _Step(snap, query, p, np.arange(len(snap), dtype=np.int64), snap.xyz, open_state)
    order = np.lexsort((snap.ids[step.positions], step.chords))
    return step.positions[order], step.chords[order]
