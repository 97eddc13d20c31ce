"""Application factory: `uvicorn api.app:create_app --factory`. The lifespan owns every resource."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from access.token_cache import VerifiedCache
from api import services
from api.auth_station import VerifiedTokens
from api.checkout_live import running_checkout
from api.commit_signal import listening
from api.compression import CompressWhenAsked
from api.contract import install_contract
from api.docs_pages import install_docs
from api.errors import install_error_handlers, problem
from api.live_changes import ChangeFollower, following, load_index
from api.map_page import install_map_page
from api.occupancy_live import running_occupancy
from api.plain_route import install_plain_routes
from api.replica_live import read_routing
from api.response_headers import ResponseHeaders
from api.routes import (
    checkout,
    compare,
    health,
    map_basemap,
    maps,
    me,
    nearby,
    occupancy,
    operator,
    partner,
    partner_feed,
    partner_stations,
    partner_waits,
    partner_webhooks,
    prices,
    route_search,
    station_staff,
    stations,
)
from api.settings import Settings
from api.upkeep_live import running_upkeep
from db.engine import make_engine
from geo.live_index import LiveIndex
from geo.province_outlines import ProvinceOutlines
from geo.snapshot import Snapshot
from httpguard.limits import Limits, RequestLimits
from listing.sources import ListSources
from listing.viewport import warm as warm_viewport
from listing.waits import ListWaits
from pricing.live_prices import LivePrices
from timekeeping import china_days
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)

DESCRIPTION = """
Find fuel stations near a driver, exactly, on the right spot of a Chinese map.

**Coordinates.** Every request that takes or returns coordinates accepts `coord=wgs84|gcj02|bd09`
(default `wgs84`); every response says which system its coordinates are in (`coord`). Use `gcj02` for
Amap, Tencent Maps and the WeChat map component, `bd09` for Baidu. Storage is WGS-84.

**Errors** are RFC 9457 problem details (`application/problem+json`).
"""


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; `clock` (default the system clock) is where every route and background task reads the time."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    settings.check_safe()  # development secrets serve only in development mode
    china_days.supply(china_days.parse_notice(settings.china_notice))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.dsn(), pool_size=settings.db_pool_size)
        prices = LivePrices(engine)

        def new_snapshot(snap: Snapshot, source: Engine) -> None:  # before it serves: its prices, map grid
            warm_viewport(snap, prices.rebuild(snap.ids, snap.version, source), clock.now())

        index = LiveIndex(engine, on_new_snapshot=new_snapshot)
        reads = read_routing(engine, settings, clock)
        if settings.load_index:
            await run_in_threadpool(load_index, reads, index)
        try:
            async with (
                running_occupancy(engine, settings, clock) as feed,
                running_checkout(feed, engine, settings, clock) as (checkout_service, reconciler),
                running_upkeep(engine, settings, clock),
                listening(engine) as commits,
                contextlib.AsyncExitStack() as stack,
            ):
                lists = ListSources(
                    index, prices, feed, ListWaits(settings.occupancy_list_wait_seconds), engine
                )
                follower = None
                if settings.load_index:
                    follower = ChangeFollower(
                        engine,
                        index,
                        prices,
                        feed,
                        lists.memo,
                        settings.change_log_max_behind_seconds,
                        reads,
                    )
                    await stack.enter_async_context(
                        following(engine, follower, settings.index_refresh_seconds)
                    )
                services.install(
                    app,
                    services.Services(
                        settings=settings,
                        clock=clock,
                        engine=engine,
                        index=index,
                        prices=prices,
                        occupancy=feed,
                        checkout=checkout_service,
                        reconciler=reconciler,
                        lists=lists,
                        verified_tokens=VerifiedTokens(  # a credential per station and staff member
                            settings.station_auth_cache_seconds, max_size=200_000, monotonic=clock.monotonic
                        ),
                        partner_keys=VerifiedCache(
                            settings.partner_auth_cache_seconds, monotonic=clock.monotonic
                        ),
                        provinces=ProvinceOutlines(settings.map_basemap_path),
                        changes=follower,
                        commits=commits,
                        reads=reads,
                    ),
                )
                yield
        finally:
            reads.dispose()
            engine.dispose()

    app = FastAPI(
        title="Fuel station discovery and pricing",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": settings.telemetry, "metrics": settings.telemetry, "logs": settings.telemetry},
    )
    install_error_handlers(app)
    install_contract(app)
    install_docs(app)
    install_map_page(app, settings)
    body_limits = {"/v1/occupancy/events": settings.occupancy_max_body_bytes}  # it reads its own body
    app.add_middleware(RequestLimits, limits=Limits(settings.max_body_bytes, body_limits), problem=problem)
    app.add_middleware(ResponseHeaders)  # Cache-Control by route, a partner's RateLimit fields
    app.add_middleware(CompressWhenAsked)  # outermost: compresses what every other layer answered
    # The list routes first: routes are matched in order (measured: ~10 µs a route passed over), and
    # /v1/stations/nearby must come before /v1/stations/{station_id}.
    install_plain_routes(app, nearby.router)
    install_plain_routes(app, compare.router)
    app.include_router(route_search.router)
    install_plain_routes(app, maps.router)
    app.include_router(map_basemap.router)
    app.include_router(health.router)
    app.include_router(stations.router)
    app.include_router(prices.router)
    app.include_router(operator.router)
    app.include_router(occupancy.router)
    app.include_router(checkout.router)
    app.include_router(me.router)
    app.include_router(partner.router)
    app.include_router(station_staff.router)
    app.include_router(partner_feed.router)
    app.include_router(partner_stations.router)
    app.include_router(partner_webhooks.router)
    app.include_router(partner_waits.router)
    return app
