"""What a station list reads: the worker's live index, price book, occupancy and database."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from geo.live_index import LiveIndex
from geo.tile_cache import TileCache
from listing.memo import MemberMemo
from listing.waits import ListWaits
from occupancy.book import OccupancyBook
from occupancy.feed import LiveFeed
from pricing.live_prices import LivePrices


@dataclass(frozen=True, slots=True)
class ListSources:
    index: LiveIndex
    prices: LivePrices
    occupancy: LiveFeed
    waits: ListWaits
    engine: Engine  # drivers' coupons, promotions and points (effective prices)
    memo: MemberMemo = field(default_factory=MemberMemo)  # price and anonymous effective members
    tiles: TileCache = field(default_factory=TileCache)  # rendered vector tiles of the current catalogue

    def book(self) -> OccupancyBook:
        """The worker's current occupancy book (replaced when the occupancy tables were emptied)."""
        book = self.occupancy.book
        assert isinstance(book, OccupancyBook)
        return book
