"""Application factory: `uvicorn api.app:create_app --factory`. The lifespan owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from api.checkout_live import running_checkout
from api.errors import install_error_handlers, problem
from api.occupancy_live import running_occupancy
from api.routes import checkout, compare, health, occupancy, operator, prices, stations
from api.settings import Settings
from db.engine import make_engine
from geo.live_index import LiveIndex
from httpguard.limits import Limits, RequestLimits
from pricing.live_prices import LivePrices
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)

DESCRIPTION = """
Find fuel stations near a driver, exactly, on the right spot of a Chinese map.

**Coordinates.** Every request that takes or returns coordinates accepts `coord=wgs84|gcj02|bd09`
(default `wgs84`); every response says which system its coordinates are in (`coord`). Use `gcj02` for
Amap, Tencent Maps and the WeChat map component, `bd09` for Baidu. Storage is WGS-84.

**Errors** are RFC 9457 problem details (`application/problem+json`).
"""


def _refresh(index: LiveIndex, prices: LivePrices) -> None:
    if not index.refresh_if_changed():  # a new snapshot rebuilds the price book itself
        snap = index.snapshot
        prices.refresh_if_changed(snap.ids, snap.version)


async def _refresh_forever(index: LiveIndex, prices: LivePrices, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(_refresh, index, prices)
        except Exception:  # a failed refresh keeps the old snapshot; the next tick tries again
            log.exception("station index refresh failed")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; `clock` (default the system clock) is where every route and background task reads the time."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    settings.check_safe()  # development secrets serve only in development mode

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.dsn(), pool_size=settings.db_pool_size)
        prices = LivePrices(engine)
        index = LiveIndex(engine, on_new_snapshot=lambda snap: prices.rebuild(snap.ids, snap.version))
        app.state.engine = engine
        app.state.index = index
        app.state.prices = prices
        refresher: asyncio.Task[None] | None = None
        if settings.load_index:
            await run_in_threadpool(index.load)
            refresher = asyncio.create_task(_refresh_forever(index, prices, settings.index_refresh_seconds))
        try:
            async with (
                running_occupancy(app, engine, settings, clock),
                running_checkout(app, engine, settings, clock),
            ):
                yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            engine.dispose()

    app = FastAPI(
        title="Fuel station discovery and pricing",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    # api/occupancy_columns.py: (the book, {(station, grade): (as_of step, wait)})
    app.state.list_waits = (None, {})
    install_error_handlers(app)
    body_limits = {"/v1/occupancy/events": settings.occupancy_max_body_bytes}  # it reads its own body
    app.add_middleware(RequestLimits, limits=Limits(settings.max_body_bytes, body_limits), problem=problem)
    app.include_router(health.router)
    app.include_router(stations.router)
    app.include_router(prices.router)
    app.include_router(compare.router)
    app.include_router(operator.router)
    app.include_router(occupancy.router)
    app.include_router(checkout.router)
    # The hottest routes also as a plain Starlette route, matched first: FastAPI's per-request routing
    # and dependency solving cost more than the search itself (profiled). Same handler, same errors;
    # the FastAPI route above documents it in OpenAPI.
    for path, endpoint in (("/v1/stations/nearby", stations.nearby), ("/v1/prices/compare", compare.compare)):
        app.router.routes.insert(0, Route(path, endpoint, methods=["GET"], include_in_schema=False))
    return app
