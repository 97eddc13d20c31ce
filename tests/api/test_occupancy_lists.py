"""Expected waits in nearby search and the price comparison: wait=true columns and sort=wait."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.test_compare_http import price, wait_for_price
from tests.api.test_occupancy_http import ok, post
from tests.occupancy.support import KUNMING, at, event, forecourt_station, session, stations_with_tokens
from tests.support import LiveServer


@pytest.fixture
def three(engine: Engine, server: LiveServer) -> dict[str, int]:
    made = stations_with_tokens(
        engine,
        [forecourt_station("busy", 100), forecourt_station("silent", 500), forecourt_station("free", 1_000)],
    )
    (busy, busy_token), (silent, _), (free, free_token) = made
    for sid in (busy, silent, free):
        price(engine, sid, "7.89", "7.59")
    server.wait_for_catalogue()
    wait_for_price(server, free, "7.59")
    ok(
        post(
            server,
            busy_token,
            [
                *session(busy, 1, 1, 1, 60, ("calling", "authorized", "fueling"), 5),
                *session(busy, 2, 1, 1, 50, ("calling", "authorized", "fueling"), 5),
                event(busy, 3, 1, "idle", 1, at(400)),
            ],
        )
    )
    ok(post(server, free_token, [event(free, p, 1, "idle", 1, at(200)) for p in (1, 2, 3)]))
    return {"busy": busy, "silent": silent, "free": free}


def _get(server: LiveServer, path: str, **params: Any) -> dict[str, Any]:
    return ok(server.get(path, lon=KUNMING[0], lat=KUNMING[1], radius_m=5000, **params))


def test_nearby_shows_and_sorts_by_wait(server: LiveServer, three: dict[str, int]) -> None:
    ok(server.get(f"/v1/stations/{three['silent']}", grade="92"))  # the worker now knows its positions
    body = _get(server, "/v1/stations/nearby", grade="92", wait="true")
    waits = {i["name"]: (i["wait_minutes"], i["wait_stale"]) for i in body["items"]}
    assert waits["free"] == (0.0, False) and waits["silent"] == (None, None)
    assert waits["busy"][0] > 0 and waits["busy"][1] is False
    ranked = _get(server, "/v1/stations/nearby", grade="92", sort="wait")
    assert [i["name"] for i in ranked["items"]] == ["free", "busy", "silent"]
    plain = _get(server, "/v1/stations/nearby", grade="92")
    assert [i["name"] for i in plain["items"]] == ["busy", "silent", "free"] and "wait_minutes" not in plain[
        "items"
    ][0]
    no_grade = _get(server, "/v1/stations/nearby", wait="true")  # the wait for 92#, the default grade
    assert {i["name"]: (i["wait_minutes"], i["wait_stale"]) for i in no_grade["items"]} == waits


def test_comparison_shows_and_sorts_by_wait(server: LiveServer, three: dict[str, int]) -> None:
    by_price = _get(server, "/v1/prices/compare", grade="92", amount="300", wait="true")
    assert {i["name"]: i["wait_minutes"] for i in by_price["items"]}["free"] == 0.0
    assert all("wait_stale" in i for i in by_price["items"])
    by_wait = _get(server, "/v1/prices/compare", grade="92", amount="300", sort="wait")
    assert [i["name"] for i in by_wait["items"]] == ["free", "busy", "silent"]
    assert by_wait["items"][2]["wait_minutes"] is None and by_wait["items"][0]["price"]["gross"] == "300.00"
    assert "wait_minutes" not in _get(server, "/v1/prices/compare", grade="92", amount="300")["items"][0]
