from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.upkeep.support import drop_day_partitions


@pytest.fixture
def clean(engine: Engine) -> Engine:
    """The emptied database without any day partition (only the DEFAULT ones)."""
    drop_day_partitions(engine)
    return engine
