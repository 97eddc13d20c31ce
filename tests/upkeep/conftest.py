from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests import ordercore_support
from tests.upkeep.support import drop_day_partitions


@pytest.fixture
def clean(engine: Engine) -> Engine:
    """The emptied database without any day partition (only the DEFAULT ones)."""
    drop_day_partitions(engine)
    return engine


ordercore_migrated = ordercore_support.ordercore_migrated
ordercore_engine = ordercore_support.ordercore_engine
