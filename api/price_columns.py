"""Prices shown beside nearby results, from the worker's price book."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson

from geo.errors import InvalidSearch
from pricing.pricebook import CURRENCIES, NO_PRICE, PriceBook
from pricing.validation import DEFAULT_RULES


def _text(milli: int, currency: int) -> str:
    return f"{milli / 1000:.2f}" if CURRENCIES[currency] == "CNY" else f"{milli / 1000:.3f}"


def price_members(book: PriceBook, positions: np.ndarray, now: datetime) -> list[bytes]:
    """`,"prices":{"92":{"currency":"CNY","pump":"7.89","platform":"7.59","stale":false},...}` per item."""
    fresh_since = now.timestamp() - DEFAULT_RULES.stale_after.total_seconds()
    per_item: list[dict[str, dict[str, object]]] = [{} for _ in range(len(positions))]
    for grade, prices in book.grades.items():
        pump = prices.pump[positions]
        for i in np.flatnonzero(pump != NO_PRICE).tolist():
            pos = int(positions[i])
            ccy = int(prices.currency[pos])
            platform = int(prices.platform[pos])
            per_item[i][grade] = {
                "currency": CURRENCIES[ccy],
                "pump": _text(int(pump[i]), ccy),
                "platform": _text(platform, ccy) if platform != NO_PRICE else None,
                "stale": bool(prices.confirmed[pos] < fresh_since),
            }
    return [b',"prices":' + orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in per_item]


def by_price(
    book: PriceBook, grade: str | None, positions: np.ndarray, chords: np.ndarray, now: datetime, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The stations with a fresh price for the grade, cheapest platform (else pump) price first."""
    if grade is None:
        raise InvalidSearch("sort=price needs a grade")
    prices = book.for_grade(grade)
    if prices is None or not len(positions):
        return positions[:0], chords[:0]
    fresh_since = now.timestamp() - DEFAULT_RULES.stale_after.total_seconds()
    pump = prices.pump[positions]
    keep = (pump != NO_PRICE) & (prices.confirmed[positions] >= fresh_since)
    positions, chords, pump = positions[keep], chords[keep], pump[keep]
    platform = prices.platform[positions]
    fresh_platform = (platform != NO_PRICE) & (prices.platform_confirmed[positions] >= fresh_since)
    shown = np.minimum(np.where(fresh_platform, platform, pump), pump)
    order = np.lexsort((chords, shown))[:limit]
    return positions[order], chords[order]
