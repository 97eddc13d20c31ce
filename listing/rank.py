"""Orders of a station list other than distance (geo.nearby keeps that one): price, what the driver pays,
expected wait."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from anyio import to_thread

from geo.distance import chord_to_metres
from geo.errors import InvalidSearch
from geo.snapshot import Snapshot
from listing.drivers import driver_pricer
from listing.pages import RankKey, encode_ranked, keyset_page
from listing.sources import ListSources
from listing.waits import wait_keys
from pricing.compare import CompareRequest, EngineQuote, Ranked, rank
from pricing.fills import FillRequest
from pricing.pricebook import PriceBook
from pricing.validation import DEFAULT_RULES

STALE_AFTER_S = DEFAULT_RULES.stale_after.total_seconds()


def by_price(
    book: PriceBook,
    snap: Snapshot,
    grade: str | None,
    positions: np.ndarray,
    chords: np.ndarray,
    now: datetime,
    limit: int,
    after: RankKey | None = None,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """One page of the stations with a fresh price for the grade, cheapest platform (else pump) price
    first, then nearest; and the next page's cursor."""
    if grade is None:
        raise InvalidSearch("sort=price needs a grade")
    prices = book.for_grade(grade)
    if prices is None or not len(positions):
        return positions[:0], chords[:0], None
    fresh_since = now.timestamp() - STALE_AFTER_S
    has_price, _, shown, stale = prices.shown(positions, fresh_since)
    keep = has_price & ~stale
    positions, chords, shown = positions[keep], chords[keep], shown[keep]
    order, last = keyset_page(shown, chords, snap.ids[positions], after, limit)
    return positions[order], chords[order], encode_ranked("price", last) if last else None


def by_wait(
    sources: ListSources,
    snap: Snapshot,
    grade: str,
    positions: np.ndarray,
    chords: np.ndarray,
    limit: int,
    now: datetime,
    after: RankKey | None = None,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """One page of the stations, shortest expected wait for `grade` first (unknown last), then nearest;
    and the next page's cursor."""
    minutes, _ = sources.waits.columns(sources.book(), snap.ids[positions], grade, now.timestamp())
    order, last = keyset_page(wait_keys(minutes), chords, snap.ids[positions], after, limit)
    return positions[order], chords[order], encode_ranked("wait", last) if last else None


async def driver_context(
    sources: ListSources,
    snap: Snapshot,
    driver_id: str | None,
    grade: str,
    now: datetime,
    channels: frozenset[str],
    fill: FillRequest,
) -> tuple[EngineQuote | None, int]:
    """(engine pricer or None, member cut per litre in milli-units); anonymous without a driver."""
    if driver_id is None:
        return None, 0
    return await to_thread.run_sync(
        driver_pricer, sources.engine, snap, driver_id, grade, now, channels, fill
    )


async def by_payable(
    book: PriceBook,
    positions: np.ndarray,
    chords: np.ndarray,
    request: CompareRequest,
    engine_quote: EngineQuote | None,
) -> Ranked | None:
    """pricing.compare.rank over these stations (in a worker thread when the engine prices each one);
    None when nobody sells the grade or no station qualifies."""
    prices = book.for_grade(request.grade)
    if prices is None or not len(positions):
        return None
    distances = chord_to_metres(chords)
    if engine_quote is not None:
        return await to_thread.run_sync(rank, prices, positions, distances, request, engine_quote)
    return rank(prices, positions, distances, request)
