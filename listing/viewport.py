"""The map's viewport: the stations in a box (geo.viewport) with the optional columns of nearby, or, when
more than MAX_STATIONS are inside, their clusters (geo.clusters) with each cluster's cheapest fresh price
per grade and its brands' shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from geo import cluster_grid, grid_patch
from geo.clusters import Clusters, cluster
from geo.coords import CoordSystem
from geo.snapshot import Snapshot
from geo.viewport import Box, Filters, stations_in_box
from listing import columns
from listing.rank import STALE_AFTER_S, by_payable, driver_context
from listing.sources import ListSources
from pricing import cluster_prices, stacked_prices
from pricing.compare import CompareRequest
from pricing.fills import FillRequest
from pricing.pricebook import CURRENCIES, PriceBook

MAX_STATIONS = 200  # more inside the box: clusters
MAX_CLUSTERS = 256


@dataclass(frozen=True)
class ViewportAsk:
    box: Box
    zoom: int
    filters: Filters
    grade: str  # the grade of the effective and wait columns
    prices: bool = False
    fill: FillRequest | None = None  # column: what the driver pays for this fill
    driver_id: str | None = None
    wait: bool = False
    nav_app: str | None = None  # column: navigation links, with this app name as their src/referer


@dataclass(frozen=True)
class ClusterFacts:
    """Per cluster: [(grade, currency, cheapest fresh shown price in milli-units)], [(brand, count)]."""

    cheapest: list[list[tuple[str, str, int]]]
    brands: list[list[tuple[str, int]]]


@dataclass(frozen=True)
class Viewport:
    snap: Snapshot
    open_state: np.ndarray
    total: int  # eligible stations inside the box
    positions: np.ndarray  # the stations listed (empty when clustered), by id
    members: list[bytes] | None
    clusters: Clusters | None = None
    facts: ClusterFacts | None = None


async def viewport(sources: ListSources, ask: ViewportAsk, now: datetime) -> Viewport:
    index = sources.index
    snap = index.snapshot
    open_state = index.open_state(now)
    if not ask.filters.words:  # the pre-aggregated squares of the filter when the box is big
        quick = _grid_clusters(snap, sources.prices.book(snap.version), ask, open_state, now)
        if quick is not None:
            return Viewport(snap, open_state, int(quick[0].counts.sum()), _NONE, None, *quick)
    inside = stations_in_box(snap, ask.box, ask.filters, open_state)
    if len(inside) > MAX_STATIONS:
        lons, lats = snap.lonlat[ask.box.coord]
        found = cluster(lons[inside], lats[inside], ask.zoom, MAX_CLUSTERS)
        book = sources.prices.book(snap.version)
        facts = _facts(snap, book, inside, found, now)
        return Viewport(snap, open_state, len(inside), inside[:0], None, found, facts)
    parts: list[columns.Members] = []
    if ask.prices:
        parts.append(columns.price_members(sources.prices.book(snap.version), inside, now, sources.memo))
    if ask.fill is not None:
        parts.append(await _effective(sources, snap, ask, ask.fill, inside, now))
    if ask.wait:
        minutes, stale = sources.waits.columns(sources.book(), snap.ids[inside], ask.grade, now.timestamp())
        parts.append(columns.wait_members(minutes, stale))
    if ask.nav_app is not None:
        parts.append(columns.navigation_members(snap, inside, ask.nav_app))
    return Viewport(snap, open_state, len(inside), inside, _joined(parts))


_NONE = np.empty(0, dtype=np.int64)


def warm(snap: Snapshot, book: PriceBook, now: datetime, coord: CoordSystem = CoordSystem.GCJ02) -> None:
    """Build the cluster grid of `coord` (the Chinese maps' system) and every square's cheapest fresh price
    for `now` before the snapshot serves, so the first big box does not pay for them (~0.3 s and ~1 s at
    1,000,000 stations); later staleness and patches recompute only the squares they touch."""
    g = cluster_grid.grid(snap, coord)
    cells = cluster_prices.cells(book, g)
    if cells.width and len(g.levels[0].key):
        top = np.arange(len(g.levels[0].key))
        cluster_prices.valid_values(cells, 0, top, now.timestamp() - STALE_AFTER_S)


def _grid_clusters(
    snap: Snapshot, book: PriceBook, ask: ViewportAsk, open_state: np.ndarray, now: datetime
) -> tuple[Clusters, ClusterFacts] | None:
    """The clusters from geo/cluster_grid.py (the grid of the ask's filters) and pricing/cluster_prices.py,
    equal to `cluster` and `_facts` over the eligible stations inside; None when at most MAX_STATIONS are
    inside or the grid is too coarse."""
    b = ask.box
    subset = cluster_grid.subset_of(ask.filters)
    g = cluster_grid.grid(snap, b.coord, subset, open_state)
    g = grid_patch.follow_open(snap, g, open_state)
    got = cluster_grid.clusters_in_box(
        g, b.west, b.south, b.east, b.north, ask.zoom, MAX_CLUSTERS, more_than=MAX_STATIONS
    )
    if got is None:
        return None
    found = got.clusters
    n = len(found.counts)
    cheapest: list[list[tuple[str, str, int]]] = [[] for _ in range(n)]
    cells = cluster_prices.cells(book, g)
    if cells.width:
        since = now.timestamp() - STALE_AFTER_S
        rows = [cluster_prices.valid_values(cells, level, idx, since) for level, idx in got.pieces]
        rows.append(cluster_prices.station_items(cells, got.stations, since)[3])
        least = np.full((n, cells.width), cluster_prices.NONE, np.int32)
        np.minimum.at(least, got.group, np.concatenate(rows))
        grades, k = cells.table.grades, len(CURRENCIES)
        for i, j in zip(*np.nonzero(least != cluster_prices.NONE), strict=True):  # grade, then currency
            cheapest[int(i)].append((grades[j // k], CURRENCIES[j % k], int(least[i, j])))
    names = snap.brands
    by_name = sorted(range(g.n_brands), key=lambda code: names[code])
    brands = [
        sorted(((names[code], int(row[code])) for code in by_name if row[code]), key=lambda bc: -bc[1])
        for row in got.brands
    ]
    return found, ClusterFacts(cheapest, brands)


async def _effective(
    sources: ListSources,
    snap: Snapshot,
    ask: ViewportAsk,
    fill: FillRequest,
    positions: np.ndarray,
    now: datetime,
) -> columns.Members:
    engine_quote, member_cut = await driver_context(
        sources, snap, ask.driver_id or None, ask.grade, now, frozenset(), fill
    )
    book = sources.prices.book(snap.version)
    request = CompareRequest(
        grade=ask.grade,
        fill=fill,
        now=now,
        stale_after_seconds=STALE_AFTER_S,
        limit=len(positions),
        member_cut_milli=member_cut,
    )
    if engine_quote is None and member_cut == 0:
        return columns.anonymous_effective_members(book, positions, request, sources.memo)
    chords = np.zeros(len(positions))
    ranked = await by_payable(book, positions, chords, request, engine_quote)
    return columns.effective_members(ranked, positions)


def _facts(
    snap: Snapshot, book: PriceBook, inside: np.ndarray, found: Clusters, now: datetime
) -> ClusterFacts:
    """Cheapest fresh price per grade and brand counts of each cluster (`inside`: the clustered
    positions, in the order `found.group` follows).

    The shown price is PriceBook's (GradePrices.shown: the fresh platform price when there is one, else
    the pump price, never above it); only stations with a fresh pump price count. All grades at once from
    the book's stacked rows (pricing/stacked_prices.py), one reduction per currency."""
    n = len(found.counts)
    cheapest: list[list[tuple[str, str, int]]] = [[] for _ in range(n)]
    table = stacked_prices.stacked(book)
    if table.grades:
        fresh, shown = table.fresh_shown(inside, now.timestamp() - STALE_AFTER_S)
        currency = np.take(table.currency, inside, axis=0)
        none = np.iinfo(np.int32).max
        lowest: dict[int, list[list[int]]] = {}  # currency -> per grade, per cluster
        for code in range(len(CURRENCIES)):
            mine = fresh & (currency == code)
            if mine.any():
                values = np.where(mine, shown, none).T
                least = np.full((len(table.grades), n), none, dtype=np.int32)
                for j in range(len(table.grades)):  # one-dimensional ufunc.at: its fast path
                    np.minimum.at(least[j], found.group, values[j])
                lowest[code] = least.tolist()
        # grade by grade, then currency, as each cluster's list is read
        for j, grade in enumerate(table.grades):
            for code, by_grade in lowest.items():
                name = CURRENCIES[code]
                for i, value in enumerate(by_grade[j]):
                    if value != none:
                        cheapest[i].append((grade, name, value))
    return ClusterFacts(cheapest, _brand_shares(snap, inside, found.group, n))


def _brand_shares(
    snap: Snapshot, inside: np.ndarray, group: np.ndarray, n: int
) -> list[list[tuple[str, int]]]:
    """Per cluster: (brand, stations) by count, most first, ties by name."""
    width = len(snap.brands)
    codes = snap.brand[inside].astype(np.int64)
    table = np.bincount(group * width + codes, minlength=n * width).reshape(n, width)
    by_name = np.empty(width, dtype=np.int64)
    by_name[sorted(range(width), key=lambda b: snap.brands[b])] = np.arange(width)
    order = np.argsort(by_name[None, :] - table * width, axis=1, kind="stable")
    counts = np.take_along_axis(table, order, axis=1)
    present = np.count_nonzero(table, axis=1).tolist()
    names = snap.brands
    return [
        [(names[b], c) for b, c in zip(o[:k], row[:k], strict=True)]
        for o, row, k in zip(order.tolist(), counts.tolist(), present, strict=True)
    ]


def _joined(parts: list[columns.Members]) -> list[bytes] | None:
    if not parts:
        return None
    return [b"".join(item) for item in zip(*parts, strict=True)]
