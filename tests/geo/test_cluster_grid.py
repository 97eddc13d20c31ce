"""The pre-aggregated cluster grid (geo/cluster_grid.py) groups a box's stations exactly as the per-station
clustering of the stations inside does (geo.viewport + geo.clusters): same keys, counts, bounding boxes and
brand counts, centroids within 1e-9 degrees, in all three systems, before and after catalogue patches;
a grid patched in place equals one built afresh."""

from __future__ import annotations

import random

import numpy as np

from geo import cells, cluster_grid, coords, grid_patch
from geo.clusters import cluster
from geo.patch import patch_stations
from geo.snapshot import Snapshot, build_snapshot
from geo.viewport import Box, Filters, stations_in_box
from tests.geo.synthetic import CENTRES, rows

CHINA = (73.0, 17.0, 136.0, 54.0)


def _same(
    snap: Snapshot, box: tuple[float, float, float, float], system: coords.CoordSystem, zoom: int
) -> bool:
    """Asserts the grid's clusters equal the exact ones; False when the grid declined (level too fine)."""
    inside = stations_in_box(snap, Box(*box, system), Filters(), np.zeros(len(snap), np.int8))
    got = cluster_grid.clusters_in_box(cluster_grid.grid(snap, system), *box, zoom, 256)
    if not len(inside):
        assert got is None
        return True
    if got is None:
        return False
    lons, lats = snap.lonlat[system]
    want = cluster(lons[inside], lats[inside], zoom, 256)
    mine = got.clusters
    assert mine.level == want.level and mine.keys.tolist() == want.keys.tolist(), box
    assert mine.counts.tolist() == want.counts.tolist()
    for name in ("west", "south", "east", "north"):
        assert getattr(mine, name).tolist() == getattr(want, name).tolist(), name
    assert np.abs(mine.lon - want.lon).max() < 1e-9 and np.abs(mine.lat - want.lat).max() < 1e-9
    width = got.brands.shape[1]
    brands = np.bincount(want.group * width + snap.brand[inside], minlength=len(want.keys) * width)
    assert got.brands.tolist() == brands.reshape(-1, width).tolist()
    return True


def _boxes(rng: random.Random, system: coords.CoordSystem, n: int) -> list[tuple[tuple[float, ...], int]]:
    out: list[tuple[tuple[float, ...], int]] = [(CHINA, z) for z in (1, 4, 6, 22)]
    for _ in range(n):
        lon0, lat0 = coords.from_wgs84(*rng.choice(CENTRES), system)
        lon, lat = lon0 + rng.uniform(-1.0, 1.0), lat0 + rng.uniform(-1.0, 1.0)
        w, h = (
            rng.choice([0.05, 0.3, 1.0, 4.0, 12.0]) * rng.random(),
            rng.choice([0.05, 0.3, 2.0, 9.0]) * rng.random(),
        )
        out.append(
            ((lon - w / 2, lat - h / 2, lon + w / 2, lat + h / 2), rng.choice([3, 5, 6, 8, 9, 11, 13]))
        )
    return out


def test_the_grid_clusters_equal_the_exact_ones_in_every_system() -> None:
    snap = build_snapshot(rows(4000, seed=21), version=1)
    rng = random.Random(14)
    answered = 0
    for system in coords.CoordSystem:
        for box, zoom in _boxes(rng, system, 60):
            answered += _same(snap, box, system, zoom)  # type: ignore[arg-type]
    assert answered > 150


def test_boxes_cutting_squares_and_a_station_on_the_edge() -> None:
    snap = build_snapshot(rows(3000, seed=5), version=1)
    lons, lats = snap.lonlat[coords.CoordSystem.GCJ02]
    rng = random.Random(3)
    for _ in range(40):
        at = rng.randrange(len(snap))
        x, y = float(lons[at]), float(lats[at])
        size = rng.choice([0.5, 2.0, 6.0])
        box = (x, y - size / 2, x + size, y + size / 2)  # the station on the west edge
        assert _same(snap, box, coords.CoordSystem.GCJ02, 6)
        assert _same(snap, (np.nextafter(x, 180.0), *box[1:]), coords.CoordSystem.GCJ02, 6)


