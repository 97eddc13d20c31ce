"""The read routing against a real streaming replica of the test database (tests/replica_support.py):
reads go to the replica, past the lag bound to the primary, and to the primary while the replica is down,
back to the replica once it is up again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

import pytest
from sqlalchemy import Engine, text

import changelog
from db.engine import make_engine
from db.read_routing import ReadRouting
from tests.replica_support import Replica
from tests.support import wait_until


def _in_recovery(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one())


def _head(engine: Engine) -> int:
    with engine.connect() as conn:
        return changelog.head(conn)


def _commit_a_change(engine: Engine) -> int:
    """A logged change on the primary (a price zone); the change log's head after it."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO price_zones (province_code, zone_code, province_name, zone_name) "
                "VALUES ('110000', :zone, '北京', '一区')"
            ),
            {"zone": f"z{time.time_ns()}"},
        )
    return _head(engine)


_until = partial(wait_until, timeout=30.0)  # a replica restarting or catching up under load


@pytest.fixture
def replica_engine(replica: Replica) -> Iterator[Engine]:
    engine = make_engine(replica.url())
    yield engine
    engine.dispose()


def test_reads_are_served_by_the_replica_and_see_the_primarys_writes(
    engine: Engine, replica_engine: Engine
) -> None:
    reads = ReadRouting(engine, replica_engine, max_lag_s=5, check_every_s=0.05)
    # Until the replica has replayed a commit of the primary's current WAL its lag is unknown: primary.
    _until(lambda: reads.read(_in_recovery) is True, "a read on the replica")  # pg_is_in_recovery: it is
    assert _in_recovery(reads.primary) is False
    want = _commit_a_change(engine)
    _until(lambda: reads.read(_head) >= want, "the replica's change log reaching the primary's head")
    state = reads.state()
    assert state["configured"] and state["in_use"] and state["available"]
    assert state["replica_reads"] >= 2 and state["failures"] == 0
    assert state["lag_seconds"] is not None and state["lag_seconds"] <= 5


def test_past_the_lag_bound_reads_go_to_the_primary_and_return_once_replay_resumes(
    engine: Engine, replica: Replica, replica_engine: Engine
) -> None:
    reads = ReadRouting(engine, replica_engine, max_lag_s=0.3, check_every_s=0.05)
    _until(lambda: reads.read(_in_recovery) is True, "the replica within 0.3 s of the primary")
    replica.sql("SELECT pg_wal_replay_pause()")
    want = _commit_a_change(engine)
    # Replay is paused: the change never reaches the replica, yet reads see it (from the primary).
    _until(lambda: reads.read(_head) >= want, "a read seeing the change")
    _until(lambda: reads.read(_in_recovery) is False, "a read going to the primary")
    state = reads.state()
    assert state["fallbacks"] >= 1 and state["in_use"] is False and state["replay_paused"] is True
    assert state["lag_bytes"] > 0 and state["lag_seconds"] > 0.3
    assert _head(replica_engine) < want  # the replica really is behind
    replica.sql("SELECT pg_wal_replay_resume()")
    _until(lambda: reads.read(_in_recovery) is True, "reads going to the replica again")
    # Back on the replica within the bound, it may still be replaying: the test cluster runs with
    # synchronous_commit=off, so a primary position sampled before the change was flushed lets the replica
    # back in up to wal_writer_delay before it has the change (the caveat db/read_routing.py states).
    _until(lambda: _head(replica_engine) >= want, "the replica replaying the change")
    assert reads.read(_head) >= want and reads.read(_in_recovery) is True
    assert reads.state()["in_use"] is True


def test_a_stopped_replica_sends_reads_to_the_primary_until_it_is_back(
    engine: Engine, replica: Replica, replica_engine: Engine
) -> None:
    reads = ReadRouting(engine, replica_engine, max_lag_s=5, retry_after_s=0.2, check_every_s=0.05)
    _until(lambda: reads.read(_in_recovery) is True, "a read on the replica")  # now pooled
    replica.stop()
    want = _commit_a_change(engine)
    # The read on the pooled (now dead) connection fails and is done again on the primary.
    assert reads.read(_head) >= want
    for _ in range(20):
        assert reads.read(_in_recovery) is False
    state = reads.state()
    assert state["failures"] >= 1 and state["fallbacks"] >= 20 and state["last_error"] is not None
    replica.start()
    _until(lambda: reads.read(_in_recovery) is True, "reads going to the restarted replica")
    assert reads.state()["available"] is True


def test_without_a_replica_every_read_is_the_primarys(engine: Engine) -> None:
    reads = ReadRouting(engine)
    assert reads.read(_in_recovery) is False
    state = reads.state()
    assert state["configured"] is False and state["primary_reads"] == 1 and state["fallbacks"] == 0
