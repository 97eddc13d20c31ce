"""The worker follows the change log: a station's name, status, place and prices change in its live index
in place (no reload), a station it never held makes it reload, and /readyz says how far behind it is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from geo.cells import cells_of
from pricing.ladder import PriceUpdate, write_prices
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records


def _nearby(server: LiveServer, lon: float = KUNMING[0], **params: Any) -> dict[str, dict[str, Any]]:
    response = server.get("/v1/stations/nearby", lon=lon, lat=KUNMING[1], radius_m=3000, **params)
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["items"]}


def _update(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_a_renamed_closed_reopened_and_moved_station_is_patched_in_place(
    server: LiveServer, engine: Engine
) -> None:
    a, _ = insert_records(engine, [station("甲站", 100), station("乙站", 200)])
    server.wait_for_catalogue()
    reloads = server.wait_for_changes()["reloads"]

    _update(engine, "UPDATE stations SET name = '甲站新名', brand = 'shell' WHERE id = :id", id=a)
    server.wait_for_changes()
    shown = _nearby(server)
    assert "甲站" not in shown and shown["甲站新名"]["brand"] == "shell"
    assert set(_nearby(server, brand="shell")) == {"甲站新名"}

    _update(engine, "UPDATE stations SET status = 'closed' WHERE id = :id", id=a)
    server.wait_for_changes()
    assert set(_nearby(server)) == {"乙站"}
    _update(engine, "UPDATE stations SET status = 'temporarily_closed' WHERE id = :id", id=a)
    server.wait_for_changes()
    assert _nearby(server)["甲站新名"]["status"] == "temporarily_closed"

    far = KUNMING[0] + 0.1  # ~10 km east: out of the 3 km disk around KUNMING
    _update(
        engine,
        "UPDATE stations SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), h3_r5 = :r5, h3_r7 = :r7, "
        "h3_r9 = :r9 WHERE id = :id",
        id=a,
        lon=far,
        lat=KUNMING[1],
        **_cells(far, KUNMING[1]),
    )
    server.wait_for_changes()
    assert set(_nearby(server)) == {"乙站"}
    moved = _nearby(server, lon=far)["甲站新名"]
    assert moved["distance_m"] < 1 and moved["location"]["lon"] == round(far, 6)
    assert server.wait_for_changes()["reloads"] == reloads  # all of it in place
    answer = server.get("/v1/stations/nearby", lon=far, lat=KUNMING[1])
    assert answer.headers["X-Change-Log-Behind"] == "0.000"  # caught up: nothing committed is unapplied


def _cells(lon: float, lat: float) -> dict[str, int]:
    return {f"r{res}": cell for res, cell in cells_of(lon, lat).items()}


def test_prices_and_a_new_grade_are_patched_in_place(server: LiveServer, engine: Engine) -> None:
    (a,) = insert_records(engine, [station("丙站", 100, grades=("92", "98"))])
    server.wait_for_catalogue()
    reloads = server.wait_for_changes()["reloads"]
    now = server.clock.now() - timedelta(minutes=5)
    for grade, pump in (("92", "7.89"), ("98", "9.99")):
        write_prices(engine, [PriceUpdate(a, grade, "pump", Decimal(pump), now, "test")], now=now)
    state = server.wait_for_changes()
    prices = _nearby(server, prices=True)["丙站"]["prices"]
    assert {g: p["pump"] for g, p in prices.items()} == {"92": "7.89", "98": "9.99"}
    write_prices(engine, [PriceUpdate(a, "92", "pump", Decimal("7.59"), now, "test")], now=now)
    server.wait_for_changes()
    assert _nearby(server, prices=True)["丙站"]["prices"]["92"]["pump"] == "7.59"
    assert state["reloads"] == reloads == server.wait_for_changes()["reloads"]


def test_a_station_the_worker_never_held_makes_it_reload(server: LiveServer, engine: Engine) -> None:
    (a,) = insert_records(engine, [station("丁站", 100, status="closed")])
    server.wait_for_catalogue()
    before = server.wait_for_changes()
    assert "丁站" not in _nearby(server)
    _update(engine, "UPDATE stations SET status = 'open' WHERE id = :id", id=a)
    after = server.wait_for_changes()
    assert "丁站" in _nearby(server) and after["reloads"] == before["reloads"] + 1
    assert after["applied_seq"] >= after["head_seq"] and after["behind_seconds"] == 0.0
