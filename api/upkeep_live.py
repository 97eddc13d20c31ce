"""The worker's upkeep task (upkeep/): every worker runs the loop, the upkeep lock lets one at a time do a
round (the others skip it), owned by the app lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import Engine

from api.settings import Settings
from timekeeping.clock import Clock
from upkeep.rounds import UpkeepPolicy, run_forever


def upkeep_policy(settings: Settings) -> UpkeepPolicy:
    return UpkeepPolicy(
        occupancy_retention=timedelta(days=settings.occupancy_retention_days),
        partitions_ahead_days=settings.occupancy_partitions_ahead_days,
        outbox_retention=timedelta(days=settings.ordercore_outbox_retention_days),
        ordercore_events_retention=timedelta(days=settings.ordercore_events_retention_days),
        change_log_retention=timedelta(days=settings.change_log_retention_days),
    )


@contextlib.asynccontextmanager
async def running_upkeep(engine: Engine, settings: Settings, clock: Clock) -> AsyncIterator[None]:
    """A round at start-up and every `upkeep_every_seconds` (none when 0), cancelled at shutdown."""
    if settings.upkeep_every_seconds <= 0:
        yield
        return
    task = asyncio.create_task(
        run_forever(engine, upkeep_policy(settings), clock, settings.upkeep_every_seconds)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
