"""Fixtures for tests against the real PostGIS that bin/test starts (DATABASE_URL names a throwaway DB)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from db.engine import make_engine
from tests.replica_support import Replica
from tests.support import LiveServer, live_server

# How long one example takes on a loaded 2-core machine says nothing about the code: no per-example
# deadline and no "too slow" health check for any property test (tests may still set their own).
settings.register_profile("stations", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("stations")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CATALOGUE_TABLES = (
    "stations, station_identifiers, fueling_positions, nozzles, price_zones, price_zone_regions, "
    "guide_prices, station_prices, station_price_zones, station_credentials, drivers, member_levels, "
    "member_level_names, "
    "coupon_templates, coupon_instances, payment_promotions, promotion_policy, quotes, occupancy_events, "
    "nozzle_heads, waiting_reports, position_claims, checkouts, ordercore_events, partners, partner_keys, "
    "partner_buckets, partner_usage"
)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.fail("DATABASE_URL is not set: run the suite with bin/test, which starts PostGIS")
    return url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.cmd_opts = None
    os.environ["DATABASE_URL"] = database_url
    command.upgrade(cfg, "head")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated database with an empty catalogue (tests run one at a time against it)."""
    # A deadlock with a live server's background work (callbacks, sweeps, and the upkeep round every
    # server runs at start-up, which creates a fortnight of partitions, a few locks each): again, for up
    # to about 20 s, longer than such a burst lasts (five tries in 1 s lost to it).
    for attempt in range(20):
        try:
            with migrated_engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {CATALOGUE_TABLES} RESTART IDENTITY CASCADE"))
            break
        except DBAPIError:
            if attempt == 19:
                raise
            time.sleep(min(1.0, 0.1 * (attempt + 1)))
    return migrated_engine


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: CI always has ../shared beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def server_session(database_url: str, migrated_engine: Engine) -> Iterator[LiveServer]:
    with live_server(database_url, migrated_engine) as live:
        yield live


@pytest.fixture
def server(server_session: LiveServer, engine: Engine) -> Iterator[LiveServer]:
    """The real app over real HTTP, its index showing the (emptied) catalogue of this test; its clock reads
    the machine's time unless the test sets it (put back afterwards)."""
    server_session.clock.reset()
    server_session.wait_for_catalogue()
    yield server_session
    server_session.clock.reset()


@pytest.fixture(scope="session")
def replica_session(database_url: str, migrated_engine: Engine) -> Iterator[Replica]:
    replica = Replica(database_url)
    try:
        replica.create()
        replica.start()
        yield replica
    finally:
        replica.remove()


@pytest.fixture
def replica(replica_session: Replica, engine: Engine) -> Replica:
    """A streaming replica of the test database (started once a session), running and replaying."""
    replica_session.ready_for_a_test()
    return replica_session
