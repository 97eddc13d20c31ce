"""Pre-aggregated cluster squares: the viewport's clusters of a big box at the cost of its answer.

Per coordinate system, the searchable stations sorted by the Morton (Z-order) key of their web-mercator
position at level 30 (the column and row of geo.clusters at every level are that key's bits), so every
quadtree square is a contiguous run of that order. For levels 0..FINEST each occupied square keeps its
count, coordinate sums, the bounding box of its stations (degrees and mercator) and its brand counts. A
box is decomposed by descending the quadtree: a square whose stations' bounding box lies inside the box is
taken whole, one outside it is dropped, one the edge cuts is split into its children, or tested station
by station when small or at FINEST (a slice of the sorted arrays). The clusters are then grouped exactly
as geo.clusters.cluster groups the stations inside (same start level, same coarsening, same keys).

Built lazily per snapshot and system, and per filter (`subset`: grade, brands, services, places, open now;
at most MAX_SUBSETS kept, the least recently used dropped), each grid holding only the stations that pass
its filter; a catalogue patch that moves, closes, reopens, rebrands or re-grades a station updates the
grids in place (geo/grid_patch.py), as does a change of which stations are open; a large batch drops them
(`forget`) and the next clustered request rebuilds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from geo import coords
from geo.clusters import GRID_LEVELS_BELOW_ZOOM, MAX_LEVEL, Clusters, start_level
from geo.mercator import to_mercator
from geo.snapshot import STATUS_CODES, Snapshot
from geo.viewport import Filters, eligible_mask

FINEST = 13  # finest aggregated level (squares of ~4.9 km at the equator)
SMALL = 48  # a cut square with at most this many stations is tested station by station
MAX_SUBSETS = 6  # filtered grids kept per snapshot (all systems; ~65 MB each for 1,000,000 stations)
_FULL = 1 << MAX_LEVEL
CLOSED = STATUS_CODES["closed"]


def _spread(v: np.ndarray) -> np.ndarray:
    """The 30 low bits of v moved to the even bits of a uint64."""
    x = v.astype(np.uint64) & np.uint64(0x3FFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F)):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    x = (x | (x << np.uint64(2))) & np.uint64(0x3333333333333333)
    return (x | (x << np.uint64(1))) & np.uint64(0x5555555555555555)


def _squeeze(x: np.ndarray) -> np.ndarray:
    """Inverse of _spread: the even bits of x as an int64."""
    x = x & np.uint64(0x5555555555555555)
    x = (x | (x >> np.uint64(1))) & np.uint64(0x3333333333333333)
    for shift, mask in ((2, 0x0F0F0F0F0F0F0F0F), (4, 0x00FF00FF00FF00FF), (8, 0x0000FFFF0000FFFF)):
        x = (x | (x >> np.uint64(shift))) & np.uint64(mask)
    x = (x | (x >> np.uint64(16))) & np.uint64(0x00000000FFFFFFFF)
    return x.astype(np.int64)


@dataclass
class Level:
    key: np.ndarray  # uint64 Morton key of the square at this level, ascending
    start: np.ndarray  # int64 first index into the sorted stations
    end: np.ndarray
    sum_lon: np.ndarray
    sum_lat: np.ndarray
    west: np.ndarray  # bounding box of the square's stations
    south: np.ndarray
    east: np.ndarray
    north: np.ndarray
    mx_min: np.ndarray  # and its mercator extent
    mx_max: np.ndarray
    my_min: np.ndarray
    my_max: np.ndarray
    brands: np.ndarray  # int32 (squares, brands)
    child_lo: np.ndarray  # children's index range in the next level (empty at FINEST)
    child_hi: np.ndarray


@dataclass
class Grid:
    """Patched in place (geo/grid_patch.py); `edits` logs the squares each patch deleted (-1), inserted (+1)
    or changed (0) as (kind, level, row), so what is kept per square elsewhere (pricing/cluster_prices.py)
    can follow."""

    coord: coords.CoordSystem
    n_brands: int
    position: np.ndarray  # snapshot position of each sorted station
    morton: np.ndarray  # uint64 level-30 key
    lon: np.ndarray
    lat: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    brand: np.ndarray
    levels: list[Level]
    edits: list[tuple[int, int, int]] = field(default_factory=list)
    subset: Filters | None = None  # only the stations passing this filter (None: every searchable one)
    opened: np.ndarray | None = None  # with subset.open_now: per snapshot position, open when last followed
    open_from: np.ndarray | None = None  # the open-state array `opened` was taken from
    retired: bool = False  # dropped from the snapshot: what is kept for it elsewhere can go

    @property
    def key(self) -> tuple[coords.CoordSystem, Filters | None]:
        return self.coord, self.subset


def subset_of(filters: Filters) -> Filters | None:
    """The grid filter for a request's filters (brands and places in a canonical order; keywords are not
    pre-aggregated: the caller tests stations), None for no filter at all."""
    if filters.words or filters == Filters():
        return None
    brands = tuple(sorted(set(filters.brands))) if filters.brands is not None else None
    places = tuple(sorted(set(filters.places))) if filters.places is not None else None
    return replace(filters, brands=brands, places=places)


def members(
    snap: Snapshot, positions: np.ndarray, subset: Filters | None, opened: np.ndarray | None
) -> np.ndarray:
    """Which of these snapshot positions belong in a grid of `subset` (`opened`: who is open, per
    snapshot position, for an open-now subset)."""
    keep: np.ndarray = snap.status[positions] != CLOSED
    if subset is not None:
        keep &= eligible_mask(snap, positions, replace(subset, open_now=False), _NO_STATE)
        if opened is not None:
            keep &= opened[positions]
    return keep


_NO_STATE = np.empty(0, np.int8)


def _reduce(f: np.ufunc, values: np.ndarray, start: np.ndarray) -> np.ndarray:
    return f.reduceat(values, start) if len(values) else values[:0]


def build(
    snap: Snapshot,
    coord: coords.CoordSystem,
    subset: Filters | None = None,
    open_state: np.ndarray | None = None,
) -> Grid:
    """The grid of the searchable stations passing `subset` (open_state: needed with subset.open_now)."""
    opened = None
    if subset is not None and subset.open_now:
        assert open_state is not None, "an open-now grid needs the open state"
        opened = open_state == 1
    positions = np.flatnonzero(members(snap, np.arange(len(snap)), subset, opened))
    lons, lats = snap.lonlat[coord]
    mx, my = to_mercator(lons[positions], lats[positions])
    morton = morton_keys(mx, my)
    order = np.argsort(morton, kind="stable")
    position, morton, mx, my = positions[order], morton[order], mx[order], my[order]
    lon, lat = lons[position], lats[position]
    brand = snap.brand[position].astype(np.int64)
    width = max(len(snap.brands), 1)
    levels: list[Level] = []
    for level in range(FINEST + 1):
        key = morton >> np.uint64(2 * (MAX_LEVEL - level))
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
        end = np.r_[start[1:], len(key)].astype(np.int64)
        square = np.repeat(np.arange(len(start)), end - start)
        table = np.bincount(square * width + brand, minlength=len(start) * width)
        levels.append(
            Level(
                key[start], start, end,
                _reduce(np.add, lon, start), _reduce(np.add, lat, start),
                _reduce(np.minimum, lon, start), _reduce(np.minimum, lat, start),
                _reduce(np.maximum, lon, start), _reduce(np.maximum, lat, start),
                _reduce(np.minimum, mx, start), _reduce(np.maximum, mx, start),
                _reduce(np.minimum, my, start), _reduce(np.maximum, my, start),
                table.reshape(len(start), width).astype(np.int32),
                np.empty(0, np.int64), np.empty(0, np.int64),
            )
        )  # fmt: skip
    for finer, coarser in zip(levels[1:], levels[:-1], strict=True):
        first = coarser.key << np.uint64(2)
        coarser.child_lo = np.searchsorted(finer.key, first)
        coarser.child_hi = np.searchsorted(finer.key, first + np.uint64(4))
    return Grid(
        coord, width, position, morton, lon, lat, mx, my, brand, levels,
        subset=subset, opened=opened, open_from=open_state if opened is not None else None,
    )  # fmt: skip


_KEY = "cluster_grids"


def morton_keys(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """The level-30 Morton keys of normalised mercator positions."""
    col = np.minimum((mx * _FULL).astype(np.int64), _FULL - 1)
    row = np.minimum((my * _FULL).astype(np.int64), _FULL - 1)
    keys: np.ndarray = (_spread(col) << np.uint64(1)) | _spread(row)
    return keys


def grids(snap: Snapshot) -> list[Grid]:
    """The grids built so far for this snapshot."""
    kept = snap.derived.get(_KEY)
    return [g for g in kept.values() if isinstance(g, Grid)] if isinstance(kept, dict) else []


def grid(
    snap: Snapshot,
    coord: coords.CoordSystem,
    subset: Filters | None = None,
    open_state: np.ndarray | None = None,
) -> Grid:
    """The snapshot's grid in `coord` for `subset`, built on first use (and after `forget`). An open-now
    grid is as open as when it was built or last followed (geo.grid_patch.follow_open brings it to
    `open_state`)."""
    kept = snap.derived.setdefault(_KEY, {})
    assert isinstance(kept, dict)
    key = (coord, subset)
    found = kept.pop(key, None)
    if not isinstance(found, Grid):
        found = build(snap, coord, subset, open_state)
    kept[key] = found  # the most recently used last
    filtered = [k for k in kept if k[1] is not None]
    for old in filtered[: max(0, len(filtered) - MAX_SUBSETS)]:
        kept.pop(old).retired = True
    return found


def drop(snap: Snapshot, g: Grid) -> None:
    kept = snap.derived.get(_KEY)
    if isinstance(kept, dict) and kept.get(g.key) is g:
        del kept[g.key]
    g.retired = True


def forget(snap: Snapshot) -> None:
    for g in grids(snap):
        g.retired = True
    snap.derived.pop(_KEY, None)


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenated aranges lo[i]..hi[i] - 1."""
    sizes = hi - lo
    offsets = np.cumsum(sizes) - sizes
    out: np.ndarray = np.arange(int(sizes.sum())) - np.repeat(offsets - lo, sizes)
    return out


