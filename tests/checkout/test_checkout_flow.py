"""The whole flow over HTTP on the real services: nearby → quote → checkout → pay → redeem → complete →
invoice request, amounts equal to the quote, the coupon used once; and what checkout refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from access.credentials import issue
from tests.checkout.conftest import KUNMING, Shop
from tests.support import wait_until


def state_of(shop: Shop, checkout_id: str, driver_id: str = "d1") -> str:
    response = shop.stack.main.client.get(
        f"/v1/checkout/{checkout_id}", headers=shop.stack.main.driver(driver_id)
    )
    assert response.status_code == 200, response.text
    state: str = response.json()["state"]
    return state


def test_nearby_quote_checkout_pay_redeem_complete_invoice(shop: Shop) -> None:
    main, core = shop.stack.main.client, shop.stack.core
    [coupon] = shop.add_driver("d1", points=1000)
    nearby = main.get("/v1/stations/nearby", params={"lat": KUNMING[1], "lon": KUNMING[0], "radius_m": 1000})
    assert [s["id"] for s in nearby.json()["items"]] == [shop.station_id]
    quote = shop.quote("d1")
    # 300 at 7.89 = 38.02 L; 直降 11.41, member 3.80, coupon 20.00, points 1000 = 10.00 -> 254.79
    assert (quote["gross"], quote["payable"], quote["coupon_ids"], quote["points_used"]) == (
        "300.00",
        "254.79",
        [coupon],
        1000,
    )

    created = shop.checkout(quote["token"], "e2e-1")
    assert created.status_code == 201, created.text
    body = created.json()
    order = body["order"]
    assert body["state"] == "ordered" and order["state"] == "created"
    assert (order["payable"], order["list_amount"], order["litres"], order["currency"]) == (
        "254.79",
        "300.00",
        "38.02",
        "CNY",
    )
    assert (order["station_id"], order["position"], order["nozzle"], order["grade"]) == (
        shop.station_id,
        1,
        1,
        "92",
    )
    assert order["coupons"] == [coupon] and order["points_used"] == 1000
    # Unpaid: nothing to show the attendant yet.
    assert order["verification_code"] is None and order["qr_payload"] is None
    assert order["idempotency_key"] == body["checkout_id"]
    assert (
        shop.coupon(coupon)["state"] == "reserved"
        and shop.coupon(coupon)["reservation_ref"] == body["checkout_id"]
    )

    again = shop.checkout(quote["token"], "e2e-1")
    assert again.status_code == 200 and again.json()["order"]["order_id"] == order["order_id"]
    other_key = shop.checkout(quote["token"], "e2e-2")
    assert other_key.status_code == 409 and other_key.json()["type"] == "/problems/quote-already-used"

    oid = order["order_id"]
    paid = core.post(f"/v1/orders/{oid}/pay", json={"method": "sandbox", "amount": quote["payable"]})
    assert paid.status_code == 200, paid.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "paid", "the paid callback")
    shown = main.get(f"/v1/checkout/{body['checkout_id']}", headers=shop.stack.main.driver("d1")).json()
    order = shown["order"]
    assert len(order["verification_code"]) == 6 and order["qr_payload"].startswith("ocv1.")
    used = shop.coupon(coupon)
    assert used["state"] == "used" and used["used_at"] is not None and shop.points("d1") == 0
    with shop.engine.connect() as conn:
        claims = conn.execute(
            text("SELECT station_id, position FROM position_claims WHERE ref = :o"), {"o": oid}
        ).all()
    assert [tuple(c) for c in claims] == [(shop.station_id, 1)]

    redeemed = core.post(
        "/v1/attendant/redeem", json={"station_id": shop.station_id, "code": order["verification_code"]}
    )
    assert redeemed.status_code == 200 and redeemed.json()["state"] == "fueling", redeemed.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "fueling", "the fueling callback")
    done = core.post(f"/v1/orders/{oid}/complete", json={"litres": "38.02", "amount": quote["payable"]})
    assert done.status_code == 200 and done.json()["state"] == "completed", done.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "completed", "the completed callback")
    invoice = core.post(
        f"/v1/orders/{oid}/invoice-request", json={"title": "个人", "email": "d1@example.com"}
    )
    assert invoice.status_code == 201 and invoice.json()["invoice_request"]["amount"] == quote["payable"]

    [at_core] = shop.stack.orders_by_key(body["checkout_id"])
    assert at_core["state"] == "completed" and at_core["payable"] == quote["payable"]
    assert shop.coupon(coupon)["state"] == "used" and shop.points("d1") == 0
    with shop.engine.connect() as conn:
        assert conn.execute(text("SELECT completed_orders FROM drivers WHERE id = 'd1'")).scalar_one() == 4
    final = shop.checkout(quote["token"], "e2e-1")
    assert final.status_code == 200 and final.json()["state"] == "completed"


def problem_of(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}" and body["detail"]
    return body


def test_checkout_refuses_what_it_cannot_honour(shop: Shop) -> None:
    shop.add_driver("d1")
    shop.add_driver("d2", coupons=0)
    token = shop.quote("d1")["token"]
    problem_of(shop.checkout(token, None), 400, "invalid-idempotency-key")
    problem_of(shop.checkout(token, "bad key!"), 400, "invalid-idempotency-key")
    problem_of(shop.checkout(token, "k1", driver_id="d2"), 403, "quote-not-yours")
    problem_of(shop.checkout(token, "k1", position=2, nozzle=1), 422, "nozzle-grade-mismatch")
    problem_of(shop.checkout(token, "k1", position=1, nozzle=9), 422, "unknown-nozzle")
    problem_of(shop.checkout(token, "k1", position=7, nozzle=1), 422, "unknown-nozzle")
    problem_of(shop.checkout(token[:-3] + "AAA", "k1"), 400, "invalid-quote")
    with shop.engine.begin() as conn:
        conn.execute(
            text("UPDATE stations SET status = 'temporarily_closed' WHERE id = :s"), {"s": shop.station_id}
        )
    problem_of(shop.checkout(token, "k1"), 409, "station-closed")
    with shop.engine.begin() as conn:
        conn.execute(text("UPDATE stations SET status = 'open' WHERE id = :s"), {"s": shop.station_id})
    # nothing above reserved anything: the quote still checks out, once
    first = shop.checkout(token, "k1")
    assert first.status_code == 201, first.text
    problem_of(shop.checkout(token, "k1", nozzle=2), 409, "idempotency-conflict")
    assert shop.checkout(token, "k1").json()["order"]["order_id"] == first.json()["order"]["order_id"]


def test_offline_nozzle_is_refused(shop: Shop) -> None:
    """The station's controller reported nozzle 1 of position 1 offline: checkout sends the driver to
    another nozzle (the worker's occupancy book); nozzle 2 of position 1 (95) is not refused for that."""
    shop.add_driver("d1")
    token = issue(shop.engine, shop.station_id).token
    ts = (shop.stack.clock.now() - timedelta(seconds=5)).isoformat()
    event = {
        "station_id": shop.station_id,
        "position": 1,
        "nozzle": 1,
        "seq": 1,
        "state": "offline",
        "ts": ts,
    }
    posted = shop.stack.main.client.post(
        "/v1/occupancy/events", json=[event], headers={"Authorization": f"Bearer {token}"}
    )
    assert posted.status_code == 200 and posted.json()["accepted"] == 1, posted.text
    quote = shop.quote("d1")
    problem_of(shop.checkout(quote["token"], "k-off"), 409, "nozzle-offline")
    problem_of(shop.checkout(quote["token"], "k-off", nozzle=2), 422, "nozzle-grade-mismatch")
