"""Every sort of nearby and compare pages with a cursor: the pages, joined, are the one long list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.test_compare_http import price, wait_for_prices
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records

NOON = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
# (distance east m, pump, platform): equal prices at several distances, so ties are broken by distance
SHELVES = [
    (120, "7.89", "7.49"),
    (240, "7.89", "7.29"),
    (360, "7.89", "7.49"),
    (480, "7.69", "7.29"),
    (600, "7.89", "7.59"),
    (720, "7.79", "7.49"),
    (840, "7.89", "7.19"),
]


@pytest.fixture
def shelves(engine: Engine, server: LiveServer) -> list[int]:
    server.clock.set(NOON)
    ids = insert_records(engine, [station(f"排序站 {i}", dx) for i, (dx, _, _) in enumerate(SHELVES)])
    for sid, (_, pump, platform) in zip(ids, SHELVES, strict=True):
        price(engine, sid, pump, platform, NOON - timedelta(hours=1))
    server.wait_for_catalogue()
    wait_for_prices(server, {sid: platform for sid, (_, _, platform) in zip(ids, SHELVES, strict=True)})
    return ids


def _ours(items: list[dict[str, Any]], ids: list[int]) -> list[int]:
    return [i["id"] for i in items if i["id"] in ids]


def _pages(server: LiveServer, path: str, query: dict[str, Any]) -> tuple[list[int], int]:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        response = server.get(path, **query, limit=2, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert len(body["items"]) <= 2
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
        assert pages < 50


AROUND = {"lon": KUNMING[0], "lat": KUNMING[1], "radius_m": 1000}
CASES = [
    ("/v1/stations/nearby", {"sort": "price", "grade": "92"}),
    ("/v1/stations/nearby", {"sort": "effective", "grade": "92", "amount": "200"}),
    ("/v1/stations/nearby", {"sort": "wait", "grade": "92"}),
    ("/v1/prices/compare", {"sort": "price", "grade": "92"}),
    ("/v1/prices/compare", {"sort": "total", "grade": "92", "amount": "100"}),
    ("/v1/prices/compare", {"sort": "wait", "grade": "92"}),
]


@pytest.mark.parametrize(("path", "extra"), CASES)
def test_pages_joined_are_the_whole_list(
    server: LiveServer, shelves: list[int], path: str, extra: dict[str, str]
) -> None:
    query = AROUND | extra
    whole = server.get(path, **query, limit=100)
    assert whole.status_code == 200, whole.text
    assert whole.json()["next_cursor"] is None
    expected = [i["id"] for i in whole.json()["items"]]
    assert set(shelves) <= set(expected)
    seen, pages = _pages(server, path, query)
    assert seen == expected and len(set(seen)) == len(seen)
    assert pages == (len(expected) + 1) // 2


def test_price_order_breaks_ties_by_distance(server: LiveServer, shelves: list[int]) -> None:
    seen, _ = _pages(server, "/v1/stations/nearby", AROUND | {"sort": "price", "grade": "92"})
    # platform prices: 7.19 (6), 7.29 (1, 3), 7.49 (0, 2, 5), 7.59 (4); equal prices nearest first
    assert _ours([{"id": s} for s in seen], shelves) == [shelves[i] for i in (6, 1, 3, 0, 2, 5, 4)]


def test_a_page_moves_on_when_prices_change_between_pages(
    server: LiveServer, shelves: list[int], engine: Engine
) -> None:
    query = AROUND | {"sort": "price", "grade": "92", "limit": 3}
    first = server.get("/v1/stations/nearby", **query).json()
    ours_first = _ours(first["items"], shelves)
    assert ours_first[:3] == [shelves[6], shelves[1], shelves[3]]
    price(engine, shelves[6], "8.09", "7.99", NOON - timedelta(minutes=30))  # the first item gets dearer
    wait_for_prices(server, {shelves[6]: "7.99"})
    rest = _pages_from(server, query, first["next_cursor"])
    # the pages go on after the last item shown (7.29 at 480 m); the dearer station now ranks last
    assert rest == [shelves[i] for i in (0, 2, 5, 4, 6)]


def _pages_from(server: LiveServer, query: dict[str, Any], cursor: str) -> list[int]:
    seen: list[int] = []
    while cursor:
        body = server.get("/v1/stations/nearby", **query, cursor=cursor).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
    return seen


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("/v1/stations/nearby", {"sort": "price"}, {"sort": "wait"}),
        ("/v1/stations/nearby", {"sort": "price"}, {"sort": "distance"}),
        ("/v1/stations/nearby", {"sort": "distance"}, {"sort": "price"}),
        ("/v1/prices/compare", {"sort": "price"}, {"sort": "total"}),
    ],
)
def test_a_cursor_belongs_to_its_sort(
    server: LiveServer, shelves: list[int], path: str, first: dict[str, str], second: dict[str, str]
) -> None:
    query = AROUND | {"grade": "92", "limit": 2}
    cursor = server.get(path, **query, **first).json()["next_cursor"]
    assert cursor
    refused = server.get(path, **query, **second, cursor=cursor)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("invalid-search")


def test_a_cursor_from_elsewhere_is_refused(server: LiveServer, shelves: list[int]) -> None:
    for path in ("/v1/stations/nearby", "/v1/prices/compare"):
        refused = server.get(path, **AROUND, grade="92", sort="price", cursor="cjFwAAAAAAAAAAA")
        assert refused.status_code == 400, refused.text
        assert refused.json()["type"].endswith("invalid-search")


def test_compare_items_have_the_nearby_item_shape(server: LiveServer, shelves: list[int]) -> None:
    near = server.get("/v1/stations/nearby", **AROUND, grade="92", limit=100).json()["items"]
    compared = server.get("/v1/prices/compare", **AROUND, grade="92", limit=100).json()
    assert compared["catalogue_version"] >= 1
    by_id = {i["id"]: i for i in near}
    for item in compared["items"]:
        listed = by_id[item["id"]]
        assert {k: v for k, v in item.items() if k != "price"} == listed
