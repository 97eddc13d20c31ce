"""Nearby search as a driver uses it: coordinate systems, filters, open now, paging, live catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from geo import coords
from geo.distance import distance_m
from geo.hours import OpeningHours
from geo.records import StationRecord
from tests.support import LiveServer, insert_records

KUNMING = (102.7123, 25.0406)  # WGS-84
TUESDAY_MORNING = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
JUST_AFTER_MIDNIGHT = datetime(
    2026, 11, 23, 16, 0, 30, tzinfo=UTC
)  # Tuesday 00:00:30 in Shanghai, Monday in UTC


def station(name: str, dx_m: float, **extra: Any) -> StationRecord:
    lon = KUNMING[0] + dx_m / 101_000.0  # ~1 m east per 1/101000 degree at this latitude
    fields: dict[str, Any] = {
        "brand": "sinopec",
        "grades": ("92", "95", "0"),
        "opening_hours": OpeningHours(always_open=True),
    }
    fields.update(extra)
    return StationRecord(name=name, lon=lon, lat=KUNMING[1], **fields)


@pytest.fixture
def street(engine: Engine, server: LiveServer) -> list[int]:
    """Six stations east of KUNMING, the server's clock at TUESDAY_MORNING (C opens Tuesdays 00:00-00:01)."""
    server.clock.set(TUESDAY_MORNING)
    closed_now = OpeningHours.from_json({"weekly": {"tue": [["00:00", "00:01"]]}})
    ids = insert_records(
        engine,
        [
            station("中国石化 A", 100),
            station("中国石油 B", 200, brand="petrochina", grades=("92", "95", "98")),
            station("壳牌 C", 300, brand="shell", grades=("95",), opening_hours=closed_now),
            station("民营 D", 400, brand="private", grades=("0",), status="temporarily_closed"),
            station("中国石化 E", 500, opening_hours=None),
            station("已关闭 F", 600, status="closed"),
        ],
    )
    server.wait_for_catalogue()
    return ids


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_answers_in_the_requested_coordinate_system(server: LiveServer, street: list[int]) -> None:
    for system in ("wgs84", "gcj02", "bd09"):
        lon, lat = coords.from_wgs84(*KUNMING, coords.CoordSystem(system))
        body = server.get("/v1/stations/nearby", lon=lon, lat=lat, coord=system, radius_m=1000).json()
        # the origin as given, to the fixed precision of every coordinate (1e-6 degree)
        assert body["coord"] == system and body["origin"] == {"lon": round(lon, 6), "lat": round(lat, 6)}
        first = body["items"][0]
        assert first["name"] == "中国石化 A" and abs(first["distance_m"] - 100) < 2
        want = coords.from_wgs84(KUNMING[0] + 100 / 101_000.0, KUNMING[1], coords.CoordSystem(system))
        assert distance_m(first["location"]["lon"], first["location"]["lat"], *want) < 0.2


def test_a_point_in_the_wrong_system_lands_hundreds_of_metres_away(
    server: LiveServer, street: list[int]
) -> None:
    gcj = coords.wgs84_to_gcj02(*KUNMING)
    as_if_wgs = server.get("/v1/stations/nearby", lon=gcj[0], lat=gcj[1], radius_m=50).json()
    as_gcj = server.get("/v1/stations/nearby", lon=gcj[0], lat=gcj[1], coord="gcj02", radius_m=150).json()
    assert as_if_wgs["items"] == [] and [i["name"] for i in as_gcj["items"]] == ["中国石化 A"]


def test_closed_stations_are_not_found_and_others_are_in_order(server: LiveServer, street: list[int]) -> None:
    got = names(server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=2000))
    assert got == ["中国石化 A", "中国石油 B", "壳牌 C", "民营 D", "中国石化 E"]


