"""The price book's grades side by side, one row per station: what the map's clusters reduce.

A cluster's cheapest fresh price per grade needs, for every station in a box, each grade's pump and
platform prices and their confirmations. Gathered grade by grade from PriceBook's per-grade arrays that is
about twenty numpy calls per grade; from one (stations × grades) matrix per field it is a handful for all
grades. `Stacked` is built from a PriceBook on first use and kept with it (`stacked`), its rows refreshed
when the change log patches a station's prices (`refresh`), rebuilt when a grade nobody sold appears.

Compact: prices as int32 milli-units (up to 2,147 a litre), confirmations as int32 seconds since 2020:
17 bytes a station and grade (1,000,000 stations of 8 grades: 136 MB; 110,000 of 6: 11 MB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pricing.pricebook import NO_PRICE, PriceBook

EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z: confirmations are stored as int32 seconds since


@dataclass
class Stacked:
    grades: tuple[str, ...]  # column order (sorted)
    pump: np.ndarray  # int32 (stations, grades), NO_PRICE: none
    platform: np.ndarray  # int32
    confirmed: np.ndarray  # int32 seconds since EPOCH
    platform_confirmed: np.ndarray  # int32
    currency: np.ndarray  # int8

    def fresh_shown(self, positions: np.ndarray, fresh_since: float) -> tuple[np.ndarray, np.ndarray]:
        """(fresh, shown) for the stations at `positions`, each (len(positions), grades): whether the pump
        price is fresh, and the price shown (GradePrices.shown: the fresh platform price when there is
        one, else the pump price, never above it)."""
        since = fresh_since - EPOCH
        pump = np.take(self.pump, positions, axis=0)  # np.take: a third of fancy indexing's time on rows
        fresh = (pump != NO_PRICE) & (np.take(self.confirmed, positions, axis=0) >= since)
        platform = np.take(self.platform, positions, axis=0)
        platform_ok = (platform != NO_PRICE) & (np.take(self.platform_confirmed, positions, axis=0) >= since)
        return fresh, np.minimum(np.where(platform_ok, platform, pump), pump)


_KEY = "stacked"


def _kept(book: PriceBook) -> Stacked | None:
    found = book.derived.get(_KEY)
    return found if isinstance(found, Stacked) else None


def stacked(book: PriceBook) -> Stacked:
    """The book's Stacked, built on first use (and after a new grade)."""
    found = _kept(book)
    if found is None or found.grades != tuple(sorted(book.grades)):
        found = book.derived[_KEY] = _build(book)
    return found


def refresh(book: PriceBook, positions: Iterable[int]) -> None:
    """After a patch of these stations' prices: their rows again (nothing when not built yet; dropped
    when the patch brought a grade the matrix has no column for, rebuilt on next use)."""
    found = _kept(book)
    if found is None:
        return
    if found.grades != tuple(sorted(book.grades)):
        del book.derived[_KEY]
        return
    rows = np.fromiter(positions, dtype=np.int64)
    if len(rows):
        _fill(book, found, rows)


def _build(book: PriceBook) -> Stacked:
    grades = tuple(sorted(book.grades))
    n = len(next(iter(book.grades.values())).pump) if grades else 0
    shape = (n, len(grades))
    made = Stacked(
        grades,
        np.empty(shape, dtype=np.int32),
        np.empty(shape, dtype=np.int32),
        np.empty(shape, dtype=np.int32),
        np.empty(shape, dtype=np.int32),
        np.empty(shape, dtype=np.int8),
    )
    _fill(book, made, slice(None))
    return made


def _fill(book: PriceBook, into: Stacked, rows: np.ndarray | slice) -> None:
    for j, grade in enumerate(into.grades):
        g = book.grades[grade]
        into.pump[rows, j] = g.pump[rows]
        into.platform[rows, j] = g.platform[rows]
        into.confirmed[rows, j] = g.confirmed[rows] - EPOCH  # 0 (never) is -EPOCH: fits, and is never fresh
        into.platform_confirmed[rows, j] = g.platform_confirmed[rows] - EPOCH
        into.currency[rows, j] = g.currency[rows]
