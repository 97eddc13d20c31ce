"""Station staff roles over HTTP on the real services: each role against a route it may use and one it
may not (403 role-forbidden), and a credential of station A against station B (403 forbidden)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine

from access.credentials import issue
from tests.api.test_nearby_features import station
from tests.checkout.conftest import Shop
from tests.checkout.test_checkout_flow import state_of
from tests.support import insert_records, wait_until


def other_station(engine: Engine) -> int:
    [station_id] = insert_records(engine, [station("中国石油昆明站", 500, positions=(("92",),))])
    return station_id


def _as(shop: Shop, station_id: int, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(shop.engine, station_id, role).token}"}


def _paid_order(shop: Shop) -> tuple[str, dict[str, Any]]:
    """A checkout of the shop's station, paid at the order core: (checkout id, its order with the code)."""
    shop.add_driver("d1", points=0, coupons=0)
    quote = shop.quote("d1")
    created = shop.checkout(quote["token"], "staff-1")
    assert created.status_code == 201, created.text
    checkout_id, oid = created.json()["checkout_id"], created.json()["order"]["order_id"]
    paid = shop.stack.core.post(
        f"/v1/orders/{oid}/pay", json={"method": "sandbox", "amount": quote["payable"]}
    )
    assert paid.status_code == 200, paid.text
    wait_until(lambda: state_of(shop, checkout_id) == "paid", "the paid callback")
    shown = shop.stack.main.client.get(f"/v1/checkout/{checkout_id}", headers=shop.stack.main.driver("d1"))
    return checkout_id, {**shown.json()["order"], "payable": quote["payable"]}


def _problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"/problems/{slug}"


PRICES = {"prices": [{"grade": "92", "tier": "pump", "price": "7.99"}]}


def test_attendant_redeems_and_confirms_but_sets_no_price(shop: Shop) -> None:
    main = shop.stack.main.client
    checkout_id, order = _paid_order(shop)
    attendant = _as(shop, shop.station_id, "attendant")
    prices = main.put(f"/v1/stations/{shop.station_id}/prices", json=PRICES, headers=attendant)
    _problem(prices, 403, "role-forbidden")
    elsewhere = other_station(shop.engine)
    foreign = _as(shop, elsewhere, "attendant")
    wrong_station = main.post(
        f"/v1/stations/{shop.station_id}/redeem", json={"code": order["verification_code"]}, headers=foreign
    )
    _problem(wrong_station, 403, "forbidden")
    at_own_station_wrong_code = main.post(
        f"/v1/stations/{elsewhere}/redeem", json={"code": order["verification_code"]}, headers=foreign
    )
    _problem(at_own_station_wrong_code, 404, "checkout-not-found")  # the code is of another station
    redeemed = main.post(
        f"/v1/stations/{shop.station_id}/redeem", json={"code": order["verification_code"]}, headers=attendant
    )
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["checkout_id"] == checkout_id and redeemed.json()["state"] == "fueling"
    wait_until(lambda: state_of(shop, checkout_id) == "fueling", "the fueling callback")
    done = main.post(
        f"/v1/stations/{shop.station_id}/orders/{checkout_id}/complete",
        json={"amount": order["payable"], "litres": "38.02"},
        headers=attendant,
    )
    assert done.status_code == 200 and done.json()["state"] == "completed", done.text
    wait_until(lambda: state_of(shop, checkout_id) == "completed", "the completed callback")
    refund = main.post(
        f"/v1/stations/{shop.station_id}/orders/{checkout_id}/refund", json={"reason": "x"}, headers=attendant
    )
    _problem(refund, 403, "role-forbidden")


def test_cashier_refunds_only_at_its_station_and_redeems_nothing(shop: Shop) -> None:
    main = shop.stack.main.client
    checkout_id, order = _paid_order(shop)
    cashier = _as(shop, shop.station_id, "cashier")
    redeem = main.post(
        f"/v1/stations/{shop.station_id}/redeem", json={"code": order["verification_code"]}, headers=cashier
    )
    _problem(redeem, 403, "role-forbidden")
    _problem(
        main.put(f"/v1/stations/{shop.station_id}/prices", json=PRICES, headers=cashier),
        403,
        "role-forbidden",
    )
    elsewhere = other_station(shop.engine)
    foreign = _as(shop, elsewhere, "cashier")
    path = f"/v1/stations/{shop.station_id}/orders/{checkout_id}/refund"
    _problem(main.post(path, json={"reason": "油枪故障"}, headers=foreign), 403, "forbidden")
    other_path = f"/v1/stations/{elsewhere}/orders/{checkout_id}/refund"  # its own station, not its order
    _problem(main.post(other_path, json={"reason": "油枪故障"}, headers=foreign), 404, "checkout-not-found")
    refunded = main.post(path, json={"reason": "油枪故障"}, headers=cashier)
    assert refunded.status_code == 200 and refunded.json()["state"] == "refunded", refunded.text
    wait_until(lambda: state_of(shop, checkout_id) == "refunded", "the refunded callback")


def test_station_admin_sets_prices_but_neither_refunds_nor_redeems(shop: Shop) -> None:
    main = shop.stack.main.client
    checkout_id, order = _paid_order(shop)
    admin = _as(shop, shop.station_id, "station_admin")
    updated = main.put(f"/v1/stations/{shop.station_id}/prices", json=PRICES, headers=admin)
    assert updated.status_code == 200 and updated.json()["accepted"] == 1, updated.text
    elsewhere = other_station(shop.engine)
    _problem(main.put(f"/v1/stations/{elsewhere}/prices", json=PRICES, headers=admin), 403, "forbidden")
    refund = main.post(
        f"/v1/stations/{shop.station_id}/orders/{checkout_id}/refund", json={"reason": "x"}, headers=admin
    )
    _problem(refund, 403, "role-forbidden")
    redeem = main.post(
        f"/v1/stations/{shop.station_id}/redeem", json={"code": order["verification_code"]}, headers=admin
    )
    _problem(redeem, 403, "role-forbidden")
    assert state_of(shop, checkout_id) == "paid"
