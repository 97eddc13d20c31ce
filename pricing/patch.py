"""Price changes applied to a live PriceBook in place, per station (the change log names the stations)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pricing import cluster_prices, stacked_prices
from pricing.pricebook import PriceBook, clear_station, put_price
from pricing.repository import CurrentPrice


def patch_prices(
    book: PriceBook, station_ids: np.ndarray, changed: Iterable[int], rows: Iterable[CurrentPrice]
) -> list[int]:
    """Replace the prices of the `changed` stations by their current `rows`; returns their positions
    (stations the snapshot does not hold are skipped). A grade nobody sold before gets its arrays."""
    n = len(station_ids)
    positions: dict[int, int] = {}
    for station_id in changed:
        pos = int(np.searchsorted(station_ids, station_id))
        if pos < n and int(station_ids[pos]) == station_id:
            positions[station_id] = pos
            clear_station(book, pos)
    for row in rows:
        at = positions.get(row.station_id)
        if at is not None:
            put_price(book.grades, n, at, row)
    stacked_prices.refresh(book, positions.values())
    cluster_prices.forget(book, positions.values())
    return list(positions.values())
