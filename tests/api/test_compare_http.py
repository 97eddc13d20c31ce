"""Price comparison over HTTP: ranking by payable and by total cost, stale prices, drivers' coupons."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pricing import store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions, Scope
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records


def price(engine: Engine, station_id: int, pump: str, platform: str, at: datetime | None = None) -> None:
    """92# prices of a station confirmed at `at` (default an hour ago: fresh by the session server's
    clock)."""
    at = at or datetime.now(UTC) - timedelta(hours=1)
    outcomes = write_prices(
        engine,
        [
            PriceUpdate(station_id, "92", "pump", Decimal(pump), at, "test"),
            PriceUpdate(station_id, "92", "platform", Decimal(platform), at, "test"),
        ],
        now=at,
    )
    assert all(o.status != "rejected" for o in outcomes), outcomes


@pytest.fixture
def town(engine: Engine, server: LiveServer) -> dict[str, int]:
    names = ["near", "cheap-far", "out-of-radius", "no-92", "stale"]
    ids = dict(
        zip(
            names,
            insert_records(
                engine,
                [
                    station("near", 100),
                    station("cheap-far", 2_000),
                    station("out-of-radius", 8_000),
                    station("no-92", 3_000, grades=("0",)),
                    station("stale", 500),
                ],
            ),
            strict=True,
        )
    )
    price(engine, ids["near"], "7.89", "7.59")
    price(engine, ids["cheap-far"], "7.89", "7.29")
    price(engine, ids["out-of-radius"], "7.69", "7.09")
    price(engine, ids["stale"], "7.89", "6.99", server.clock.now() - timedelta(days=3))
    server.wait_for_catalogue()
    # each write is its own transaction: wait until the book holds all of them, not only the first
    wait_for_prices(server, {ids["near"]: "7.59", ids["cheap-far"]: "7.29", ids["stale"]: "6.99"})
    return ids


def compare(server: LiveServer, **params: object):  # type: ignore[no-untyped-def]
    query = {"lon": KUNMING[0], "lat": KUNMING[1], "grade": "92", "radius_m": 5000, "amount": "300"} | params
    response = server.get("/v1/prices/compare", **query)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_price(server: LiveServer, station_id: int, platform: str) -> None:
    wait_for_prices(server, {station_id: platform})


def wait_for_prices(server: LiveServer, platforms: dict[int, str]) -> None:
    """Until every station's platform price shows in compare (the workers' book is refreshed by polling)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = compare(server, radius_m=50_000, include_stale=True)["items"]
        shown = {i["id"]: i["price"]["platform"] for i in items}
        if all(shown.get(station_id) == platform for station_id, platform in platforms.items()):
            return
        time.sleep(0.05)
    raise AssertionError(f"prices {platforms} never all reached the index")


def test_ranked_by_what_the_driver_pays(server: LiveServer, town: dict[str, int]) -> None:
    body = compare(server)
    assert [i["name"] for i in body["items"]] == ["cheap-far", "near"]
    assert body["stations_in_radius"] == 3  # near, cheap-far, stale offer 92 within 5 km
    for item in body["items"]:  # the vectorised ranking agrees with the engine's itemised price
        effective = server.client.post(
            "/v1/prices/effective",
            json={
                "station_id": item["id"],
                "grade": "92",
                "fill": {"by_amount": "300"},
            },
        ).json()
        assert (
            item["price"]["payable"],
            item["price"]["litres"],
            item["price"]["effective_price_per_litre"],
        ) == (
            effective["payable"],
            effective["litres"],
            effective["effective_price_per_litre"],
        )


def test_stale_prices_only_when_asked(server: LiveServer, town: dict[str, int]) -> None:
    body = compare(server, include_stale=True)
    assert [i["name"] for i in body["items"]] == ["stale", "cheap-far", "near"]
    assert body["items"][0]["price"]["stale"] is True and body["items"][1]["price"]["stale"] is False


