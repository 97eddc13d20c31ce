"""A worker with a read replica (STATIONS_REPLICA_URL), over real HTTP: its start-up load and the change
log come from the replica; past the lag bound, and while the replica is down, from the primary, with
every request answered; a restarted replica is used again. The replica is a real streaming replica of
the test database (tests/replica_support.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.api.test_nearby_features import KUNMING, station
from tests.replica_support import Replica
from tests.support import LiveServer, insert_records, live_server, wait_until

ServerOf = Callable[..., AbstractContextManager[LiveServer]]


def _names(server: LiveServer) -> set[str]:
    response = server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=3000)
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["items"]}


def _replica_state(server: LiveServer) -> dict[str, Any]:
    response = server.get("/readyz")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["replica"]
    return state


def _rename(engine: Engine, station_id: int, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE stations SET name = :name WHERE id = :id"), {"name": name, "id": station_id}
        )


_until = partial(wait_until, timeout=30.0)  # a replica restarting or catching up under load


@pytest.fixture
def server_with_replica(database_url: str, engine: Engine, replica: Replica) -> Iterator[ServerOf]:
    def start(**settings: Any) -> AbstractContextManager[LiveServer]:
        return live_server(database_url, engine, replica_url=replica.url(), **settings)

    yield start


def test_the_start_up_load_and_the_change_log_are_read_from_the_replica(
    engine: Engine, replica: Replica, server_with_replica: ServerOf
) -> None:
    (a,) = insert_records(engine, [station("甲站", 100)])
    # The replica has the station before the worker starts: with a bound this wide every read is its.
    has_it = "SELECT count(*) FROM stations WHERE id = %s"
    _until(lambda: replica.sql(has_it, (a,)) == 1, "the replica has 甲站")
    with server_with_replica(replica_max_lag_seconds=600) as server:
        assert _names(server) == {"甲站"}
        _rename(engine, a, "甲站新名")
        _until(lambda: _names(server) == {"甲站新名"}, "the rename applied")
        state = _replica_state(server)
        # No read went to the primary, so the snapshot and the rename came from the replica.
        assert state["configured"] and state["in_use"] and state["available"]
        assert state["primary_reads"] == 0 and state["fallbacks"] == 0 and state["replica_reads"] >= 2
        assert state["lag_seconds"] is not None and state["lag_bytes"] is not None


def test_past_the_lag_bound_and_while_the_replica_is_down_the_primary_answers(
    engine: Engine, replica: Replica, server_with_replica: ServerOf
) -> None:
    (a,) = insert_records(engine, [station("乙站", 100)])
    settings = {"replica_max_lag_seconds": 0.5, "replica_retry_seconds": 0.3, "replica_check_seconds": 0.05}
    with server_with_replica(**settings) as server:
        # The start-up load may come from a replica up to the bound behind (the test cluster commits
        # asynchronously: WAL reaches the replica at the WAL writer's next flush), the log then brings 乙站.
        _until(lambda: _names(server) == {"乙站"}, "the worker holds 乙站")
        _until(lambda: _replica_state(server)["in_use"], "reads going to the replica")

        # Lag bound exceeded: replay paused, the change is still seen (from the primary).
        replica.sql("SELECT pg_wal_replay_pause()")
        _rename(engine, a, "乙站一")
        _until(lambda: _names(server) == {"乙站一"}, "the rename applied while replay is paused")
        state = _replica_state(server)
        assert state["fallbacks"] >= 1 and state["replay_paused"] is True and state["lag_bytes"] > 0
        replica.sql("SELECT pg_wal_replay_resume()")
        _until(lambda: _replica_state(server)["in_use"], "reads going to the replica again")

        # The replica stopped mid-run: every request answers, changes keep coming (from the primary).
        replica.stop()
        _rename(engine, a, "乙站二")
        _until(lambda: _names(server) == {"乙站二"}, "the rename applied while the replica is down")
        for _ in range(20):
            assert _names(server) == {"乙站二"}
        state = _replica_state(server)
        assert state["failures"] >= 1 and state["in_use"] is False and state["last_error"] is not None

        # Restarted: used again.
        replica.start()
        reads_before = _replica_state(server)["replica_reads"]
        _until(
            lambda: _replica_state(server)["replica_reads"] > reads_before, "reads on the restarted replica"
        )
        _rename(engine, a, "乙站三")
        _until(lambda: _names(server) == {"乙站三"}, "a rename applied after the restart")
        assert _replica_state(server)["available"] is True
