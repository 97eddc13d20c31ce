"""The worker's checkout: one httpx client to the order core, its circuit breaker, the checkout service
and the reconciler (callbacks, sweep), owned by the app lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Engine

from api.occupancy_live import book_of
from api.settings import Settings
from checkout.breaker import CircuitBreaker
from checkout.client import OrderCoreClient, RetryPolicy, make_http_client
from checkout.reconcile import Reconciler
from checkout.service import CheckoutConfig, CheckoutService, NozzleLookup
from occupancy.events import NozzleState
from occupancy.feed import LiveFeed
from timekeeping.clock import Clock


def _nozzle_state(feed: LiveFeed) -> NozzleLookup:
    """The live state from the worker's occupancy book, when it knows the nozzle."""

    def lookup(station_id: int, position: int, nozzle: int, as_of: float) -> NozzleState | None:
        return book_of(feed).nozzle_state(station_id, position, nozzle, as_of)

    return lookup


def checkout_config(settings: Settings) -> CheckoutConfig:
    per_attempt = settings.ordercore_connect_timeout + settings.ordercore_read_timeout + 1.0
    return CheckoutConfig(
        keys=settings.quote_keys(),
        hold_seconds=settings.coupon_hold_seconds,
        lease_seconds=settings.ordercore_attempts * per_attempt + 10.0,
        reconcile_seconds=float(settings.coupon_hold_seconds),
    )


@contextlib.asynccontextmanager
async def running_checkout(
    feed: LiveFeed, engine: Engine, settings: Settings, clock: Clock
) -> AsyncIterator[tuple[CheckoutService, Reconciler]]:
    """`clock` decides expiry (quotes, holds, leases), callback freshness and the breaker's cool-down."""
    http = make_http_client(
        settings.ordercore_url,
        settings.ordercore_token.get_secret_value(),
        settings.ordercore_connect_timeout,
        settings.ordercore_read_timeout,
    )
    breaker = CircuitBreaker(
        settings.ordercore_breaker_threshold, settings.ordercore_breaker_cooldown_seconds, clock.monotonic
    )
    client = OrderCoreClient(
        http, breaker, RetryPolicy(settings.ordercore_attempts, settings.ordercore_backoff_seconds)
    )
    config = checkout_config(settings)
    service = CheckoutService(engine, client, config, _nozzle_state(feed))
    secret = settings.ordercore_callback_secret.get_secret_value().encode()
    reconciler = Reconciler(engine, client, config, secret, clock)
    sweeper = None
    if settings.checkout_sweep_seconds > 0:
        sweeper = asyncio.create_task(reconciler.run_forever(settings.checkout_sweep_seconds))
    try:
        yield service, reconciler
    finally:
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        await http.aclose()
