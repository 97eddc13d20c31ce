"""The pre-aggregated cluster grid (geo/cluster_grid.py) groups a box's stations exactly as the per-station
clustering of the stations inside does (geo.viewport + geo.clusters): same keys, counts, bounding boxes and
brand counts, centroids within 1e-9 degrees, in all three systems, before and after catalogue patches."""

from __future__ import annotations

import random

import numpy as np

from geo import cells, cluster_grid, coords
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


def test_after_patches_the_grid_is_rebuilt_and_still_equal() -> None:
    current = rows(3000, seed=8)
    snap = build_snapshot(current, version=1)
    before = cluster_grid.grid(snap, coords.CoordSystem.WGS84)
    assert _same(snap, CHINA, coords.CoordSystem.WGS84, 5)
    rng = random.Random(9)
    for r in rng.sample(current, 200):
        new = dict(r)
        kind = rng.choice(["move", "close", "brand", "rename"])
        if kind == "move":
            new["lon"], new["lat"] = r["lon"] + rng.uniform(-3, 3), r["lat"] + rng.uniform(-2, 2)
            c = cells.cells_of(new["lon"], new["lat"])
            new["h3_r5"], new["h3_r7"] = c[5], c[7]
        elif kind == "close":
            new["status"] = "closed"
        elif kind == "brand":
            new["brand"] = "cnooc"
        else:
            new["name"] = r["name"] + "·新"
        patch_stations(snap, [new], [])
    assert cluster_grid.grid(snap, coords.CoordSystem.WGS84) is not before
    for system in coords.CoordSystem:
        for box, zoom in _boxes(rng, system, 20):
            _same(snap, box, system, zoom)  # type: ignore[arg-type]
    renamed = dict(current[0], name="只改名字")
    kept = cluster_grid.grid(snap, coords.CoordSystem.WGS84)
    patch_stations(snap, [renamed], [])
    assert cluster_grid.grid(snap, coords.CoordSystem.WGS84) is kept  # a rename keeps the grid
