"""The partner tests start each from no subscriptions, deliveries or worker cursor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.partners.support import Receiver, receiving

ME, OTHER = 900_001, 900_002  # partner ids of two accounts each test starts with (clear of the serial)


@pytest.fixture
def feed_engine(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE webhook_subscriptions, webhook_deliveries, partner_poi_ids CASCADE"))
        conn.execute(text("UPDATE webhook_cursor SET cursor = NULL, updated_at = NULL"))
        conn.execute(
            text(
                "INSERT INTO partners (id, name, coord, rate_per_second, burst, daily_quota) VALUES "
                "(:me, 'partner-me', 'wgs84', 1000, 1000, NULL), "
                "(:other, 'partner-other', 'gcj02', 1000, 1000, NULL)"
            ),
            {"me": ME, "other": OTHER},
        )
    return engine


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()
