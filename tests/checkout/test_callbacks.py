"""Order-core callbacks over HTTP: signatures, idempotency by event_id, and what each state gives back."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from tests.checkout.conftest import Shop
from tests.checkout.support import CALLBACK_SECRET
from tests.checkout.test_checkout_flow import state_of
from tests.support import wait_until


def post_event(
    shop: Shop,
    event: dict[str, Any],
    *,
    secret: str = CALLBACK_SECRET,
    t: int | None = None,
    signature: str | None = None,
) -> httpx.Response:
    raw = orjson.dumps(event)
    t = int(shop.stack.clock.now().timestamp()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    header = signature if signature is not None else f"t={t},v1={digest}"
    return shop.stack.main.client.post(
        "/v1/ordercore/events",
        content=raw,
        headers={"Content-Type": "application/json", "X-Ordercore-Signature": header},
    )


def paid_order(shop: Shop, points: int = 1000) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A checkout whose order was paid at the order core and whose paid callback was applied."""
    [coupon] = shop.add_driver("d1", points=points)
    quote = shop.quote("d1")
    body = shop.checkout(quote["token"], "cb-1").json()
    oid = body["order"]["order_id"]
    paid = shop.stack.core.post(
        f"/v1/orders/{oid}/pay", json={"method": "sandbox", "amount": quote["payable"]}
    )
    assert paid.status_code == 200, paid.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "paid", "the paid callback")
    return body, coupon, paid.json()


def event_for(order: dict[str, Any], event_id: str, previous: str | None) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order.state_changed",
        "order_id": order["order_id"],
        "idempotency_key": order["idempotency_key"],
        "previous_state": previous,
        "state": order["state"],
        "occurred_at": order["updated_at"],
        "order": order,
    }


def test_bad_signatures_are_refused(shop: Shop) -> None:
    body, _, order = paid_order(shop)
    event = event_for(order, "evt_forged", "created")
    for response in (
        post_event(shop, event, secret="not-the-secret"),
        post_event(shop, event, t=int(shop.stack.clock.now().timestamp()) - 301),
        post_event(shop, event, signature=""),
        post_event(shop, event, signature="t=abc,v1=00"),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["type"] == "/problems/invalid-signature"
    with shop.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM ordercore_events WHERE event_id = 'evt_forged'")).scalar()
            == 0
        )
    assert post_event(shop, {"event_id": "x"}).status_code == 400  # signed, but not an event


def test_redelivered_events_are_applied_once(shop: Shop) -> None:
    body, coupon, order = paid_order(shop)
    assert shop.points("d1") == 0 and shop.coupon(coupon)["state"] == "used"
    with shop.engine.connect() as conn:
        [paid_event] = (
            conn.execute(
                text("SELECT event_id FROM ordercore_events WHERE order_id = :o AND state = 'paid'"),
                {"o": order["order_id"]},
            )
            .scalars()
            .all()
        )
    again = post_event(shop, event_for(order, paid_event, "created"))
    assert again.status_code == 200 and again.json() == {"event_id": paid_event, "outcome": "duplicate"}
    # another delivery of "paid" under a new id changes nothing either: points are deducted once
    other = post_event(shop, event_for(order, "evt_another_paid", "created"))
    assert other.status_code == 200 and other.json()["outcome"] == "applied"
    assert shop.points("d1") == 0 and shop.coupon(coupon)["state"] == "used"
    with shop.engine.connect() as conn:
        claims = conn.execute(
            text("SELECT count(*) FROM position_claims WHERE ref = :o"), {"o": order["order_id"]}
        )
        assert claims.scalar_one() == 1


def test_refund_before_fueling_gives_coupon_and_points_back(shop: Shop) -> None:
    body, coupon, order = paid_order(shop)
    refunded = shop.stack.core.post(f"/v1/orders/{order['order_id']}/cancel", json={"reason": "driver left"})
    assert refunded.status_code == 200 and refunded.json()["state"] == "refunded", refunded.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "refunded", "the refunded callback")
    assert shop.coupon(coupon)["state"] == "available" and shop.points("d1") == 1000


def test_cancelled_order_releases_its_coupon(shop: Shop) -> None:
    [coupon] = shop.add_driver("d1")
    body = shop.checkout(shop.quote("d1")["token"], "cb-cancel").json()
    assert shop.coupon(coupon)["state"] == "reserved"
    cancelled = shop.stack.core.post(
        f"/v1/orders/{body['order']['order_id']}/cancel", json={"reason": "changed mind"}
    )
    assert cancelled.status_code == 200, cancelled.text
    wait_until(lambda: state_of(shop, body["checkout_id"]) == "cancelled", "the cancelled callback")
    assert shop.coupon(coupon)["state"] == "available"
    # the next quote uses it again
    assert shop.quote("d1")["coupon_ids"] == [coupon]
