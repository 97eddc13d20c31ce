"""Test support: put StationRecords into the real database, run the real app over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import uvicorn
from sqlalchemy import Engine, text

import changelog
from access.driver_tokens import DriverTokenKeys, mint
from api.app import create_app
from api.settings import DEV_DRIVER_TOKEN_KEY, Settings
from geo import repository
from geo.records import StationRecord
from httpguard.protocol import BoundedHttpToolsProtocol
from timekeeping.clock import Clock, ManualClock

_INSERT_STATION = text(
    """
    INSERT INTO stations (name, brand, address, province, city, county, adcode, geom, h3_r5, h3_r7, h3_r9,
                          timezone, opening_hours, services, grades, status, content_hash)
    VALUES (:name, :brand, :address, :province, :city, :county, :adcode, ST_GeomFromEWKT(:geom),
            :h3_r5, :h3_r7, :h3_r9, :timezone, CAST(:opening_hours AS jsonb), :services, :grades, :status,
            :content_hash)
    RETURNING id
    """
)


def insert_records(engine: Engine, records: Sequence[StationRecord]) -> list[int]:
    """Insert stations with their identifiers, positions and nozzles; returns the new ids in order."""
    ids: list[int] = []
    with engine.begin() as conn:
        for record in records:
            row = record.station_row()
            row["opening_hours"] = (
                orjson.dumps(row["opening_hours"]).decode() if row["opening_hours"] else None
            )
            station_id = int(conn.execute(_INSERT_STATION, row).scalar_one())
            ids.append(station_id)
            for source, external_id in record.identifiers:
                conn.execute(
                    text("INSERT INTO station_identifiers VALUES (:s, :e, :id)"),
                    {"s": source, "e": external_id, "id": station_id},
                )
            for number, nozzles in enumerate(record.positions, start=1):
                position_id = conn.execute(
                    text("INSERT INTO fueling_positions (station_id, number) VALUES (:id, :n) RETURNING id"),
                    {"id": station_id, "n": number},
                ).scalar_one()
                for nozzle_number, grade in enumerate(nozzles, start=1):
                    conn.execute(
                        text("INSERT INTO nozzles (position_id, number, grade) VALUES (:p, :n, :g)"),
                        {"p": position_id, "n": nozzle_number, "g": grade},
                    )
    return ids


# The key the servers of the tests verify driver tokens with (the development default).
TEST_DRIVER_KEYS = DriverTokenKeys(DEV_DRIVER_TOKEN_KEY.encode())


def driver_token(driver_id: str, clock: Clock, ttl_seconds: int = 6 * 3600) -> str:
    """What the mini-program gateway hands a driver after WeChat login, valid from the clock's now."""
    return mint(TEST_DRIVER_KEYS, driver_id, clock.now(), ttl_seconds)


def as_driver(driver_id: str, clock: Clock, ttl_seconds: int = 6 * 3600) -> dict[str, str]:
    """The request headers of the signed-in driver."""
    return {"Authorization": f"Bearer {driver_token(driver_id, clock, ttl_seconds)}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThreadServer:
    """One uvicorn server in a daemon thread; stop() and start() again on the same port."""

    def __init__(self, make_app: Callable[[], Any], port: int | None = None) -> None:
        self.make_app = make_app
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.app = self.make_app()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", http=BoundedHttpToolsProtocol
        )  # as bin/run serves both services
        self._server = server = uvicorn.Server(config)
        self._thread = thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None


class LiveServer:
    def __init__(self, base_url: str, engine: Engine, clock: ManualClock | None = None) -> None:
        self.base_url = base_url
        self.engine = engine
        self.clock = clock or ManualClock()  # the server's clock: the test sets and advances it
        self.client = httpx.Client(base_url=base_url, timeout=10)

    def driver(self, driver_id: str) -> dict[str, str]:
        """Headers signing the request in as `driver_id` (a token valid at the server's clock)."""
        return as_driver(driver_id, self.clock)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params={k: v for k, v in params.items() if v is not None})

    def wait_for_catalogue(self, timeout: float = 20.0) -> None:
        """Block until the server's index holds the database's current catalogue version."""
        want = repository.catalogue_version(self.engine)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.client.get("/readyz")
            if response.status_code == 200 and response.json()["index"]["catalogue_version"] == want:
                return
            time.sleep(0.05)
        raise AssertionError(f"index did not reach catalogue version {want}: {response.text}")

    def wait_for_changes(self, timeout: float = 20.0) -> dict[str, Any]:
        """Block until the server has applied the change log up to its current head; its change_log state."""
        with self.engine.connect() as conn:
            want = changelog.head(conn)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.client.get("/readyz")
            state = response.json().get("change_log") if response.status_code == 200 else None
            if state is not None and state["applied_seq"] >= want:
                return dict(state)
            time.sleep(0.02)
        raise AssertionError(f"the server did not apply the change log up to {want}: {response.text}")


@contextmanager
def live_server(
    database_url: str, engine: Engine, clock: ManualClock | None = None, **overrides: Any
) -> Iterator[LiveServer]:
    """The real app on a free port, reading the time from `clock` (a new ManualClock by default)."""
    # List views show waits as of the last whole second (tests post events seconds before they look).
    # No upkeep round unless a test asks for one (a round follows the test's clock, dropping what is old).
    base = {
        "DATABASE_URL": database_url,
        "index_refresh_seconds": 0.1,
        "occupancy_list_wait_seconds": 1.0,
        "upkeep_every_seconds": 0,
    }
    settings = Settings.model_validate({**base, **overrides})
    clock = clock or ManualClock()
    server = ThreadServer(lambda: create_app(settings, clock))
    server.start()
    live = LiveServer(server.base_url, engine, clock)
    try:
        yield live
    finally:
        live.client.close()
        server.stop()


def wait_until(check: Callable[[], Any], what: str = "condition", timeout: float = 15.0) -> Any:
    """Poll until check() is truthy and return its value; fails the test after `timeout` s (asynchronous
    work: callbacks, sweeps, a worker applying the change log, a replica replaying)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)
