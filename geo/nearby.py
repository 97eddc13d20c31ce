"""Exact nearby search over a Snapshot, using H3 cells to gather candidates.

Candidates are gathered ring by ring around the query point's cell. After ring k, every station not
yet seen lies outside grid_disk(cell, k), so its distance is at least the distance from the query point
to the nearest cell of ring k+1, bounded below by |p - centre| - circumradius for each such cell (chord
distances in ECEF metres; the circumradius is the farthest vertex, with a safety margin). Growth stops
when the (limit+1)-th eligible candidate, or the radius when fewer qualify, is strictly inside that
bound, so the answer equals a brute-force scan: same stations, same order (distance, then id).
Resolution 7 serves dense areas; sparse ones move to resolution 5; a full scan remains as last resort.
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
from geo.distance import chord_to_metres, ecef_point, metres_to_chord
from geo.errors import InvalidSearch
from geo.snapshot import Snapshot

MAX_RADIUS_M = 50_000.0
MAX_LIMIT = 100
_BOUND_FACTOR = 1.005  # circumradius safety factor (curved edges, ellipsoid vs h3's sphere)
_BOUND_SLACK_M = 5.0
_PLAN = ((7, 6), (5, 9))  # (resolution, largest ring) tried in order


@dataclass(frozen=True)
class NearbyQuery:
    lon: float  # WGS-84
    lat: float
    radius_m: float
    limit: int
    grade_bit: int | None = None
    brand: str | None = None
    open_now: bool = False
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


@lru_cache(maxsize=1 << 20)
def _cell_bound(cell: int) -> tuple[float, float, float, float]:
    """ECEF centre of a cell and a safe upper bound of the chord to any point of the cell."""
    (clon, clat), vertices = cells.center_and_vertices(cell)
    cx, cy, cz = ecef_point(clon, clat)
    radius = max(math.dist((cx, cy, cz), ecef_point(vlon, vlat)) for vlon, vlat in vertices)
    return cx, cy, cz, radius * _BOUND_FACTOR + _BOUND_SLACK_M


def _unseen_bound(p: tuple[float, float, float], origin: int, k: int) -> float:
    """Lower bound of the chord from p to any point outside grid_disk(origin, k)."""
    best = math.inf
    for cell in cells.ring(origin, k + 1):
        cx, cy, cz, radius = _cell_bound(cell)
        d = math.sqrt((p[0] - cx) ** 2 + (p[1] - cy) ** 2 + (p[2] - cz) ** 2) - radius
        if d < best:
            best = d
    return best


class _Collector:
    """Eligible candidates within the radius, accumulated ring by ring."""

    def __init__(self, snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None) -> None:
        self.snap = snap
        self.query = query
        self.open_state = open_state
        self.p = np.asarray(ecef_point(query.lon, query.lat))
        self.radius_chord = metres_to_chord(query.radius_m)
        self.brand_code = snap.brand_code(query.brand) if query.brand is not None else None
        self.positions: list[np.ndarray] = []
        self.chords: list[np.ndarray] = []
        self.count = 0

    def add(self, idx: np.ndarray) -> None:
        snap, q = self.snap, self.query
        if q.grade_bit is not None:
            idx = idx[(snap.grade_mask[idx] & (1 << q.grade_bit)) != 0]
        if self.brand_code is not None:
            idx = idx[snap.brand[idx] == self.brand_code]
        if q.open_now and self.open_state is not None:
            idx = idx[self.open_state[idx] == 1]
        if not len(idx):
            return
        diff = snap.xyz[idx] - self.p
        chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        keep = chord <= self.radius_chord
        if q.after is not None:
            after_chord, after_id = q.after
            ids = snap.ids[idx]
            keep &= (chord > after_chord) | ((chord == after_chord) & (ids > after_id))
        if keep.any():
            self.positions.append(idx[keep])
            self.chords.append(chord[keep])
            self.count += int(keep.sum())

    def need(self, want: int) -> float:
        """Chord that every answer lies within: the want-th candidate's, or the radius."""
        if self.count < want:
            return self.radius_chord
        chords = np.concatenate(self.chords)
        return float(np.partition(chords, want - 1)[want - 1])

    def result(self, want: int, limit: int) -> NearbyResult:
        if not self.count:
            return NearbyResult(np.empty(0, np.int64), np.empty(0), None)
        positions = np.concatenate(self.positions)
        chords = np.concatenate(self.chords)
        order = np.lexsort((self.snap.ids[positions], chords))[:want]
        positions, chords = positions[order], chords[order]
        cursor = None
        if len(positions) > limit:
            positions, chords = positions[:limit], chords[:limit]
            cursor = encode_cursor(float(chords[-1]), int(self.snap.ids[positions[-1]]))
        return NearbyResult(positions, chords, cursor)


def nearest_stations(snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None = None) -> NearbyResult:
    """Stations within query.radius_m of the point, nearest first, exactly as a full scan would order them.

    open_state (1 open, 0 closed, -1 unknown per snapshot position) is needed only when query.open_now.
    """
    want = query.limit + 1
    p = ecef_point(query.lon, query.lat)
    for res, max_k in _PLAN:
        buckets = snap.buckets[res]
        origin = cells.cell_of(query.lon, query.lat, res)
        found = _Collector(snap, query, open_state)
        try:
            for k in range(max_k + 1):
                ring_cells = [origin] if k == 0 else cells.ring(origin, k)
                parts = [b for b in (buckets.get(c) for c in ring_cells) if b is not None]
                if parts:
                    found.add(np.concatenate(parts) if len(parts) > 1 else parts[0])
                if found.need(want) < _unseen_bound(p, origin, k):
                    return found.result(want, query.limit)
                if res == 7 and k >= 2 and found.count < want // 2:
                    break  # sparse here: coarser cells reach further per ring
        except cells.GridError:  # h3 may refuse rings that cross a pentagon: scan instead
            break
    found = _Collector(snap, query, open_state)
    found.add(np.arange(len(snap), dtype=np.int64))
    return found.result(want, query.limit)


def brute_force(snap: Snapshot, query: NearbyQuery, open_state: np.ndarray | None = None) -> NearbyResult:
    """The reference answer: every station measured (used by tests and as a last resort)."""
    found = _Collector(snap, query, open_state)
    found.add(np.arange(len(snap), dtype=np.int64))
    return found.result(query.limit + 1, query.limit)
