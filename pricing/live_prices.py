"""The worker's price book: rebuilt with each new station snapshot, patched in place by the change log
(pricing/patch.py, api/live_changes.py)."""

from __future__ import annotations

import logging
import threading

import numpy as np
from sqlalchemy import Engine

from pricing import repository
from pricing.pricebook import PriceBook, build_pricebook

log = logging.getLogger(__name__)


class PricesNotReady(RuntimeError):
    pass


class LivePrices:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._book: PriceBook | None = None
        self._previous: PriceBook | None = None  # still serves the snapshot being replaced
        self._lock = threading.Lock()

    def book(self, catalogue_version: int) -> PriceBook:
        for book in (self._book, self._previous):
            if book is not None and book.catalogue_version == catalogue_version:
                return book
        raise PricesNotReady("prices are being reloaded")

    def rebuild(
        self, station_ids: np.ndarray, catalogue_version: int, engine: Engine | None = None
    ) -> PriceBook:
        """Read every current price (from `engine`, default the primary) and align it with a snapshot's
        stations."""
        engine = engine or self._engine
        with self._lock:
            version = repository.price_version(engine)
            book = build_pricebook(station_ids, repository.current_prices(engine), catalogue_version, version)
            if self._book is not None and self._book.catalogue_version != catalogue_version:
                self._previous = self._book
            self._book = book
            log.info(
                "price book v%d for catalogue v%d: %d grades", version, catalogue_version, len(book.grades)
            )
            return book