def test_total_cost_counts_the_detour(server: LiveServer, town: dict[str, int]) -> None:
    thirsty = compare(server, sort="total", amount="100", consumption_l_per_100km="40", road_factor="2")
    assert [i["name"] for i in thirsty["items"]] == ["near", "cheap-far"]
    far = thirsty["items"][1]["price"]
    # 2 × ~2000 m × 2 × 40 L/100 km = ~3.20 L, at the station's effective ¥/L.
    litres = Decimal(far["detour_fuel_litres"])
    assert abs(litres - Decimal("3.20")) <= Decimal("0.01")
    expected = (litres * Decimal(far["effective_price_per_litre"])).quantize(Decimal("0.01"))
    assert abs(Decimal(far["detour_cost"]) - expected) <= Decimal("0.01")
    assert Decimal(far["total_cost"]) == Decimal(far["payable"]) + Decimal(far["detour_cost"])
    frugal = compare(server, sort="total", consumption_l_per_100km="5", road_factor="1.2")
    assert [i["name"] for i in frugal["items"]] == ["cheap-far", "near"]


def test_a_drivers_coupon_can_change_the_ranking(
    server: LiveServer, town: dict[str, int], engine: Engine
) -> None:
    with engine.begin() as conn:
        store.put_driver(conn, "d7", member_level=None, completed_orders=2, points_balance=0)
        only_near = Scope(stations=frozenset({str(town["near"])}))
        store.save_template(
            conn,
            CouponTemplate(
                "near-30", AmountOff(Money.of("100"), Money.of("30")), Conditions(scope=only_near)
            ),
            create=True,
        )
        store.issue_coupons(conn, "d7", "near-30", 1)
    anonymous = compare(server)
    assert [i["name"] for i in anonymous["items"]] == ["cheap-far", "near"]
    response = server.get("/v1/prices/compare", lon=KUNMING[0], lat=KUNMING[1], grade="92", amount="300")
    assert response.status_code == 200
    body = server.client.get(
        "/v1/prices/compare",
        params={
            "lon": KUNMING[0],
            "lat": KUNMING[1],
            "grade": "92",
            "amount": "300",
        },
        headers=server.driver("d7"),
    ).json()
    assert [i["name"] for i in body["items"]] == ["near", "cheap-far"]
    assert body["items"][0]["price"]["coupon_ids"] and body["items"][1]["price"]["coupon_ids"] == []
    effective = server.client.post(
        "/v1/prices/effective",
        json={
            "station_id": town["near"],
            "grade": "92",
            "fill": {"by_amount": "300"},
        },
        headers=server.driver("d7"),
    ).json()
    assert body["items"][0]["price"]["payable"] == effective["payable"]


def test_new_prices_reach_the_comparison(server: LiveServer, town: dict[str, int], engine: Engine) -> None:
    price(engine, town["near"], "7.89", "7.19", server.clock.now())
    wait_for_price(server, town["near"], "7.19")
    assert [i["name"] for i in compare(server)["items"]] == ["near", "cheap-far"]


def test_remembered_list_columns_follow_the_clock_across_the_stale_mark(
    server: LiveServer, town: dict[str, int]
) -> None:
    """Price and anonymous effective members are remembered per book while no confirmation turns stale:
    crossing the 48 h mark (forward, then back) changes them at once."""
    where = {"lon": KUNMING[0], "lat": KUNMING[1], "radius_m": 5000, "grade": "92"}

    def shown() -> dict[str, tuple[bool, str | None]]:
        body = server.get("/v1/stations/nearby", **where, prices=True, effective=True).json()
        return {
            i["name"]: (i["prices"]["92"]["stale"], i["effective"] and i["effective"]["payable"])
            for i in body["items"]
        }

    start = server.clock.now()  # "near" was confirmed an hour before the fixture's time
    server.clock.set(start + timedelta(hours=46))
    fresh = shown()
    assert fresh["near"] == (False, "288.59") and fresh["stale"] == (True, None)
    server.clock.set(start + timedelta(hours=48))
    assert shown()["near"] == (True, None)  # a stale pump price has no effective price
    server.clock.set(start + timedelta(hours=46))
    assert shown() == fresh