def test_filters(server: LiveServer, street: list[int]) -> None:
    def search(**params: object) -> list[str]:
        return names(
            server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=2000, **params)
        )

    assert search(grade="98#") == ["中国石油 B"]
    assert search(grade="0") == ["中国石化 A", "民营 D", "中国石化 E"]
    assert search(brand="中国石化") == ["中国石化 A", "中国石化 E"]
    assert search(brand="petrochina") == ["中国石油 B"]
    unknown = server.get("/v1/stations/nearby", lat=KUNMING[1], lon=KUNMING[0], brand="nobody")
    assert unknown.status_code == 400  # never silently no station, nor 民营 (tests/api/test_search_http.py)
    assert unknown.json()["type"] == "/problems/unknown-brand"


def test_open_now_in_station_local_time(server: LiveServer, street: list[int]) -> None:
    def open_now() -> tuple[dict[str, bool | None], list[str]]:
        body = server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=2000).json()
        opened = names(
            server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=2000, open_now=True)
        )
        return {item["name"]: item["open_now"] for item in body["items"]}, opened

    state, opened = open_now()
    assert state["中国石化 A"] is True and state["民营 D"] is False and state["中国石化 E"] is None
    assert "民营 D" not in opened and "中国石化 E" not in opened and "中国石化 A" in opened
    assert state["壳牌 C"] is False and "壳牌 C" not in opened  # Tuesday 10:00: C closed since 00:01
    assert server.get(f"/v1/stations/{street[2]}").json()["open_now"] is False
    # Tuesday 00:00:30 in Kunming (still Monday in UTC): C is open, in the list and in its detail
    server.clock.set(JUST_AFTER_MIDNIGHT)
    state, opened = open_now()
    assert state["壳牌 C"] is True and "壳牌 C" in opened and state["中国石化 A"] is True
    assert server.get(f"/v1/stations/{street[2]}").json()["open_now"] is True


def test_paging_with_the_cursor(server: LiveServer, street: list[int]) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        body = server.get(
            "/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=2000, limit=2, cursor=cursor
        ).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["中国石化 A", "中国石油 B", "壳牌 C", "民营 D", "中国石化 E"]


def test_catalogue_changes_reach_the_index(server: LiveServer, street: list[int], engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE stations SET status = 'closed' WHERE id = :id"), {"id": street[0]})
    insert_records(engine, [station("新站 G", 50)])
    server.wait_for_catalogue()
    got = names(server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=150))
    assert got == ["新站 G"]


def test_station_detail(server: LiveServer, engine: Engine) -> None:
    record = station(
        "中国石化昆明五华站",
        0,
        adcode="530102",
        province="云南省",
        city="昆明市",
        county="五华区",
        services=("car_wash", "convenience_store"),
        positions=(("92", "95"), ("92", "95", "98"), ("0",)),
        identifiers=(("amap", "B0FFTEST01"), ("demo-feed", "km-1")),
    )
    [station_id] = insert_records(engine, [record])
    body = server.get(f"/v1/stations/{station_id}", coord="gcj02").json()
    assert body["coord"] == "gcj02" and body["brand_name"] == "中国石化" and body["adcode"] == "530102"
    gcj = coords.wgs84_to_gcj02(*KUNMING)
    assert distance_m(body["location"]["lon"], body["location"]["lat"], *gcj) < 0.2
    assert [len(p["nozzles"]) for p in body["positions"]] == [2, 3, 1]
    assert body["positions"][1]["nozzles"][2] == {"number": 3, "grade": "98"}
    assert body["grades"] == ["0", "92", "95", "98"] and body["open_now"] is True
    assert {(i["source"], i["external_id"]) for i in body["identifiers"]} == {
        ("amap", "B0FFTEST01"),
        ("demo-feed", "km-1"),
    }
    assert body["opening_hours"] == {"always_open": True} and body["timezone"] == "Asia/Shanghai"
    with engine.connect() as conn:  # the row's time is the database's (its default now() at insert)
        database_now = conn.execute(text("SELECT now()")).scalar_one()
    assert len(body["h3_cell"]) == 15 and datetime.fromisoformat(body["updated_at"]) <= database_now
