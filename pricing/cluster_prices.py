"""Each cluster-grid square's cheapest fresh shown price per grade and currency, kept with the price book.

A station's shown price (GradePrices.shown) is min(pump, platform when fresh) while its pump price is fresh,
so the cheapest over stations is the cheapest over two items per station: the pump price, fresh while its
confirmation is at least `since` (now - 48 h), and the platform price, fresh while both confirmations are.
A square's cheapest is therefore a step function of `since`; each cell keeps its value with the window
(t_lo, t_hi] of `since` over which it holds (t_hi: the latest confirmation of an item at the minimum, as
later items only leave; t_lo: the latest stale item cheaper than it), and is recomputed lazily, from its
children or at the finest level from the stations, when a request's `since` leaves the window or the
change log patches one of its stations' prices (`forget`). Parents take their children's minimum, the
window (max of the children's t_lo, t_hi of the children at the minimum]."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from geo.cluster_grid import FINEST, Grid, ranges
from pricing import stacked_prices
from pricing.pricebook import CURRENCIES, NO_PRICE, PriceBook

NONE = np.iinfo(np.int32).max
_NEVER = np.iinfo(np.int64).min  # t_hi of a cell never computed (or forgotten): invalid for any since
_ALWAYS = np.iinfo(np.int64).max


@dataclass
class Cells:
    grid: Grid
    table: stacked_prices.Stacked
    rank: np.ndarray  # snapshot position -> index in the grid's order (-1: not in the grid)
    value: list[np.ndarray]  # per level: int32 (squares, grades x currencies)
    t_lo: list[np.ndarray]  # int64, seconds since stacked_prices.EPOCH
    t_hi: list[np.ndarray]
    seen: int = 0  # the grid's edits followed so far

    @property
    def width(self) -> int:
        return len(self.table.grades) * len(CURRENCIES)


def cells(book: PriceBook, g: Grid) -> Cells:
    table = stacked_prices.stacked(book)
    kept = book.derived.setdefault("cluster_prices", {})
    assert isinstance(kept, dict)
    found = kept.get(g.key)
    if not isinstance(found, Cells) or found.grid is not g or found.table is not table:
        for key in [k for k, c in kept.items() if c.grid.retired]:  # grids their snapshot dropped
            del kept[key]
        # a book with no prices at all has no rows: the rank still covers every station of the grid
        size = max(len(table.pump), int(g.position.max()) + 1 if len(g.position) else 0)
        rank = np.full(size, -1, dtype=np.int64)
        rank[g.position] = np.arange(len(g.position))
        width = len(table.grades) * len(CURRENCIES)
        sizes = [len(level.key) for level in g.levels]
        found = kept[g.key] = Cells(
            g,
            table,
            rank,
            [np.full((n, width), NONE, np.int32) for n in sizes],
            [np.zeros((n, width), np.int64) for n in sizes],
            [np.full((n, width), _NEVER, np.int64) for n in sizes],
            len(g.edits),
        )
    _follow(found)
    return found


def _follow(c: Cells) -> None:
    """Apply the squares the grid's patches deleted, inserted or changed since last time (geo/grid_patch.py):
    rows deleted and inserted alike, changed and new ones recomputed on their next use."""
    edits = c.grid.edits
    if c.seen == len(edits):
        return
    for kind, level, j in edits[c.seen :]:
        if kind < 0:
            c.value[level], c.t_lo[level], c.t_hi[level] = (
                np.delete(a[level], j, axis=0) for a in (c.value, c.t_lo, c.t_hi)
            )
        elif kind > 0:
            c.value[level], c.t_lo[level], c.t_hi[level] = (
                np.insert(a[level], j, fill, axis=0)
                for a, fill in ((c.value, NONE), (c.t_lo, 0), (c.t_hi, _NEVER))
            )
        if kind >= 0:
            c.t_hi[level][j] = _NEVER
    c.seen = len(edits)
    size = max(len(c.rank), int(c.grid.position.max()) + 1 if len(c.grid.position) else 0)
    c.rank = np.full(size, -1, dtype=np.int64)
    c.rank[c.grid.position] = np.arange(len(c.grid.position))


def forget(book: PriceBook, positions: Iterable[int]) -> None:
    """After a patch of these stations' prices: their squares' cells at every level are recomputed."""
    kept = book.derived.get("cluster_prices")
    if not isinstance(kept, dict):
        return
    at = np.fromiter(positions, dtype=np.int64)
    for c in kept.values():
        _follow(c)
        ranks = c.rank[at]
        ranks = ranks[ranks >= 0]
        for level, t_hi in zip(c.grid.levels, c.t_hi, strict=True):
            t_hi[np.searchsorted(level.start, ranks, side="right") - 1] = _NEVER


def station_items(
    c: Cells, at: np.ndarray, since: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two price items of the stations at grid indices `at`, per grade x currency column:
    (values, times, fresh), each (2, len(at), width) (item 0 the pump price, item 1 the platform price;
    NONE and never where a station has none), and the cheapest fresh value of each station (its shown
    price, NONE when it has no fresh one)."""
    t = c.table
    pos = c.grid.position[at]
    pump = np.take(t.pump, pos, axis=0)
    platform = np.take(t.platform, pos, axis=0)
    conf = np.take(t.confirmed, pos, axis=0).astype(np.int64)
    both = np.minimum(conf, np.take(t.platform_confirmed, pos, axis=0))
    currency = np.take(t.currency, pos, axis=0).astype(np.int64)
    has = pump != NO_PRICE
    k = len(CURRENCIES)
    values = np.full((2, len(at), c.width), NONE, np.int32)
    times = np.full((2, len(at), c.width), _NEVER, np.int64)
    rows = np.repeat(np.arange(len(at)), len(t.grades)).reshape(len(at), len(t.grades))
    cols = np.arange(len(t.grades))[None, :] * k + currency
    for item, (v, tt, ok) in enumerate(((pump, conf, has), (platform, both, has & (platform != NO_PRICE)))):
        values[item, rows[ok], cols[ok]] = v[ok]
        times[item, rows[ok], cols[ok]] = tt[ok]
    fresh = times >= since - stacked_prices.EPOCH
    return values, times, fresh, np.where(fresh, values, NONE).min(axis=0)


