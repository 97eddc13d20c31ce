"""The reference order core over real HTTP against the real PostgreSQL (schema `ordercore`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests import ordercore_support
from tests.ordercore_support import (
    CallbackReceiver,
    Contract,
    OrdercoreServer,
    ordercore_settings,
    running_ordercore,
)
from timekeeping.clock import ManualClock

# The shared fixtures (any conftest can take them over the same way).
ordercore_migrated = ordercore_support.ordercore_migrated
ordercore_engine = ordercore_support.ordercore_engine


@pytest.fixture
def clock() -> ManualClock:
    """The test's clock: its order cores read the time from it, its receiver checks signatures by it."""
    return ManualClock()


@pytest.fixture
def receiver(clock: ManualClock) -> Iterator[CallbackReceiver]:
    with CallbackReceiver(clock=clock) as r:
        yield r


@pytest.fixture
def core(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver, clock: ManualClock
) -> Iterator[OrdercoreServer]:
    with running_ordercore(ordercore_settings(database_url, receiver.url), clock) as server:
        yield server


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()
