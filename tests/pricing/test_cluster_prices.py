"""The viewport's pre-aggregated clusters (listing.viewport._grid_clusters: geo/cluster_grid.py with
pricing/cluster_prices.py) answer exactly what the per-station path does (geo.clusters.cluster and
listing.viewport._facts over the stations inside): keys, counts, boxes, brands, the cheapest fresh price per
grade and currency, centroids within 1e-9 degrees; over random boxes in all three systems, with an explicit
`now` moving across the 48 h staleness mark of many prices, forwards and back, and after price and
catalogue patches."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from geo import cells, cluster_grid, coords
from geo.clusters import cluster
from geo.grades import GRADE_BITS
from geo.patch import patch_stations
from geo.services import service_mask
from geo.snapshot import Snapshot, build_snapshot
from geo.viewport import Box, Filters, stations_in_box
from listing.viewport import MAX_CLUSTERS, MAX_STATIONS, ViewportAsk, _facts, _grid_clusters
from pricing import cluster_prices
from pricing.patch import patch_prices
from pricing.pricebook import PriceBook, build_pricebook
from pricing.repository import CurrentPrice
from tests.geo.synthetic import CENTRES, rows

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CHINA = (73.0, 17.0, 136.0, 54.0)

NO_FILTER = Filters()


def _prices(snap: Snapshot, rng: random.Random, ids: list[int]) -> list[CurrentPrice]:
    """Pump and platform prices confirmed from 60 h before NOW to 10 h after, a few in EUR."""
    out = []
    for station_id in ids:
        for grade in rng.sample(["92", "95", "0", "98"], rng.randint(0, 3)):
            currency = "EUR" if rng.random() < 0.05 else "CNY"
            pump = Decimal(rng.randint(600, 900)) / 100
            at = NOW - timedelta(hours=rng.uniform(-10, 60))
            out.append(CurrentPrice(station_id, grade, "pump", pump, currency, at))
            if rng.random() < 0.5:
                platform = pump + Decimal(rng.randint(-80, 20)) / 100
                at = NOW - timedelta(hours=rng.uniform(-10, 60))
                out.append(CurrentPrice(station_id, grade, "platform", platform, currency, at))
    return out


def _check(
    snap: Snapshot,
    book: PriceBook,
    box: tuple[float, ...],
    system: coords.CoordSystem,
    zoom: int,
    now: datetime,
    filters: Filters = NO_FILTER,
    open_state: np.ndarray | None = None,
) -> bool:
    west, south, east, north = box
    state = np.zeros(len(snap), np.int8) if open_state is None else open_state
    ask = ViewportAsk(Box(west, south, east, north, system), zoom, filters, grade="92")
    got = _grid_clusters(snap, book, ask, state, now)
    inside = stations_in_box(snap, ask.box, filters, state)
    if got is None:
        return False
    assert len(inside) > MAX_STATIONS
    lons, lats = snap.lonlat[system]
    want = cluster(lons[inside], lats[inside], zoom, MAX_CLUSTERS)
    facts = _facts(snap, book, inside, want, now)
    mine, mine_facts = got
    assert mine.level == want.level and mine.keys.tolist() == want.keys.tolist()
    assert mine.counts.tolist() == want.counts.tolist()
    for name in ("west", "south", "east", "north"):
        assert getattr(mine, name).tolist() == getattr(want, name).tolist()
    assert np.abs(mine.lon - want.lon).max() < 1e-9 and np.abs(mine.lat - want.lat).max() < 1e-9
    assert mine_facts.cheapest == facts.cheapest, (box, system, zoom, now)
    assert mine_facts.brands == facts.brands
    return True


def _boxes(rng: random.Random, system: coords.CoordSystem, n: int) -> list[tuple[tuple[float, ...], int]]:
    out: list[tuple[tuple[float, ...], int]] = [(CHINA, 4), (CHINA, 8)]
    for _ in range(n):
        lon0, lat0 = coords.from_wgs84(*rng.choice(CENTRES), system)
        lon, lat = lon0 + rng.uniform(-0.5, 0.5), lat0 + rng.uniform(-0.5, 0.5)
        w, h = rng.uniform(0.3, 12.0), rng.uniform(0.3, 9.0)
        out.append(((lon - w / 2, lat - h / 2, lon + w / 2, lat + h / 2), rng.choice([4, 6, 8, 10])))
    return out


def test_grid_clusters_equal_the_exact_path_across_the_staleness_mark_and_patches() -> None:
    current = rows(4000, seed=31)
    snap = build_snapshot(current, version=1)
    rng = random.Random(48)
    book = build_pricebook(snap.ids, _prices(snap, rng, [int(i) for i in snap.ids]), 1, 1)
    answered = 0
    # now moves forward by hours (prices going stale under the cached cells), then back
    for hours in (0, 1, 5, 12, 30, 3, -2):
        now = NOW + timedelta(hours=hours)
        for system in coords.CoordSystem:
            for box, zoom in _boxes(rng, system, 8):
                answered += _check(snap, book, box, system, zoom, now)
    assert answered > 100
    # price patches: the patched stations' squares are recomputed
    for _ in range(5):
        changed = [int(i) for i in rng.sample(list(snap.ids), 300)]
        patch_prices(book, snap.ids, changed, _prices(snap, rng, changed))
        for system in coords.CoordSystem:
            for box, zoom in _boxes(rng, system, 6):
                _check(snap, book, box, system, zoom, NOW + timedelta(hours=2))
    # catalogue patches: moved, closed and rebranded stations (the grids patched in place, but for the
    # first "cnooc", a brand they have no column for), with a price patch and checks between them
    for i, r in enumerate(rng.sample(current, 100)):
        if i % 25 == 24:
            changed = [int(r["id"])]
            patch_prices(book, snap.ids, changed, _prices(snap, rng, changed))
            for system in coords.CoordSystem:
                for box, zoom in _boxes(rng, system, 3):
                    _check(snap, book, box, system, zoom, NOW + timedelta(hours=2))
        new = (
            dict(r, brand=rng.choice(["cnooc", "shell"])) if rng.random() < 0.5 else dict(r, status="closed")
        )
        if rng.random() < 0.3:
            new["lon"], new["lat"] = r["lon"] + 1.5, r["lat"] - 1.0
            c = cells.cells_of(new["lon"], new["lat"])
            new["h3_r5"], new["h3_r7"] = c[5], c[7]
        patch_stations(snap, [new], [])
    for system in coords.CoordSystem:
        for box, zoom in _boxes(rng, system, 10):
            _check(snap, book, box, system, zoom, NOW + timedelta(hours=2))


def test_filtered_grid_clusters_carry_the_cheapest_prices_of_the_stations_passing_the_filter() -> None:
    current = rows(4000, seed=12)
    snap = build_snapshot(current, version=1)
    rng = random.Random(5)
    book = build_pricebook(snap.ids, _prices(snap, rng, [int(i) for i in snap.ids]), 1, 1)
    state = np.array([rng.choice([-1, 0, 1, 1]) for _ in range(len(snap))], np.int8)
    subsets = [
        Filters(grade_bit=GRADE_BITS["95"]),
        Filters(brands=("shell", "private"), open_now=True),
        Filters(grade_bit=GRADE_BITS["0"], services=service_mask(["car_wash"])),
    ]
    answered = 0
    for hours in (0, 6, 30, -2):
        for filters in subsets:
            for system in (coords.CoordSystem.GCJ02, coords.CoordSystem.BD09):
                for box, zoom in _boxes(rng, system, 5):
                    at = NOW + timedelta(hours=hours)
                    answered += _check(snap, book, box, system, zoom, at, filters, state)
    assert answered > 60
    # price patches, re-graded, rebranded and moved stations, and stations opening: all followed
    for i, r in enumerate(rng.sample(current, 40)):
        changed = [int(r["id"])]
        patch_prices(book, snap.ids, changed, _prices(snap, rng, changed))
        new = dict(r, grades=rng.sample(["92", "95", "0"], 2), brand=rng.choice(["shell", "sinopec"]))
        if i % 3 == 0:
            new["lon"], new["lat"] = r["lon"] - 0.8, r["lat"] + 0.4
            c = cells.cells_of(new["lon"], new["lat"])
            new["h3_r5"], new["h3_r7"] = c[5], c[7]
        patch_stations(snap, [new], [])
        if i % 10 == 9:
            state = state.copy()
            state[rng.sample(range(len(snap)), 20)] = 1
            for filters in subsets:
                for box, zoom in _boxes(rng, coords.CoordSystem.GCJ02, 3):
                    _check(snap, book, box, coords.CoordSystem.GCJ02, zoom, NOW, filters, state)
    # each filter's grid keeps its own square prices: using another grid does not drop them
    g1, g2 = (cluster_grid.grid(snap, coords.CoordSystem.GCJ02, f, state) for f in subsets[:2])
    first = cluster_prices.cells(book, g1)
    assert cluster_prices.cells(book, g2) is not first and cluster_prices.cells(book, g1) is first
