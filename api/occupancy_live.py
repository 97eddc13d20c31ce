"""The worker's live occupancy: its book, fed by occupancy.feed.LiveFeed, started by the app lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.settings import Settings
from geo.errors import StationNotFound
from occupancy.book import OccupancyBook
from occupancy.feed import LiveFeed
from occupancy.layouts import Layout, LayoutCache
from timekeeping.clock import Clock

log = logging.getLogger(__name__)


def live_feed(engine: Engine, settings: Settings, clock: Clock) -> LiveFeed:
    def new_book() -> OccupancyBook:
        return OccupancyBook(
            stale_after_s=settings.occupancy_stale_after_seconds, history_days=settings.occupancy_history_days
        )

    return LiveFeed(
        engine, new_book, LayoutCache(), history_days=settings.occupancy_history_days, clock=clock
    )


def book_of(feed: LiveFeed) -> OccupancyBook:
    """The worker's current book (replaced when the occupancy tables were truncated)."""
    book = feed.book
    assert isinstance(book, OccupancyBook)
    return book


async def book_with_layout(feed: LiveFeed, engine: Engine, station_id: int) -> OccupancyBook:
    """The worker's book (feed.book), knowing this station's positions (StationNotFound for an unknown
    station)."""
    book = book_of(feed)
    if not book.has_layout(station_id):

        def load() -> Layout | None:
            with engine.connect() as conn:
                return feed.ensure_layout(conn, station_id)

        layout = await run_in_threadpool(load)
        if layout is None:
            raise StationNotFound(station_id)
        feed.set_layout(station_id, layout)
        book = book_of(feed)
    return book


async def _tail_forever(feed: LiveFeed, every: float) -> None:
    started = time.monotonic()
    while True:
        # A fixed rhythm: the time a fetch takes is not added to the wait for the next one.
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
        started = time.monotonic()
        try:
            delta = await run_in_threadpool(feed.fetch)
            if delta.reset:
                log.warning("occupancy tables were truncated or replaced: reloading the book")
                await run_in_threadpool(feed.load)
            else:
                feed.apply(delta)  # on the event loop: the only thread that touches the book
        except Exception:  # the next tick tries again
            log.exception("occupancy tail failed")


@contextlib.asynccontextmanager
async def running_occupancy(engine: Engine, settings: Settings, clock: Clock) -> AsyncIterator[LiveFeed]:
    """Load recent history into a new book, then tail the tables until the app stops."""
    feed = live_feed(engine, settings, clock)
    await run_in_threadpool(feed.load)
    # Ingest allocates several short-lived containers per event; with the default threshold (700) the
    # collector ran so often, over a heap holding the book, that it cost more per event than the tail
    # itself (profiled: 7 -> 3 µs per tailed event). Refcounting frees these objects anyway.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    task = asyncio.create_task(_tail_forever(feed, settings.occupancy_poll_seconds))
    try:
        yield feed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