@dataclass(frozen=True)
class GridClusters:
    """Clusters plus each cluster's brand counts (clusters, grid.n_brands), and what they were made of: the
    whole squares (level, indices), the stations tested one by one (grid indices) and the cluster of each
    of those rows in that order (squares first)."""

    clusters: Clusters
    brands: np.ndarray
    pieces: list[tuple[int, np.ndarray]]
    stations: np.ndarray
    group: np.ndarray


def clusters_in_box(
    g: Grid,
    west: float,
    south: float,
    east: float,
    north: float,
    zoom: int,
    max_clusters: int,
    more_than: int = 0,
) -> GridClusters | None:
    """The clusters geo.clusters.cluster makes of the searchable stations in the closed box, or None when
    at most `more_than` are inside or the grid level needed is finer than FINEST (the caller lists or
    clusters the stations instead)."""
    whole: list[tuple[int, np.ndarray]] = []  # (level, square indices) taken whole
    edges: list[np.ndarray] = []
    level, idx = 0, np.arange(len(g.levels[0].key))
    while len(idx):
        t = g.levels[level]
        w, s, e, n = t.west[idx], t.south[idx], t.east[idx], t.north[idx]
        inside = (w >= west) & (e <= east) & (s >= south) & (n <= north)
        outside = (e < west) | (w > east) | (n < south) | (s > north)
        whole.append((level, idx[inside]))
        cut = idx[~inside & ~outside]
        small = (t.end[cut] - t.start[cut] <= SMALL) if level < FINEST else np.ones(len(cut), bool)
        edges.append(ranges(t.start[cut[small]], t.end[cut[small]]))
        deeper = cut[~small]
        if not len(deeper):
            break
        idx = ranges(t.child_lo[deeper], t.child_hi[deeper])
        level += 1
    at = np.concatenate(edges) if edges else np.empty(0, np.int64)
    x, y = g.lon[at], g.lat[at]
    at = at[(x >= west) & (x <= east) & (y >= south) & (y <= north)]
    total = len(at) + sum(int((g.levels[lv].end[i] - g.levels[lv].start[i]).sum()) for lv, i in whole)
    if total <= more_than or not total:
        return None
    mins = [g.levels[lv].mx_min[i] for lv, i in whole] + [g.mx[at]]
    maxs = [g.levels[lv].mx_max[i] for lv, i in whole] + [g.mx[at]]
    ymins = [g.levels[lv].my_min[i] for lv, i in whole] + [g.my[at]]
    ymaxs = [g.levels[lv].my_max[i] for lv, i in whole] + [g.my[at]]
    dx = float(max(a.max() for a in maxs if len(a)) - min(a.min() for a in mins if len(a)))
    dy = float(max(a.max() for a in ymaxs if len(a)) - min(a.min() for a in ymins if len(a)))
    first = min(MAX_LEVEL, zoom + GRID_LEVELS_BELOW_ZOOM, start_level(dx, dy, max_clusters))
    for grid_level in range(first, -1, -1):
        if any(lv < grid_level for lv, i in whole if len(i)) and grid_level > FINEST:
            return None
        pieces = _pieces(g, whole, grid_level)
        keys = np.concatenate(
            [g.levels[lv].key[i] >> np.uint64(2 * (lv - grid_level)) for lv, i in pieces]
            + [g.morton[at] >> np.uint64(2 * (MAX_LEVEL - grid_level))]
        )
        unique, group = np.unique(keys, return_inverse=True)
        if len(unique) <= max_clusters or grid_level == 0:
            return _aggregate(g, pieces, at, grid_level, unique, group)
    raise AssertionError("level 0 always answers")


