"""Exact corridor search: the stations within `corridor_m` of a route, ordered along it.

The route's pieces (geo.route) are taken GROUP at a time. For a group, every point of its pieces lies
within `radius` (chord) of a centre vertex, so a station within the corridor of one of those pieces lies
within radius + corridor of the centre. The group's candidates are the stations of the smallest res-7
grid_disk around the centre's cell that is certified to hold that ball (the bound of geo.nearby: a
station outside the disk is at least L - |centre - cell centre| away). A station of the corridor is
therefore a candidate of the group of its nearest piece, and of every group holding a piece within the
corridor of it; those are the only pieces that decide its answer, which is the brute-force answer:
- off_route_m: the distance to the nearest point of the route (chord to arc, geo.distance);
- along_m: the distance along the route of that point; when several points of the route are equally
  near (within TIE_M, a hairpin or a road driven twice), the earliest along the route.
Stations are ordered by along_m, then id. A pentagon in the way (h3 refuses the walk) or a group too big
for MAX_K falls back to every station for that group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo import cells
from geo.distance import chord_to_metres, metres_to_chord
from geo.errors import InvalidSearch
from geo.nearby import certified_disk
from geo.route import Route, geodetic, nearest_on_pieces
from geo.snapshot import Snapshot

MAX_CORRIDOR_M = 5_000.0
GROUP = 8  # pieces per candidate disk (measured: 4 costs 1.5x the CPU of 8 at 120,000 stations)
TIE_M = 1e-3
_RES = 7
_MAX_K = 40
_SLACK_M = 5.0
_RING_SPACING_M = 1_820.0  # about the least distance gained per ring at res 7 (a first guess of k only)


@dataclass(frozen=True)
class CorridorQuery:
    route: Route
    corridor_m: float  # the largest distance off the route, metres (each side)
    grade_bit: int | None = None
    brands: tuple[str, ...] | None = None  # any of these brand codes
    open_now: bool = False

    def __post_init__(self) -> None:
        if not (0 < self.corridor_m <= MAX_CORRIDOR_M):
            raise InvalidSearch(f"corridor_m must be in (0, {MAX_CORRIDOR_M:.0f}]")


@dataclass(frozen=True)
class CorridorMatches:
    positions: np.ndarray  # snapshot positions, by along_m then id
    along_m: np.ndarray
    off_route_m: np.ndarray


def _eligible(
    snap: Snapshot, query: CorridorQuery, positions: np.ndarray, open_state: np.ndarray | None
) -> np.ndarray:
    keep = np.ones(len(positions), dtype=bool)
    if query.grade_bit is not None:
        keep &= (snap.grade_mask[positions] & (1 << query.grade_bit)) != 0
    if query.brands is not None:
        keep &= np.isin(snap.brand[positions], [snap.brand_code(b) for b in query.brands])
    if query.open_now and open_state is not None:
        keep &= open_state[positions] == 1
    return keep


def _candidate_blocks(
    snap: Snapshot, lons: list[float], lats: list[float], centres: list[list[float]], reaches: list[float]
) -> list[np.ndarray]:
    """Per group: positions of a certified res-7 disk holding every station within its reach (chord) of
    its centre (ECEF); every station when h3 cannot walk the grid there."""
    spacing = _RING_SPACING_M
    lift = cells.CIRCUMRADIUS_BOUND_M[_RES] + 1_300.0
    cell_of = cells.cell_of
    out: list[np.ndarray] = []
    for lon, lat, centre, reach in zip(lons, lats, centres, reaches, strict=True):
        found = None
        try:
            origin = cell_of(lon, lat, _RES)
            k = max(1, int((reach + lift) / spacing) - 1)
            positions, _, bound, cell_centre = certified_disk(snap, _RES, origin, k)
            offset = math.dist(centre, cell_centre.tolist())  # the same origin centre for every k
            while k < _MAX_K and reach >= bound - offset:
                k += 1
                positions, _, bound, _ = certified_disk(snap, _RES, origin, k)
            if reach < bound - offset:
                found = positions
        except cells.GridError:
            pass
        out.append(found if found is not None else np.arange(len(snap), dtype=np.int64))
    return out


def _reduce(
    snap: Snapshot, positions: np.ndarray, chords: np.ndarray, alongs: np.ndarray, limit_chord: float
) -> CorridorMatches:
    """positions (rows), chords and alongs (rows x pieces): per station the nearest chord, the earliest
    along within TIE_M of it, for stations within limit_chord; ordered by along, id."""
    near = chords.min(axis=1) <= limit_chord + TIE_M
    positions, chords, alongs = positions[near], chords[near], alongs[near]
    unique, inverse = np.unique(positions, return_inverse=True)
    nearest = np.full(len(unique), np.inf)
    np.minimum.at(nearest, inverse, chords.min(axis=1))
    tied = chords <= (nearest[inverse] + TIE_M)[:, None]
    earliest = np.full(len(unique), np.inf)
    np.minimum.at(earliest, inverse, np.where(tied, alongs, np.inf).min(axis=1))
    inside = nearest <= limit_chord
    unique, nearest, earliest = unique[inside], nearest[inside], earliest[inside]
    order = np.lexsort((snap.ids[unique], earliest))
    return CorridorMatches(unique[order], earliest[order], chord_to_metres(nearest[order]))


def corridor_stations(
    snap: Snapshot, query: CorridorQuery, open_state: np.ndarray | None = None
) -> CorridorMatches:
    """Every eligible station within query.corridor_m of the route (open_state: as geo.nearby takes it)."""
    route = query.route
    vertices = route.vertices()
    limit_chord = metres_to_chord(query.corridor_m)
    firsts = np.arange(0, len(route), GROUP)
    centres = np.minimum(firsts + GROUP // 2, len(route))
    lons, lats = geodetic(vertices[centres])
    ends = np.minimum(firsts[:, None] + np.arange(GROUP + 1), len(route))
    apart = vertices[ends] - vertices[centres][:, None, :]
    radius = np.sqrt((apart * apart).sum(axis=2).max(axis=1))  # a chord's points: within its ends' ball
    blocks = _candidate_blocks(
        snap,
        lons.tolist(),
        lats.tolist(),
        vertices[centres].tolist(),
        (radius + limit_chord + _SLACK_M).tolist(),
    )
    positions = np.concatenate(blocks)
    group_of = np.repeat(np.arange(len(blocks)), [len(b) for b in blocks])
    keep = _eligible(snap, query, positions, open_state)
    positions, group_of = positions[keep], group_of[keep]
    pieces = np.minimum(firsts[group_of][:, None] + np.arange(GROUP), len(route) - 1)
    xyz = snap.xyz[positions]
    chords, alongs = nearest_on_pieces(route, pieces, xyz[:, 0:1], xyz[:, 1:2], xyz[:, 2:3])
    return _reduce(snap, positions, chords, alongs, limit_chord)


def brute_force(
    snap: Snapshot, query: CorridorQuery, open_state: np.ndarray | None = None, block: int = 2_000
) -> CorridorMatches:
    """The reference answer: every eligible station against every piece (tests)."""
    route = query.route
    limit_chord = metres_to_chord(query.corridor_m)
    every = np.arange(len(snap), dtype=np.int64)
    every = every[_eligible(snap, query, every, open_state)]
    pieces = np.arange(len(route))
    found: list[CorridorMatches] = []
    for start in range(0, len(every), block):
        positions = every[start : start + block]
        xyz = snap.xyz[positions]
        grid = np.broadcast_to(pieces, (len(positions), len(pieces)))
        chords, alongs = nearest_on_pieces(route, grid, xyz[:, 0:1], xyz[:, 1:2], xyz[:, 2:3])
        found.append(_reduce(snap, positions, chords, alongs, limit_chord))
    if not found:
        return _empty()
    positions = np.concatenate([f.positions for f in found])
    along = np.concatenate([f.along_m for f in found])
    off = np.concatenate([f.off_route_m for f in found])
    order = np.lexsort((snap.ids[positions], along))
    return CorridorMatches(positions[order], along[order], off[order])


def _empty() -> CorridorMatches:
    return CorridorMatches(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
