"""Current prices in memory, aligned with a station Snapshot, for ranking many stations per request.

Prices are integers in milli-units (¥7.59 -> 7590), exact for every currency's price quantum;
-1 means no price. confirmed is epoch seconds. Built from pricing.repository.current_prices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from pricing.repository import CurrentPrice

CURRENCIES = ("CNY", "EUR")
NO_PRICE = -1


@dataclass(frozen=True)
class GradePrices:
    pump: np.ndarray  # int64 milli-units per litre
    platform: np.ndarray  # int64, NO_PRICE when the station shows no platform price
    confirmed: np.ndarray  # int64 epoch seconds of the pump price's last confirmation
    platform_confirmed: np.ndarray  # int64
    currency: np.ndarray  # int8 index into CURRENCIES

    def shown(
        self, positions: np.ndarray, fresh_since: float, include_stale: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For stations at `positions`: (has a price to show, pump, platform shown, pump stale). The platform
        price shown is the station's platform price when there is one (fresh, unless include_stale), else
        the pump price, and never above the pump price."""
        pump = self.pump[positions]
        has_price = pump != NO_PRICE
        stale = self.confirmed[positions] < fresh_since
        platform = self.platform[positions]
        platform_ok = platform != NO_PRICE
        if not include_stale:
            platform_ok &= self.platform_confirmed[positions] >= fresh_since
        shown = np.minimum(np.where(platform_ok, platform, pump), pump)
        return has_price, pump, shown, stale


@dataclass(eq=False)
class PriceBook:
    """Updated in place per station (pricing/patch.py) as the change log reports price changes."""

    catalogue_version: int
    price_version: int
    grades: dict[str, GradePrices]
    # structures derived from the grades and kept with them (pricing/stacked_prices.py): name -> value
    derived: dict[str, object] = field(default_factory=dict, repr=False)

    def for_grade(self, grade: str) -> GradePrices | None:
        return self.grades.get(grade)


def fen_text(value: int) -> str:
    """Minor units as a decimal string: 30059 -> "300.59" (exact, no float)."""
    return f"{value // 100}.{value % 100:02d}"


def price_text(milli_units: int, currency: int) -> str:
    """A price per litre in milli-units as written for its currency: 7590 -> "7.59" (CNY), "1.899" (EUR)."""
    if CURRENCIES[currency] == "CNY":
        return fen_text(milli_units // 10)
    return f"{milli_units // 1000}.{milli_units % 1000:03d}"


def milli(value: Decimal) -> int:
    scaled = value * 1000
    if scaled != scaled.to_integral_value():
        raise ValueError(f"price {value} has more than three decimals")
    return int(scaled)


def build_pricebook(
    station_ids: np.ndarray, rows: Iterable[CurrentPrice], catalogue_version: int, price_version: int
) -> PriceBook:
    """station_ids: the snapshot's ids, ascending (positions follow them)."""
    n = len(station_ids)
    grades: dict[str, GradePrices] = {}

    for row in rows:
        pos = int(np.searchsorted(station_ids, row.station_id))
        if pos >= n or station_ids[pos] != row.station_id:
            continue  # a closed station: not searchable
        put_price(grades, n, pos, row)
    return PriceBook(catalogue_version, price_version, grades)


def _grade_arrays(grades: dict[str, GradePrices], n: int, grade: str) -> GradePrices:
    found = grades.get(grade)
    if found is None:
        found = grades[grade] = GradePrices(
            pump=np.full(n, NO_PRICE, dtype=np.int64),
            platform=np.full(n, NO_PRICE, dtype=np.int64),
            confirmed=np.zeros(n, dtype=np.int64),
            platform_confirmed=np.zeros(n, dtype=np.int64),
            currency=np.zeros(n, dtype=np.int8),
        )
    return found


def put_price(grades: dict[str, GradePrices], n: int, pos: int, row: CurrentPrice) -> None:
    """One current price (pump or platform tier) of the station at `pos`; other tiers are not shown."""
    if row.tier not in ("pump", "platform") or row.currency not in CURRENCIES:
        return
    arrays = _grade_arrays(grades, n, row.grade)
    stamp = int(row.confirmed_at.timestamp())
    if row.tier == "pump":
        arrays.pump[pos] = milli(row.price)
        arrays.confirmed[pos] = stamp
        arrays.currency[pos] = CURRENCIES.index(row.currency)
    else:
        arrays.platform[pos] = milli(row.price)
        arrays.platform_confirmed[pos] = stamp


def clear_station(book: PriceBook, pos: int) -> None:
    for arrays in book.grades.values():
        arrays.pump[pos] = NO_PRICE
        arrays.platform[pos] = NO_PRICE
        arrays.confirmed[pos] = 0
        arrays.platform_confirmed[pos] = 0
        arrays.currency[pos] = 0


def fresh_since(now: datetime, stale_after_seconds: float) -> int:
    return int(now.timestamp() - stale_after_seconds)
