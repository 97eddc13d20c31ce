"""A catalogue patch applied to the cluster grids (geo/cluster_grid.py) in place, station by station.

A station that moved, closed, reopened or changed brand (or, for a filtered grid, its grades, services,
place or open state) leaves the grid (if it was in it) and enters it again at its new place (if it belongs
in the grid now). Each step shifts the sorted station arrays by one and,
at every level, changes the one square holding the station: its count and brand counts by one, its
coordinate sums by the station's coordinates, its bounding boxes widened, or recomputed from its stations
when the station that left was on the bound; a square emptied is deleted, a new one inserted with the
children's ranges of its parent shifted. So a patched grid equals a grid built afresh from the patched
snapshot but for the sums' rounding (a relative 1e-16 a patch: centroids move by ~1e-14 degrees). The
cost is a few copies of the arrays against ~0.3 s for a rebuild at 1,000,000 stations; a batch of more
than PATCH_LIMIT stations, or a brand the grid has no column for, drops the grid instead (`forget`: the
next request rebuilds). Every square changed is logged in Grid.edits."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from geo import cluster_grid
from geo.cluster_grid import FINEST, Grid, Level
from geo.clusters import MAX_LEVEL
from geo.mercator import to_mercator
from geo.snapshot import Snapshot

PATCH_LIMIT = 64  # stations per batch patched in place; more: rebuild
_STATION_FIELDS = ("position", "morton", "lon", "lat", "mx", "my", "brand")
_ROW_FIELDS = (
    "key", "start", "end", "sum_lon", "sum_lat", "west", "south", "east", "north",
    "mx_min", "mx_max", "my_min", "my_max", "brands",
)  # fmt: skip


def patch(snap: Snapshot, positions: Iterable[int], refiltered: Iterable[int] = ()) -> None:
    """Bring every grid of the snapshot up to date for these stations (already patched in `snap`):
    `positions` moved, closed, reopened or changed brand; `refiltered` changed only what filtered grids
    select by (grades, services, place)."""
    changed = sorted(set(positions))
    if len(changed) > PATCH_LIMIT or (changed and int(max(snap.brand[changed])) >= _width(snap)):
        cluster_grid.forget(snap)
        return
    either = sorted(set(changed).union(refiltered))
    for g in cluster_grid.grids(snap):
        if g.subset is None and changed:
            _apply(g, snap, changed)
        elif g.subset is not None and len(either) > PATCH_LIMIT:
            cluster_grid.drop(snap, g)
        elif g.subset is not None and either:
            _apply(g, snap, either)


def follow_open(snap: Snapshot, g: Grid, open_state: np.ndarray) -> Grid:
    """An open-now grid brought to `open_state` (compute_open_state's array): the stations that opened or
    closed since it was last followed enter or leave it; more than PATCH_LIMIT of them, a new grid."""
    if g.opened is None or g.open_from is open_state:
        return g
    now_open = open_state == 1
    changed = np.flatnonzero(now_open != g.opened)
    if len(changed) > PATCH_LIMIT:
        cluster_grid.drop(snap, g)
        return cluster_grid.grid(snap, g.coord, g.subset, open_state)
    g.opened, g.open_from = now_open, open_state
    _apply(g, snap, changed.tolist())
    return g


def _apply(g: Grid, snap: Snapshot, changed: list[int]) -> None:
    lons, lats = snap.lonlat[g.coord]
    belongs = cluster_grid.members(snap, np.array(changed, np.int64), g.subset, g.opened)
    for pos, member in zip(changed, belongs.tolist(), strict=True):
        found = np.flatnonzero(g.position == pos)
        if len(found) and member and (g.lon[found[0]], g.lat[found[0]]) == (lons[pos], lats[pos]):
            _rebrand(g, int(found[0]), int(snap.brand[pos]))  # same place: only its brand changed
            continue
        if len(found):
            _remove(g, int(found[0]))
        if member:
            _insert(g, snap, pos)


def _width(snap: Snapshot) -> int:
    built = cluster_grid.grids(snap)
    return min(g.n_brands for g in built) if built else 1 << 30


_BOUNDS = (
    ("west", "lon", np.minimum), ("east", "lon", np.maximum),
    ("south", "lat", np.minimum), ("north", "lat", np.maximum),
    ("mx_min", "mx", np.minimum), ("mx_max", "mx", np.maximum),
    ("my_min", "my", np.minimum), ("my_max", "my", np.maximum),
)  # fmt: skip


def _left(g: Grid, t: Level, j: int, station: dict[str, float]) -> None:
    """Row j lost this station: its sums less its coordinates, a bound it was on recomputed."""
    t.sum_lon[j] -= station["lon"]
    t.sum_lat[j] -= station["lat"]
    s, e = int(t.start[j]), int(t.end[j])
    for name, column, f in _BOUNDS:
        if getattr(t, name)[j] == station[column]:
            getattr(t, name)[j] = f.reduce(getattr(g, column)[s:e])


def _came(t: Level, j: int, station: dict[str, float]) -> None:
    """Row j gained this station: its sums and bounds take it in."""
    t.sum_lon[j] += station["lon"]
    t.sum_lat[j] += station["lat"]
    for name, column, f in _BOUNDS:
        getattr(t, name)[j] = f(getattr(t, name)[j], station[column])


def _rebrand(g: Grid, r: int, brand: int) -> None:
    """The station at r changed brand only: each square holding it counts it under its new brand."""
    for t in g.levels:
        j = int(np.searchsorted(t.start, r, side="right")) - 1
        t.brands[j, g.brand[r]] -= 1
        t.brands[j, brand] += 1
    g.brand[r] = brand


def _remove(g: Grid, r: int) -> None:
    brand = int(g.brand[r])
    station = {name: float(getattr(g, name)[r]) for name in ("lon", "lat", "mx", "my")}
    for name in _STATION_FIELDS:
        setattr(g, name, np.delete(getattr(g, name), r))
    for level, t in enumerate(g.levels):
        j = int(np.searchsorted(t.start, r, side="right")) - 1
        t.end[j] -= 1
        t.start[j + 1 :] -= 1
        t.end[j + 1 :] -= 1
        if t.end[j] > t.start[j]:
            t.brands[j, brand] -= 1
            _left(g, t, j, station)
            g.edits.append((0, level, j))
            continue
        for name in _ROW_FIELDS:
            setattr(t, name, np.delete(getattr(t, name), j, axis=0))
        if level < FINEST:
            t.child_lo, t.child_hi = np.delete(t.child_lo, j), np.delete(t.child_hi, j)
        if level:
            parent = g.levels[level - 1]
            parent.child_lo[parent.child_lo > j] -= 1
            parent.child_hi[parent.child_hi > j] -= 1
        g.edits.append((-1, level, j))


def _insert(g: Grid, snap: Snapshot, pos: int) -> None:
    lons, lats = snap.lonlat[g.coord]
    lon, lat = lons[pos : pos + 1], lats[pos : pos + 1]
    mx, my = to_mercator(lon, lat)
    key = cluster_grid.morton_keys(mx, my)
    brand = int(snap.brand[pos])
    r = int(np.searchsorted(g.morton, key[0]))
    while r < len(g.morton) and g.morton[r] == key[0] and g.position[r] < pos:  # ties by position
        r += 1
    station = {"lon": float(lon[0]), "lat": float(lat[0]), "mx": float(mx[0]), "my": float(my[0])}
    for name, value in {**station, "position": pos, "morton": key[0], "brand": brand}.items():
        setattr(g, name, np.insert(getattr(g, name), r, value))
    parent_row = -1
    for level, t in enumerate(g.levels):
        square = key[0] >> np.uint64(2 * (MAX_LEVEL - level))
        j = int(np.searchsorted(t.key, square))
        if j < len(t.key) and t.key[j] == square:
            t.end[j] += 1
            t.start[j + 1 :] += 1
            t.end[j + 1 :] += 1
            t.brands[j, brand] += 1
            _came(t, j, station)
            g.edits.append((0, level, j))
        else:
            row = np.zeros((1, g.n_brands), np.int32)
            row[0, brand] = 1
            new = {"key": square, "start": r, "end": r + 1, "brands": row[0], "sum_lon": station["lon"]}
            new |= {"sum_lat": station["lat"], **{name: station[column] for name, column, _ in _BOUNDS}}
            for name in _ROW_FIELDS:
                setattr(t, name, np.insert(getattr(t, name), j, new.get(name, 0.0), axis=0))
            t.start[j + 1 :] += 1
            t.end[j + 1 :] += 1
            if level < FINEST:  # no children yet: an empty range where the child will go
                nxt = g.levels[level + 1]
                at = int(np.searchsorted(nxt.key, square << np.uint64(2)))
                t.child_lo, t.child_hi = np.insert(t.child_lo, j, at), np.insert(t.child_hi, j, at)
            if level:
                parent = g.levels[level - 1]
                parent.child_lo[parent_row + 1 :] += 1  # its own first child stays at j or before
                parent.child_hi[parent_row:] += 1
            g.edits.append((1, level, j))
        parent_row = j
