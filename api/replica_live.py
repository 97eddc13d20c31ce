"""The read routing of a worker (db/read_routing.py): the replica's engine when STATIONS_REPLICA_URL is
set (the lifespan disposes it with ReadRouting.dispose). Without it every read is the primary's."""

from __future__ import annotations

from sqlalchemy import Engine

from api.settings import Settings
from db.engine import make_engine
from db.read_routing import ReadRouting
from timekeeping.clock import Clock


def read_routing(primary: Engine, settings: Settings, clock: Clock) -> ReadRouting:
    replica = (
        make_engine(settings.replica_url.get_secret_value(), pool_size=settings.db_pool_size)
        if settings.replica_url is not None
        else None
    )
    return ReadRouting(
        primary,
        replica,
        max_lag_s=settings.replica_max_lag_seconds,
        retry_after_s=settings.replica_retry_seconds,
        check_every_s=settings.replica_check_seconds,
        monotonic=clock.monotonic,
    )
