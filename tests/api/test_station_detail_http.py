"""The detail screen in one call (prices per grade with the whole ladder, the member price, today's hours,
waits per grade); the demo network's ladder complete with the official guide rung; one format for money,
times and coordinates; 404 for an unknown station on every station route; unknown parameters refused on
every route."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg2
import pytest
from sqlalchemy import Engine, text

from access.credentials import issue
from demodata.generator import generate
from demodata.guides import GUIDE_TABLE, load_guides
from demodata.load import Prices, load
from geo.hours import OpeningHours
from geo.records import StationRecord
from pricing import ladder, store
from tests.occupancy.support import at, event
from tests.support import LiveServer, insert_records

KUNMING = (102.7123, 25.0406)
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
MISSING = 99_999_999


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def station_id(engine: Engine, server: LiveServer) -> int:
    server.clock.set(NOW)
    hours = OpeningHours.from_json(
        {"weekly": {"tue": [["06:00", "12:00"], ["14:00", "23:30"]], "mon": [["20:00", "02:00"]]}}
    )
    [sid] = insert_records(
        engine,
        [
            StationRecord(
                name="中国石化昆明北站",
                brand="sinopec",
                lon=KUNMING[0] + 1.23456789e-3,
                lat=KUNMING[1] + 9.87654321e-4,
                province="云南省",
                city="昆明市",
                adcode="530100",
                opening_hours=hours,
                grades=("92", "95", "0"),
                positions=(("92", "95"), ("92",)),
            )
        ],
    )
    with engine.begin() as conn:
        store.put_driver(conn, "driver-gold", member_level="gold", completed_orders=3, points_balance=0)
        store.set_member_level(conn, "gold", {None: Decimal("0.05"), "95": Decimal("0.1")})
    updates = [
        ladder.PriceUpdate(sid, "92", "pump", Decimal("8.5"), NOW - timedelta(hours=1), "test"),
        ladder.PriceUpdate(sid, "92", "platform", Decimal("8.2"), NOW - timedelta(hours=1), "test"),
        ladder.PriceUpdate(sid, "95", "pump", Decimal("9.1"), NOW - timedelta(hours=1), "test"),
    ]
    ladder.write_prices(engine, updates, now=NOW)
    server.wait_for_catalogue()
    return sid


def test_the_detail_serves_its_screen_in_one_call(
    engine: Engine, server: LiveServer, station_id: int
) -> None:
    # position 1 (92, 95) is fueling, position 2 (92) free
    token = issue(engine, station_id).token
    events = [
        event(station_id, 1, 1, "fueling", 1, at(60, NOW)),
        event(station_id, 2, 1, "idle", 2, at(50, NOW)),
    ]
    posted = server.client.post(
        "/v1/occupancy/events", json=events, headers={"Authorization": f"Bearer {token}"}
    )
    assert posted.status_code == 200 and posted.json()["rejected"] == 0, posted.text
    body = ok(server.get(f"/v1/stations/{station_id}", grade="92"))
    assert body["as_of"] == "2026-11-24T02:00:00.000+00:00"
    prices = {p["grade"]: p for p in body["prices"]}
    assert list(prices) == ["92", "95", "0"]  # every grade sold, in grade order
    assert [(r["tier"], r["price"]) for r in prices["92"]["rungs"]] == [
        ("pump", "8.50"),
        ("platform", "8.20"),
    ]
    assert [(r["tier"], r["price"]) for r in prices["95"]["rungs"]] == [("pump", "9.10")]
    assert prices["0"]["rungs"] == [] and prices["0"]["member_price"] is None
    assert prices["92"]["member_price"] is None  # no driver: no member price
    assert body["today"] == {
        "date": "2026-11-24",
        "weekday": "tue",
        "local_time": "2026-11-24T10:00:00.000+08:00",
        "open_now": True,
        "hours": [["00:00", "02:00"], ["06:00", "12:00"], ["14:00", "23:30"]],  # Monday's night runs on
    }
    assert body["open_now"] is True
    waits = {w["grade"]: w for w in body["waits"]}
    assert set(waits) == {"92", "95"}  # no position serves 0#
    assert waits["92"]["suggested_position"] == 2 and body["suggested_position"] == 2
    assert waits["95"]["suggested_position"] is None  # its one position is busy
    assert waits["95"]["minutes"] > 0 and body["occupancy"]["positions"]["occupied"] == 1
    assert INSTANT.match(body["updated_at"])
    for rung in prices["92"]["rungs"]:
        assert INSTANT.match(rung["effective_from"]) and INSTANT.match(rung["confirmed_at"])


def test_the_member_price_is_this_drivers(server: LiveServer, station_id: int) -> None:
    body = ok(server.client.get(f"/v1/stations/{station_id}", headers=server.driver("driver-gold")))
    prices = {p["grade"]: p for p in body["prices"]}
    assert prices["92"]["member_price"] == {"level": "gold", "price": "8.15"}  # platform 8.20 - 0.05
    assert prices["95"]["member_price"] == {"level": "gold", "price": "9.00"}  # pump 9.10 - 0.10 (its own)
    stranger = ok(server.client.get(f"/v1/stations/{station_id}", headers=server.driver("never-seen")))
    assert all(p["member_price"] is None for p in stranger["prices"])


def test_coordinates_have_six_decimals_in_every_system(server: LiveServer, station_id: int) -> None:
    for coord in ("wgs84", "gcj02", "bd09"):
        detail = ok(server.get(f"/v1/stations/{station_id}", coord=coord))
        listed = ok(server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], coord="wgs84"))
        for value in (*detail["location"].values(), *listed["items"][0]["location"].values()):
            assert len(repr(value).split(".")[1]) <= 6, (coord, value)
    wgs = ok(server.get(f"/v1/stations/{station_id}"))["location"]
    assert wgs == {"lon": round(KUNMING[0] + 1.23456789e-3, 6), "lat": round(KUNMING[1] + 9.87654321e-4, 6)}


def test_the_ladder_route_answers_every_grade_without_one(server: LiveServer, station_id: int) -> None:
    every = ok(server.get(f"/v1/stations/{station_id}/prices"))
    assert every["grade"] is None and every["rungs"] is None
    assert [g["grade"] for g in every["grades"]] == ["92", "95", "0"]
    one = ok(server.get(f"/v1/stations/{station_id}/prices", grade="92#"))
    assert one["grade"] == "92" and [r["price"] for r in one["rungs"]] == ["8.50", "8.20"]
    assert all(MONEY.match(r["price"]) for r in one["rungs"]) and INSTANT.match(one["as_of"])


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/stations/{MISSING}",
        f"/v1/stations/{MISSING}/prices",
        f"/v1/stations/{MISSING}/prices?grade=92",
        f"/v1/stations/{MISSING}/prices?grade=92&as_of=2026-11-01T00:00:00%2B08:00",
        f"/v1/stations/{MISSING}/wait?grade=92",
        f"/v1/stations/{MISSING}/occupancy",
    ],
)
def test_an_unknown_station_is_a_404_on_every_station_route(
    server: LiveServer, station_id: int, path: str
) -> None:
    answer = server.client.get(path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["type"] == "/problems/station-not-found"


def test_pricing_an_unknown_station_is_a_404(server: LiveServer, station_id: int) -> None:
    fill = {"station_id": MISSING, "grade": "92", "fill": {"by_amount": "300.00"}}
    for path in ("/v1/prices/effective", "/v1/quotes"):
        answer = server.client.post(path, json=fill)
        assert answer.status_code == 404, answer.text
        assert answer.json()["type"] == "/problems/station-not-found"
    known = server.client.post("/v1/prices/effective", json={**fill, "station_id": station_id})
    assert known.status_code == 200, known.text


def _filled(path: str, station_id: int) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda m: str(station_id) if m.group() == "{station_id}" else "1", path)


def test_every_route_refuses_a_query_parameter_it_does_not_take(server: LiveServer, station_id: int) -> None:
    spec = ok(server.get("/openapi.json"))
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            url = _filled(path, station_id)
            answer = server.client.request(method.upper(), url, params={"grdae": "95", "bogus": "1"})
            assert answer.status_code == 400, (method, path, answer.text)
            body = answer.json()
            assert body["type"] == "/problems/unknown-parameter", (method, path, body)
            assert [e["name"] for e in body["errors"]] == ["grdae", "bogus"], (method, path)
            assert "/problems/unknown-parameter" in str(operation["responses"]["400"]), (method, path)
            checked += 1
    assert checked >= 25
    # a parameter the route does take is still read as before
    assert ok(server.get(f"/v1/stations/{station_id}", coord="gcj02"))["coord"] == "gcj02"


def test_the_demo_networks_ladder_is_complete_with_the_official_guide(
    engine: Engine, database_url: str, server: LiveServer
) -> None:
    conn = psycopg2.connect(database_url)
    try:
        load(conn, generate(400, 11), prices=Prices(11, NOW))
    finally:
        conn.close()
    summary = load_guides(engine)
    assert summary.zone_summary is not None and summary.zone_summary.unresolved == []
    assert summary.rejected == 5  # 89# is not published in five zones
    server.clock.set(NOW)
    server.wait_for_catalogue()
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT s.id, z.province_code, z.zone_code FROM stations s "
                "JOIN station_price_zones z ON z.station_id = s.id WHERE '92' = ANY(s.grades) ORDER BY s.id"
            )
        ).all()
        total = c.execute(text("SELECT count(*) FROM stations WHERE '92' = ANY(grades)")).scalar_one()
    assert len(rows) == total > 100  # every demo station selling 92# has its price zone
    table = json.loads((GUIDE_TABLE / "2026-04-21.json").read_text(encoding="utf-8"))
    official = {
        (p["province_code"], z["zone_code"]): z["items"]["92"] for p in table["provinces"] for z in p["zones"]
    }
    assert official[("530000", "yunnan-1")] == 8.61  # 一价区 = 昆明市
    for sid, province, zone in rows[::8]:
        prices = {p["grade"]: p for p in ok(server.get(f"/v1/stations/{sid}"))["prices"]}
        tiers = [r["tier"] for r in prices["92"]["rungs"]]
        assert tiers[:2] == ["guide", "pump"], (sid, tiers)
        guide = prices["92"]["rungs"][0]
        assert (guide["source"], guide["zone_code"]) == ("cn-official", zone)
        assert guide["price"] == f"{official[(province, zone)]:.2f}"
        assert Decimal(prices["92"]["rungs"][1]["price"]) <= Decimal(guide["price"])  # pump within the guide