def _pieces(g: Grid, whole: list[tuple[int, np.ndarray]], grid_level: int) -> list[tuple[int, np.ndarray]]:
    """The whole squares as (level table, indices) at the grid level or finer: a square coarser than the
    grid is replaced by its descendants at the grid level (all inside the box, as it was)."""
    out: list[tuple[int, np.ndarray]] = []
    for lv, idx in whole:
        if not len(idx):
            continue
        if lv >= grid_level:
            out.append((lv, idx))
            continue
        for d in range(lv, grid_level):  # descend to the grid level: all of it stays inside
            t = g.levels[d]
            idx = ranges(t.child_lo[idx], t.child_hi[idx])
        out.append((grid_level, idx))
    return out


def _aggregate(
    g: Grid,
    pieces: list[tuple[int, np.ndarray]],
    at: np.ndarray,
    grid_level: int,
    unique: np.ndarray,
    group: np.ndarray,
) -> GridClusters:
    k = len(unique)

    def field(name: str, station: np.ndarray) -> np.ndarray:
        return np.concatenate([getattr(g.levels[lv], name)[i] for lv, i in pieces] + [station])

    counts = field("end", np.ones(len(at), np.int64)) - field("start", np.zeros(len(at), np.int64))
    count = np.bincount(group, weights=counts, minlength=k).astype(np.int64)
    lon = np.bincount(group, weights=field("sum_lon", g.lon[at]), minlength=k) / count
    lat = np.bincount(group, weights=field("sum_lat", g.lat[at]), minlength=k) / count
    west, south = np.full(k, np.inf), np.full(k, np.inf)
    east, north = np.full(k, -np.inf), np.full(k, -np.inf)
    np.minimum.at(west, group, field("west", g.lon[at]))
    np.minimum.at(south, group, field("south", g.lat[at]))
    np.maximum.at(east, group, field("east", g.lon[at]))
    np.maximum.at(north, group, field("north", g.lat[at]))
    rows = np.zeros((len(at), g.n_brands), np.int32)
    rows[np.arange(len(at)), g.brand[at]] = 1
    brands = np.zeros((k, g.n_brands), np.int64)
    np.add.at(brands, group, np.concatenate([g.levels[lv].brands[i] for lv, i in pieces] + [rows]))
    # Morton key at the grid level -> geo.clusters' key (column * 2^level + row), in its order
    col = _squeeze(unique >> np.uint64(1))
    row = _squeeze(unique)
    keys = col * (1 << grid_level) + row
    order = np.argsort(keys)
    none = np.empty(0, np.int64)
    found = Clusters(
        grid_level, keys[order], count[order], none,
        lon[order], lat[order], west[order], south[order], east[order], north[order],
    )  # fmt: skip
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    return GridClusters(found, brands[order], pieces, at, rank[group])
