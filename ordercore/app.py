"""The order core's application factory: `uvicorn ordercore.app:create_app --factory` (port 8001).

The lifespan owns the engine and two background tasks: the outbox sender (callbacks) and the expiry sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from db.engine import make_engine
from httpguard.limits import Limits, RequestLimits
from ordercore import problems, routes
from ordercore.faults import FaultInjector
from ordercore.outbox import OutboxSender
from ordercore.service import OrderCore
from ordercore.settings import OrdercoreSettings
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024


async def _sweep_forever(core: OrderCore, every: float) -> None:
    while True:
        try:
            while await asyncio.to_thread(core.expire_due) > 0:
                pass
        except Exception:  # the database may be away for a while: the next tick tries again
            log.exception("expiry sweep failed")
        await asyncio.sleep(every)


def create_app(settings: OrdercoreSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; `clock` (default the system clock) decides expiry and the times orders and callbacks carry."""
    settings = settings or OrdercoreSettings()
    clock = clock or SystemClock()
    settings.check_safe()  # development secrets and the sandbox serve only in development mode

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.dsn(), pool_size=settings.db_pool_size)
        core = OrderCore(
            engine,
            qr_secret=settings.qr_secret.get_secret_value().encode(),
            payment_ttl_seconds=settings.payment_ttl_seconds,
            callback_url=settings.callback_url,
            clock=clock,
        )
        sender = OutboxSender(
            engine,
            url=settings.callback_url,
            secret=settings.callback_secret.get_secret_value().encode(),
            timeout=settings.callback_timeout_seconds,
            backoff_base=settings.callback_backoff_base_seconds,
            backoff_cap=settings.callback_backoff_cap_seconds,
            clock=clock,
        )
        app.state.engine = engine
        app.state.core = core
        tasks = [
            asyncio.create_task(sender.run_forever(settings.outbox_poll_seconds)),
            asyncio.create_task(_sweep_forever(core, settings.expiry_sweep_seconds)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.dispose()

    app = FastAPI(
        title="Order core (reference implementation)",
        version="1.0.0",
        description="Implements contracts/ordercore.openapi.yaml; see that file for the contract.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.faults = FaultInjector()
    problems.install(app)
    # Bounded requests (httpguard/limits.py): its bodies are a few KB; refusals in its own problem form.
    limits = Limits(
        MAX_BODY_BYTES, invalid_status=422, invalid_slug="invalid-request", invalid_title="Invalid request"
    )
    app.add_middleware(RequestLimits, limits=limits, problem=problems.problem)
    app.include_router(routes.health)
    app.include_router(routes.router)
    app.include_router(routes.wechat)
    if settings.sandbox_admin:
        app.include_router(routes.sandbox)
    return app
