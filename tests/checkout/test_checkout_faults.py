"""The order core stopped, slow past the client's timeout, failing with 500s, and answering after the
client gave up; the breaker. Afterwards every order is present once (live for a checkout that answered
201, cancelled otherwise) or absent, no coupon is held past its hold time, and the driver always got a
201 or a problem that says what happened (503 with Retry-After).

"Slow" is a hold (the order core answers when the test clears the faults), never a delay racing the
client's timeout; the breaker's cool-down passes on the stack's clock, not by waiting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from checkout.breaker import BreakerState, CircuitBreaker
from tests.checkout.conftest import Shop
from tests.checkout.support import BREAKER_COOLDOWN_S
from tests.support import wait_until


def unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) >= 1
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/order-core-unavailable"
    assert "No order was placed and no coupon was spent" in body["detail"]
    return body


def assert_consistent(shop: Shop) -> None:
    """Every checkout's order: one live order when the checkout has one, otherwise none or a cancelled
    one; no coupon reserved past its hold; a coupon is used only by a paid checkout."""
    now = shop.stack.clock.now()
    with shop.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, state, order_id FROM checkouts")).mappings().all()
        stuck = conn.execute(
            text("SELECT count(*) FROM coupon_instances WHERE state = 'reserved' AND reserved_until <= :now"),
            {"now": now},
        ).scalar_one()
        held = conn.execute(
            text(
                "SELECT i.id, c.state FROM coupon_instances i JOIN checkouts c ON c.id = i.reservation_ref "
                "WHERE i.state = 'reserved'"
            )
        ).all()
    assert stuck == 0
    assert all(state in ("pending", "ordered") for _, state in held), held
    for row in rows:
        orders = shop.stack.orders_by_key(row["id"])
        assert len(orders) <= 1
        if row["state"] in ("ordered", "paid", "fueling", "completed"):
            assert [o["order_id"] for o in orders] == [row["order_id"]]
        else:
            assert all(o["state"] == "cancelled" for o in orders), (row, orders)


def test_order_core_stopped_then_back(shop: Shop) -> None:
    [coupon] = shop.add_driver("d1")
    quote = shop.quote("d1")
    shop.stack.core_server.stop()
    try:
        body = unavailable(shop.checkout(quote["token"], "down-1"))
        assert "unreachable" in body["detail"]
        assert shop.coupon(coupon)["state"] == "available"
        verify = shop.stack.main.client.post("/v1/quotes/verify", json={"token": quote["token"]}).json()
        assert verify["used"] is False  # given back: the same quote can be retried
    finally:
        shop.stack.core_server.start()
    again = shop.checkout(quote["token"], "down-1")
    assert again.status_code == 201, again.text
    assert shop.coupon(coupon)["state"] == "reserved"
    assert_consistent(shop)


def test_failing_with_500s_then_retry(shop: Shop) -> None:
    [coupon] = shop.add_driver("d1")
    quote = shop.quote("d1")
    shop.stack.set_faults(fail_status=500, fail_count=-1)
    body = unavailable(shop.checkout(quote["token"], "f500"))
    assert "answered 500 after 2 attempt(s)" in body["detail"]
    assert shop.coupon(coupon)["state"] == "available"
    shop.stack.clear_faults()
    again = shop.checkout(quote["token"], "f500")
    assert again.status_code == 201, again.text
    assert_consistent(shop)


def test_one_500_is_retried_on_the_same_key(shop: Shop) -> None:
    shop.add_driver("d1")
    quote = shop.quote("d1")
    shop.stack.set_faults(fail_status=503, fail_count=1)
    created = shop.checkout(quote["token"], "once")
    assert created.status_code == 201, created.text
    assert len(shop.stack.orders_by_key(created.json()["checkout_id"])) == 1


def test_answer_after_the_client_gave_up_finds_the_order(shop: Shop) -> None:
    """The order is committed, then the answer is lost (500) or comes after the timeout, on every
    attempt: checkout asks the order core by key and answers with that order."""
    for key, driver, faults in (  # two drivers: one driver's second open order at a nozzle is refused
        ("after-500", "d1", {"fail_status": 500, "fail_count": -1}),
        ("after-slow", "d2", {"hold": True}),
    ):
        shop.add_driver(driver)
        quote = shop.quote(driver)
        shop.stack.set_faults(fail_after_commit=True, **faults)
        created = shop.checkout(quote["token"], key, driver_id=driver)
        shop.stack.clear_faults()
        assert created.status_code == 201, created.text
        body = created.json()
        assert [o["order_id"] for o in shop.stack.orders_by_key(body["checkout_id"])] == [
            body["order"]["order_id"]
        ]
    assert_consistent(shop)


def test_slow_past_the_timeout_late_order_is_cancelled(shop: Shop) -> None:
    """The core holds each create past both attempts' timeouts, and creates the order only after the client
    gave up and asked by key (none yet): the driver got a 503, the late order is cancelled (by the creation
    callback or the sweeper), the coupon is back."""
    [coupon] = shop.add_driver("d1")
    quote = shop.quote("d1")
    shop.stack.set_faults(hold=True)
    body = unavailable(shop.checkout(quote["token"], "slow"))
    checkout_id = shop.checkout_row_by_key("slow")["id"]
    assert shop.stack.orders_by_key(checkout_id) == []  # held: nothing stored yet
    shop.stack.clear_faults()  # the held creates go on: the order appears after the client gave up
    assert "did not answer in time" in body["detail"]
    orders = wait_until(lambda: shop.stack.orders_by_key(checkout_id), "the late order", timeout=10)
    wait_until(lambda: shop.stack.orders_by_key(checkout_id)[0]["state"] == "cancelled", "its cancellation")
    wait_until(lambda: shop.checkout_row(checkout_id)["state"] == "cancelled", "the checkout cancelled")
    assert len(orders) == 1 and shop.coupon(coupon)["state"] == "available"
    retry = shop.checkout(quote["token"], "slow")
    assert retry.status_code == 409 and retry.json()["type"] == "/problems/checkout-cancelled"
    fresh = shop.checkout(shop.quote("d1")["token"], "slow-2")
    assert fresh.status_code == 201, fresh.text
    assert_consistent(shop)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state


def test_breaker_opens_fails_fast_and_recovers(shop: Shop) -> None:
    shop.stack.clock.set(shop.stack.clock.now())  # stopped: only the test moves the cool-down on
    shop.add_driver("d1", coupons=0)
    breaker = shop.stack.service.client.breaker
    shop.stack.set_faults(fail_status=500, fail_count=-1)
    tokens = [shop.quote("d1")["token"] for _ in range(3)]
    for i in range(2):  # 2 checkouts x 2 attempts = the threshold of 4 failed attempts
        unavailable(shop.checkout(tokens[i], f"brk-{i}"))
    assert state_of(breaker) is BreakerState.OPEN
    fast = unavailable(shop.checkout(tokens[2], "brk-2"))
    assert "failed repeatedly; not calling it" in fast["detail"]
    assert shop.stack.orders_by_key(shop.checkout_row_by_key("brk-2")["id"]) == []
    shop.stack.clear_faults()
    shop.stack.clock.advance(timedelta(seconds=BREAKER_COOLDOWN_S - 1))
    assert state_of(breaker) is BreakerState.OPEN
    unavailable(shop.checkout(tokens[2], "brk-2"))  # still refused without calling the core
    assert shop.stack.orders_by_key(shop.checkout_row_by_key("brk-2")["id"]) == []
    shop.stack.clock.advance(timedelta(seconds=1))  # the cool-down is over: one probe goes through
    assert state_of(breaker) is BreakerState.HALF_OPEN
    recovered = shop.checkout(tokens[2], "brk-2")
    assert recovered.status_code == 201, recovered.text
    assert recovered.json()["state"] == "ordered" and state_of(breaker) is BreakerState.CLOSED
    assert_consistent(shop)


def test_held_coupon_is_released_at_its_hold_time(shop: Shop) -> None:
    """An order nobody pays: its coupon hold runs out (here: moved into the past, while the order is still
    live) and the sweeper puts the row back to available."""
    [coupon] = shop.add_driver("d1")
    created = shop.checkout(shop.quote("d1")["token"], "held")
    assert created.status_code == 201 and shop.coupon(coupon)["state"] == "reserved"
    with shop.engine.begin() as conn:
        conn.execute(
            text("UPDATE coupon_instances SET reserved_until = :t WHERE id = :i"),
            {"t": shop.stack.clock.now() - timedelta(seconds=1), "i": int(coupon)},
        )
    wait_until(lambda: shop.coupon(coupon)["state"] == "available", "the sweeper")
    assert_consistent(shop)