def _from_stations(c: Cells, idx: np.ndarray, since: float) -> None:
    """The finest squares `idx` (ascending) from their stations, CHUNK stations at a time (each square's
    stations are one run of the grid's order: reductions over runs)."""
    level = c.grid.levels[FINEST]
    sizes = level.end[idx] - level.start[idx]
    ends = np.cumsum(sizes)
    first = 0
    while first < len(idx):
        last = max(first + 1, int(np.searchsorted(ends, ends[first] - sizes[first] + CHUNK, side="right")))
        _from_runs(c, idx[first:last], since)
        first = last


CHUNK = 1 << 16


def _from_runs(c: Cells, idx: np.ndarray, since: float) -> None:
    level = c.grid.levels[FINEST]
    lo, hi = level.start[idx], level.end[idx]
    sizes = hi - lo
    starts = np.cumsum(sizes) - sizes
    at = ranges(lo, hi)
    group = np.repeat(np.arange(len(idx)), sizes)
    values, times, fresh, _ = station_items(c, at, since)
    shown = [np.where(fresh[item], values[item], NONE) for item in range(2)]
    least = np.minimum.reduceat(np.minimum(shown[0], shown[1]), starts, axis=0)
    m = least[group]
    t_hi = np.full(least.shape, _NEVER, np.int64)
    t_lo = np.full(least.shape, _NEVER, np.int64)
    for item in range(2):
        v, tt, f = values[item], times[item], fresh[item]
        t_hi = np.maximum(t_hi, np.maximum.reduceat(np.where(f & (v == m) & (m != NONE), tt, _NEVER), starts))
        t_lo = np.maximum(t_lo, np.maximum.reduceat(np.where(~f & (v < m), tt, _NEVER), starts))
    t_hi[least == NONE] = _ALWAYS
    c.value[FINEST][idx], c.t_lo[FINEST][idx], c.t_hi[FINEST][idx] = least, t_lo, t_hi


def valid_values(c: Cells, level: int, idx: np.ndarray, since: float) -> np.ndarray:
    """The cells of squares `idx` at `level` for `since` (seconds since the epoch), recomputed where stale."""
    s = since - stacked_prices.EPOCH
    ok = ((c.t_lo[level][idx] < s) & (s <= c.t_hi[level][idx])).all(axis=1)
    bad = np.unique(idx[~ok])
    if len(bad):
        if level == FINEST:
            _from_stations(c, bad, since)
        else:
            t = c.grid.levels[level]
            lo, hi = t.child_lo[bad], t.child_hi[bad]
            sizes = hi - lo
            kids = ranges(lo, hi)
            values = valid_values(c, level + 1, kids, since)
            starts = np.cumsum(sizes) - sizes
            least = np.minimum.reduceat(values, starts, axis=0)
            group = np.repeat(np.arange(len(bad)), sizes)
            at_min = values == least[group]
            t_hi = np.full(least.shape, _NEVER, np.int64)
            np.maximum.at(t_hi, group, np.where(at_min, c.t_hi[level + 1][kids], _NEVER))
            c.value[level][bad] = least
            c.t_lo[level][bad] = np.maximum.reduceat(c.t_lo[level + 1][kids], starts, axis=0)
            c.t_hi[level][bad] = t_hi
    found: np.ndarray = c.value[level][idx]
    return found