def test_a_comparison_without_a_fill_prices_300_yuan(server: LiveServer, town: dict[str, int]) -> None:
    given = compare(server)
    assert given["items"] and all(i["price"]["gross"] == "300.00" for i in given["items"])
    assert compare(server, amount=None)["items"] == given["items"]
    assert compare(server, amount="200")["items"][0]["price"]["gross"] == "200.00"


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"litres": "30"}, "invalid-fill"),
        ({"amount": None, "level": "0.5"}, "invalid-fill"),
        ({"grade": "93"}, "unknown-grade"),
        ({"sort": "cheapest"}, "invalid-parameter"),
        ({"amount": "-5"}, "invalid-parameter"),
    ],
)
def test_bad_comparisons(
    server: LiveServer, town: dict[str, int], params: dict[str, object], slug: str
) -> None:
    query = {"lon": KUNMING[0], "lat": KUNMING[1], "grade": "92", "amount": "300"} | params
    response = server.get("/v1/prices/compare", **query)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == f"/problems/{slug}"


def test_nearby_shows_prices_and_sorts_by_price(server: LiveServer, town: dict[str, int]) -> None:
    near = server.get(
        "/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=5000, prices=True
    ).json()
    shown = {i["name"]: i.get("prices") for i in near["items"]}
    assert shown["near"] == {"92": {"currency": "CNY", "pump": "7.89", "platform": "7.59", "stale": False}}
    assert shown["stale"]["92"]["stale"] is True and shown["no-92"] == {}
    cheapest = server.get(
        "/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], radius_m=5000, grade="92", sort="price"
    ).json()
    assert [i["name"] for i in cheapest["items"]] == ["cheap-far", "near"]  # stale left out
    # without a grade, sort=price ranks by 92# and lists no station without a fresh 92# price
    any_grade = server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], sort="price").json()
    assert [i["name"] for i in any_grade["items"]] == ["cheap-far", "near"]


def test_nearby_shows_and_sorts_by_what_this_driver_pays(
    server: LiveServer, town: dict[str, int], engine: Engine
) -> None:
    with engine.begin() as conn:
        store.put_driver(conn, "d8", member_level=None, completed_orders=2, points_balance=0)
        only_near = Scope(stations=frozenset({str(town["near"])}))
        store.save_template(
            conn,
            CouponTemplate(
                "near-40", AmountOff(Money.of("100"), Money.of("40")), Conditions(scope=only_near)
            ),
            create=True,
        )
        store.issue_coupons(conn, "d8", "near-40", 1)
    where: dict[str, str | float] = {"lon": KUNMING[0], "lat": KUNMING[1], "radius_m": 5000, "grade": "92"}
    plain = server.get("/v1/stations/nearby", **where, effective=True).json()
    by_name = {i["name"]: i["effective"] for i in plain["items"]}
    assert by_name["stale"] is None and "no-92" not in by_name  # grade=92 filters it out
    for name in ("near", "cheap-far"):
        expected = server.client.post(
            "/v1/prices/effective",
            json={
                "station_id": town[name],
                "grade": "92",
                "fill": {"by_amount": "300"},
            },
        ).json()
        assert by_name[name]["payable"] == expected["payable"]
        assert by_name[name]["effective_price_per_litre"] == expected["effective_price_per_litre"]
    ranked = server.get("/v1/stations/nearby", **where, sort="effective").json()
    assert [i["name"] for i in ranked["items"]] == ["cheap-far", "near"]
    mine = server.client.get(
        "/v1/stations/nearby", params=where | {"sort": "effective"}, headers=server.driver("d8")
    ).json()
    assert [i["name"] for i in mine["items"]] == ["near", "cheap-far"]
    litres = server.get("/v1/stations/nearby", **where, effective=True, litres="40").json()
    assert {i["effective"]["litres"] for i in litres["items"] if i["effective"]} == {"40.00"}
    # without a grade: not filtered by grade (no-92 is listed), effective prices for 92#
    any_grade = server.get("/v1/stations/nearby", lon=KUNMING[0], lat=KUNMING[1], effective=True).json()
    without = {i["name"]: i["effective"] for i in any_grade["items"]}
    assert without["no-92"] is None and without["near"] == by_name["near"]
