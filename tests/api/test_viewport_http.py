"""The viewport over real HTTP: station lists equal a brute-force filter of the box in the box's own
system (random boxes, boxes along H3 cell edges, stations exactly on the edge), clusters add up to the
stations inside and stay inside the box, and the optional columns ride along."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from geo import cells, coords
from pricing.ladder import PriceUpdate, write_prices
from tests.api.map_support import KUNMING, in_box, network, positions
from tests.geo.synthetic import CENTRES
from tests.support import LiveServer

SYSTEMS = list(coords.CoordSystem)
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def stations(engine: Engine, server: LiveServer) -> list[int]:
    server.clock.set(NOW)
    return network(engine, server)


def viewport(server: LiveServer, box: tuple[float, float, float, float], **params: Any) -> dict[str, Any]:
    response = server.get("/v1/stations", bbox=",".join(repr(v) for v in box), **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def check_box(server: LiveServer, box: tuple[float, float, float, float], system: coords.CoordSystem) -> str:
    """The answer for the box equals the scan: every station (stations) or every count (clusters)."""
    body = viewport(server, box, coord=system.value)
    want = in_box(server.engine, system, *box)
    assert body["coord"] == system.value and body["count"] == len(want)
    if body["kind"] == "stations":
        assert [item["id"] for item in body["items"]] == want and body["clusters"] == []
        for item in body["items"]:  # locations are shown to 6 places
            lon, lat = item["location"]["lon"], item["location"]["lat"]
            assert box[0] - 5e-7 <= lon <= box[2] + 5e-7 and box[1] - 5e-7 <= lat <= box[3] + 5e-7
    else:
        assert body["items"] == [] and len(want) > 200
        assert sum(c["count"] for c in body["clusters"]) == len(want)
        for c in body["clusters"]:
            b = c["bbox"]
            assert box[0] <= b["west"] <= b["east"] <= box[2] and box[1] <= b["south"] <= b["north"] <= box[3]
            assert b["west"] <= c["centroid"]["lon"] + 1e-6 and c["centroid"]["lon"] - 1e-6 <= b["east"]
    return str(body["kind"])


def test_random_boxes_equal_the_scan_in_each_system(server: LiveServer, stations: list[int]) -> None:
    rng = random.Random(1402)
    kinds = set()
    for n in range(90):
        system = rng.choice(SYSTEMS)
        lon0, lat0 = coords.from_wgs84(*rng.choice(CENTRES), system)
        lon, lat = lon0 + rng.uniform(-0.3, 0.3), lat0 + rng.uniform(-0.3, 0.3)
        w, h = (
            rng.choice([0.005, 0.02, 0.1, 0.5, 2.0]) * rng.random(),
            rng.choice([0.005, 0.05, 0.3, 2.0]) * rng.random(),
        )
        if n % 10 == 0:  # a city and its surroundings: clusters
            w, h, lon, lat = 1.2, 1.2, lon0 - 0.6, lat0 - 0.6
        kinds.add(check_box(server, (lon, lat, lon + w, lat + h), system))
    assert kinds == {"stations", "clusters"}


def test_boxes_along_h3_cell_edges_and_stations_on_the_edge(server: LiveServer, stations: list[int]) -> None:
    rng = random.Random(7)
    ids, _, _ = positions(server.engine, coords.CoordSystem.WGS84)
    for _ in range(40):
        system = rng.choice(SYSTEMS)
        sid = int(rng.choice(ids))
        ids_s, xs, ys = positions(server.engine, system)
        at = int((ids_s == sid).nonzero()[0][0])
        x, y = float(xs[at]), float(ys[at])
        wx, wy = coords.to_wgs84(x, y, system)
        res = rng.choice([5, 7])
        vertices = [
            coords.from_wgs84(vx, vy, system) for vx, vy in cells.boundary_of(cells.cell_of(wx, wy, res))
        ]
        vx, vy = rng.choice(vertices)
        # a box from a vertex of the station's cell, with the station exactly on one of its edges
        box = (min(x, vx), min(y, vy), max(x, vx), max(y, vy))
        assert check_box(server, box, system) == "stations"
        assert sid in [item["id"] for item in viewport(server, box, coord=system.value)["items"]]
        # the same box shrunk by a hair on the station's side leaves it out
        shrunk = (
            (box[0] + 1e-9, box[1], box[2], box[3])
            if x == box[0]
            else (box[0], box[1], box[2] - 1e-9, box[3])
        )
        assert sid not in [item["id"] for item in viewport(server, shrunk, coord=system.value)["items"]]


def test_all_of_china_is_clustered_and_bounded_at_every_zoom(server: LiveServer, stations: list[int]) -> None:
    china = (73.0, 17.0, 136.0, 54.0)
    for zoom in (None, 3, 8, 18, 22):
        params = {"coord": "gcj02"} | ({"zoom": zoom} if zoom is not None else {})
        response = server.get("/v1/stations", bbox=",".join(map(str, china)), **params)
        body = response.json()
        assert body["kind"] == "clusters" and len(body["clusters"]) <= 256, zoom
        assert sum(c["count"] for c in body["clusters"]) == len(
            in_box(server.engine, coords.CoordSystem.GCJ02, *china)
        )
        assert len(response.content) < 200_000
    assert check_box(server, china, coords.CoordSystem.BD09) == "clusters"


def test_a_box_edge_through_a_dense_city_splits_no_cluster(server: LiveServer, stations: list[int]) -> None:
    lon, lat = coords.from_wgs84(*KUNMING, coords.CoordSystem.GCJ02)
    for cut in (lon - 0.05, lon, lon + 0.03):
        west = (cut, lat - 1.0, cut + 1.5, lat + 1.0)
        east = (cut - 1.5, lat - 1.0, cut, lat + 1.0)
        for box in (west, east):
            for zoom in (5, 9):
                body = viewport(server, box, coord="gcj02", zoom=zoom)
                if body["kind"] == "clusters":
                    assert all(
                        box[0] <= c["bbox"]["west"] and c["bbox"]["east"] <= box[2] for c in body["clusters"]
                    )
                assert body["count"] == len(in_box(server.engine, coords.CoordSystem.GCJ02, *box))


def test_filters_are_those_of_nearby(server: LiveServer, stations: list[int]) -> None:
    box = (KUNMING[0] - 0.05, KUNMING[1] - 0.05, KUNMING[0] + 0.05, KUNMING[1] + 0.05)
    every = viewport(server, box)
    assert every["kind"] == "stations" and every["count"] > 5
    shell = viewport(server, box, brand="shell")
    assert shell["items"] and all(i["brand"] == "shell" for i in shell["items"])
    assert [i["id"] for i in shell["items"]] == [i["id"] for i in every["items"] if i["brand"] == "shell"]
    diesel = viewport(server, box, grade="0#")
    assert [i["id"] for i in diesel["items"]] == [i["id"] for i in every["items"] if "0" in i["grades"]]
    open_now = viewport(server, box, open_now="true")
    assert {i["id"] for i in open_now["items"]} < {i["id"] for i in every["items"]}
    assert all(i["open_now"] is True for i in open_now["items"])
    assert viewport(server, box, brand="壳牌")["items"] == shell["items"]  # the search's alias table
    brands = {i["brand"] for i in every["items"]} - {"shell"}
    other = sorted(brands)[0]
    both = viewport(server, box, brand=f"shell,{other}")
    assert [i["id"] for i in both["items"]] == [
        i["id"] for i in every["items"] if i["brand"] in ("shell", other)
    ]
    word = every["items"][0]["name"][:2]
    named = viewport(server, box, q=word)
    assert named["items"] and [i["id"] for i in named["items"]] == [
        i["id"] for i in every["items"] if word in i["name"] or word in (i.get("address") or "")
    ]
    refused = server.get("/v1/stations", bbox=",".join(map(repr, box)), brand="不存在的牌子")
    assert refused.status_code == 400 and refused.json()["type"] == "/problems/unknown-brand"


def _price(engine: Engine, station_id: int, pump: str, platform: str, at: datetime) -> None:
    done = write_prices(
        engine,
        [
            PriceUpdate(station_id, "92", "pump", Decimal(pump), at, "test"),
            PriceUpdate(station_id, "92", "platform", Decimal(platform), at, "test"),
        ],
        now=at,
    )
    assert all(o.status != "rejected" for o in done), done


def test_clusters_carry_the_cheapest_fresh_price_and_brand_shares(
    server: LiveServer, engine: Engine, stations: list[int]
) -> None:
    box = (KUNMING[0] - 1.0, KUNMING[1] - 1.0, KUNMING[0] + 1.0, KUNMING[1] + 1.0)
    inside = in_box(engine, coords.CoordSystem.WGS84, *box)
    assert len(inside) > 200
    with engine.connect() as conn:
        grades: dict[int, list[str]] = dict(
            conn.execute(text("SELECT id, grades FROM stations WHERE id = ANY(:ids)"), {"ids": inside}).all()
        )
    sellers = [i for i in inside if "92" in grades[i]][:6]
    _price(engine, sellers[0], "7.89", "7.59", NOW - timedelta(hours=1))
    _price(engine, sellers[1], "7.89", "7.19", NOW - timedelta(hours=1))
    _price(engine, sellers[2], "7.89", "6.09", NOW - timedelta(days=5))  # stale: not the cheapest
    server.wait_for_changes()
    body = viewport(server, box, zoom=1)  # one square holds everything inside
    assert body["kind"] == "clusters" and len(body["clusters"]) == 1
    (only,) = body["clusters"]
    assert only["count"] == len(inside)
    assert only["cheapest"] == [{"grade": "92", "currency": "CNY", "price": "7.19"}]
    assert sum(b["count"] for b in only["brands"]) == len(inside)
    assert [b["count"] for b in only["brands"]] == sorted((b["count"] for b in only["brands"]), reverse=True)
    assert abs(sum(b["share"] for b in only["brands"]) - 1) < 0.01
    # The clusters' price rows are kept with the price book and patched with it: a cheaper price and a
    # grade nobody priced before both show in the next answer.
    _price(engine, sellers[3], "7.49", "6.99", NOW - timedelta(minutes=5))
    server.wait_for_changes()
    (cheaper,) = viewport(server, box, zoom=1)["clusters"]
    assert cheaper["cheapest"] == [{"grade": "92", "currency": "CNY", "price": "6.99"}]
    other = next(i for i in inside if "95" in grades[i])
    first_95 = write_prices(
        engine,
        [PriceUpdate(other, "95", "pump", Decimal("8.29"), NOW - timedelta(minutes=5), "test")],
        now=NOW,
    )
    assert all(o.status != "rejected" for o in first_95), first_95
    server.wait_for_changes()
    (again,) = viewport(server, box, zoom=1)["clusters"]
    assert again["cheapest"] == [
        {"grade": "92", "currency": "CNY", "price": "6.99"},
        {"grade": "95", "currency": "CNY", "price": "8.29"},
    ]


def test_station_items_take_the_columns_of_nearby(
    server: LiveServer, engine: Engine, stations: list[int]
) -> None:
    box = (KUNMING[0] - 0.03, KUNMING[1] - 0.03, KUNMING[0] + 0.03, KUNMING[1] + 0.03)
    body = viewport(server, box, coord="bd09", prices="true", effective="true", wait="true", nav="true")
    assert body["kind"] == "stations" and body["items"]
    for item in body["items"]:
        assert {"prices", "effective", "wait_minutes", "wait_stale", "navigation"} <= set(item)
        assert item["navigation"]["baidu"]["coord"] == "bd09"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"bbox": "102,25,103"}, "bbox"),
        ({"bbox": "103,25,102,26"}, "bbox"),
        ({"bbox": "102,26,103,25"}, "bbox"),
        ({"bbox": "102,25,190,26"}, "bbox"),
        ({"bbox": "1e2,25,103,26"}, "bbox"),
        ({}, "bbox"),
        ({"bbox": "102,25,103,26", "zoom": "23"}, "zoom"),
        ({"bbox": "102,25,103,26", "zoom": "x"}, "zoom"),
    ],
)
def test_bad_boxes_are_400_problems_naming_the_parameter(
    server: LiveServer, query: dict[str, str], name: str
) -> None:
    response = httpx.get(server.base_url + "/v1/stations", params=query)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/invalid-parameter" and [e["name"] for e in problem["errors"]] == [
        name
    ]


def test_an_unknown_system_is_a_400_problem(server: LiveServer) -> None:
    response = server.get("/v1/stations", bbox="102,25,103,26", coord="mars")
    assert response.status_code == 400 and response.json()["type"] == "/problems/invalid-coordinates"
