"""Concurrency over HTTP: 50 simultaneous checkouts spending one coupon, and one key fired 20 times."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.checkout.conftest import Shop


def fire(shop: Shop, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """Each (token, key) from its own thread and connection, released together."""

    def one(call: tuple[str, str]) -> httpx.Response:
        with httpx.Client(base_url=shop.stack.main.base_url, timeout=30) as client:
            return shop.checkout(call[0], call[1], client=client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_fifty_checkouts_spending_one_coupon_make_one_order(shop: Shop) -> None:
    [coupon] = shop.add_driver("d1")
    quotes = [shop.quote("d1") for _ in range(50)]
    assert {q["quote_id"] for q in quotes} and all(q["coupon_ids"] == [coupon] for q in quotes)
    responses = fire(shop, [(q["token"], f"coupon-race-{i}") for i, q in enumerate(quotes)])
    won = [r for r in responses if r.status_code == 201]
    lost = [r for r in responses if r.status_code != 201]
    assert len(won) == 1, [r.text for r in responses if r.status_code not in (201, 409)]
    for r in lost:
        problem: dict[str, Any] = r.json()
        assert r.status_code == 409 and problem["type"] == "/problems/coupons-unavailable", r.text
        assert problem["coupons"] == [{"id": coupon, "state": "reserved"}]
        assert f"coupon {coupon} is held by another checkout" in problem["detail"]
    winner = won[0].json()
    assert winner["order"]["coupons"] == [coupon]
    assert shop.coupon(coupon)["reservation_ref"] == winner["checkout_id"]
    # the order core holds exactly the winner's order; the losers placed none
    orders = [o for i in range(50) for o in shop.stack.orders_by_key(_checkout_id(shop, f"coupon-race-{i}"))]
    assert [o["order_id"] for o in orders] == [winner["order"]["order_id"]]


def _checkout_id(shop: Shop, key: str) -> str:
    from sqlalchemy import text

    with shop.engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM checkouts WHERE idempotency_key = :k"), {"k": key}).scalar()
    return str(found) if found else f"none-{key}"


def test_one_key_fired_twenty_times_makes_one_order(shop: Shop) -> None:
    shop.add_driver("d1")
    quote = shop.quote("d1")
    responses = fire(shop, [(quote["token"], "same-key")] * 20)
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201]), [r.text for r in responses]
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["order"]["order_id"] for r in responses}) == 1
    checkout_id = responses[0].json()["checkout_id"]
    assert len(shop.stack.orders_by_key(checkout_id)) == 1


def test_ten_checkouts_of_one_driver_at_one_nozzle_make_one_open_order(shop: Shop) -> None:
    """No coupon or points to race for: the driver's row lock alone keeps a second open order out."""
    shop.add_driver("d1", coupons=0)
    quotes = [shop.quote("d1", use_points=False) for _ in range(10)]
    responses = fire(shop, [(q["token"], f"nozzle-race-{i}") for i, q in enumerate(quotes)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["type"] == "/problems/open-order-exists", r.text