def _equal_to_a_fresh_build(snap: Snapshot, g: cluster_grid.Grid) -> None:
    fresh = cluster_grid.build(snap, g.coord)
    for name in grid_patch._STATION_FIELDS:
        assert np.array_equal(getattr(g, name), getattr(fresh, name)), name
    for level, (mine, want) in enumerate(zip(g.levels, fresh.levels, strict=True)):
        for name in (*grid_patch._ROW_FIELDS, "child_lo", "child_hi"):
            if name.startswith("sum_"):  # added and taken off patch by patch: equal but for rounding
                assert np.allclose(getattr(mine, name), getattr(want, name), rtol=1e-12, atol=0), name
            else:
                assert np.array_equal(getattr(mine, name), getattr(want, name)), (level, name)


def _changed(r: dict[str, object], kind: str, rng: random.Random) -> dict[str, object]:
    new = dict(r)
    if kind == "move":  # far (other squares at every level) or near (the same finest square)
        step = rng.choice([3.0, 0.001])
        new["lon"] = float(r["lon"]) + rng.uniform(-step, step)  # type: ignore[arg-type]
        new["lat"] = float(r["lat"]) + rng.uniform(-step, step)  # type: ignore[arg-type]
        c = cells.cells_of(new["lon"], new["lat"])  # type: ignore[arg-type]
        new["h3_r5"], new["h3_r7"] = c[5], c[7]
    elif kind == "close":
        new["status"] = "closed"
    elif kind == "brand":
        new["brand"] = rng.choice(["sinopec", "petrochina", "shell", "private"])
    else:
        new["name"] = f"{r['name']}·新"
    return new


def test_patches_update_the_grids_in_place_equal_to_a_fresh_build() -> None:
    current = {int(r["id"]): r for r in rows(3000, seed=8)}
    snap = build_snapshot(list(current.values()), version=1)
    built = {system: cluster_grid.grid(snap, system) for system in coords.CoordSystem}
    rng = random.Random(9)
    ids = sorted(current)
    for step in range(120):
        batch = []
        for station_id in rng.sample(ids, rng.randint(1, 4)):
            kind = rng.choice(["move", "move", "close", "reopen", "brand", "rename"])
            if kind == "reopen":
                new = dict(current[station_id], status="open")
            else:
                new = _changed(current[station_id], kind, rng)
            current[station_id] = new
            batch.append(new)
        gone = [rng.choice(ids)] if step % 10 == 0 else []
        patch_stations(snap, batch, gone)
        for station_id in gone:
            current[station_id] = dict(current[station_id], status="closed")
        if step % 20 == 19:
            for system, g in built.items():
                assert cluster_grid.grid(snap, system) is g  # patched, not rebuilt
                _equal_to_a_fresh_build(snap, g)
    kinds = {kind for g in built.values() for kind, _, _ in g.edits}
    assert kinds == {-1, 0, 1}  # squares emptied, made and changed
    for system in coords.CoordSystem:
        for box, zoom in _boxes(rng, system, 20):
            _same(snap, box, system, zoom)  # type: ignore[arg-type]


def test_a_new_brand_or_a_large_batch_rebuilds_the_grids_and_a_rename_keeps_them() -> None:
    current = rows(3000, seed=8)
    snap = build_snapshot(current, version=1)
    before = cluster_grid.grid(snap, coords.CoordSystem.WGS84)
    patch_stations(snap, [dict(current[1], brand="cnooc")], [])  # a brand the grid has no column for
    again = cluster_grid.grid(snap, coords.CoordSystem.WGS84)
    assert again is not before
    rng = random.Random(2)
    many = [_changed(r, "move", rng) for r in current[10 : 11 + grid_patch.PATCH_LIMIT]]
    patch_stations(snap, many, [])
    rebuilt = cluster_grid.grid(snap, coords.CoordSystem.WGS84)
    assert rebuilt is not again
    _equal_to_a_fresh_build(snap, rebuilt)
    for box, zoom in _boxes(rng, coords.CoordSystem.WGS84, 20):
        _same(snap, box, coords.CoordSystem.WGS84, zoom)  # type: ignore[arg-type]
    patch_stations(snap, [dict(current[0], name="只改名字")], [])
    assert cluster_grid.grid(snap, coords.CoordSystem.WGS84) is rebuilt  # a rename keeps the grid
