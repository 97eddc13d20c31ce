"""The partner tests start each from no subscriptions, deliveries or worker cursor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.partners.support import Receiver, receiving


@pytest.fixture
def feed_engine(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE webhook_subscriptions, webhook_deliveries, partner_poi_ids CASCADE"))
        conn.execute(text("UPDATE webhook_cursor SET cursor = NULL, updated_at = NULL"))
    return engine


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()
