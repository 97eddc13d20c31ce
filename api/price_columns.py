"""Prices shown beside nearby results, from the worker's price book."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson

from geo.errors import InvalidSearch
from pricing.pricebook import CURRENCIES, NO_PRICE, PriceBook, price_text
from pricing.validation import DEFAULT_RULES


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
                "pump": price_text(int(pump[i]), ccy),
                "platform": price_text(platform, ccy) if platform != NO_PRICE else None,
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
    has_price, _, shown, stale = prices.shown(positions, fresh_since)
    keep = has_price & ~stale
    positions, chords, shown = positions[keep], chords[keep], shown[keep]
    order = np.lexsort((chords, shown))[:limit]
    return positions[order], chords[order]
