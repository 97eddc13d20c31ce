"""Issue 11's acceptance: the mini-program's whole journey over HTTP with a brand-new driver, signed in
with the gateway's token: nearby (GCJ-02) with effective prices → detail → my coupons → a quote with a
chosen coupon and no points → checkout → wx.requestPayment parameters → pay (WeChat sandbox) → code shown →
attendant redeem → complete → invoice request → the order list shows the invoice's status. Forged,
expired and unsigned identities are refused on every driver route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from access.driver_tokens import DriverTokenKeys, mint
from geo.coords import wgs84_to_gcj02
from pricing import store
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions
from tests.checkout.conftest import KUNMING, Shop
from tests.support import TEST_DRIVER_KEYS, wait_until

OPERATOR = {"Authorization": "Bearer dev-operator-token"}
DRIVER = "wx-o6_bmjrPTlm6_2sgVt7hMZOPfL2M"  # an openid-like id the service has never seen


def my_order(shop: Shop, checkout_id: str, driver_id: str = DRIVER) -> dict[str, Any]:
    response = shop.stack.main.client.get(
        f"/v1/me/orders/{checkout_id}", headers=shop.stack.main.driver(driver_id)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_brand_new_driver_goes_from_the_map_to_the_invoice(shop: Shop) -> None:
    main, core, me = shop.stack.main.client, shop.stack.core, shop.stack.main.driver(DRIVER)
    with shop.engine.begin() as conn:
        store.save_template(
            conn,
            CouponTemplate(
                "mj500", AmountOff(Money.of("500"), Money.of("50")), Conditions(), name="满500减50"
            ),
            create=True,
        )

    # The map: nearby in GCJ-02 (the WeChat map component's system) with what this driver pays.
    lon, lat = wgs84_to_gcj02(*KUNMING)
    nearby = main.get(
        "/v1/stations/nearby",
        params={
            "lat": lat,
            "lon": lon,
            "coord": "gcj02",
            "radius_m": 1000,
            "effective": "true",
            "grade": "92",
        },
        headers=me,
    )
    assert nearby.status_code == 200, nearby.text  # a driver never seen before is a new driver, not a 404
    [item] = nearby.json()["items"]
    assert nearby.json()["coord"] == "gcj02" and item["id"] == shop.station_id
    # ¥300 at 7.89 = 38.02 L; 直降 0.30/L = 11.41: a new driver has no level, coupons or points yet.
    assert item["effective"]["payable"] == "288.59"

    detail = main.get(f"/v1/stations/{shop.station_id}", params={"coord": "gcj02"}, headers=me)
    assert detail.status_code == 200 and detail.json()["coord"] == "gcj02", detail.text

    level = main.get("/v1/me/level", headers=me).json()
    assert (level["new_driver"], level["first_order"], level["level"], level["name"]) == (
        True,
        True,
        None,
        None,
    )
    assert main.get("/v1/me/points", headers=me).json() == {
        "driver_id": DRIVER,
        "balance": 0,
        "held": 0,
        "available": 0,
    }
    assert main.get("/v1/me/coupons", headers=me).json()["items"] == []

    # The operator names the gold level and welcomes the new driver: two coupons, 1000 points, gold.
    named = {"discounts": [{"per_litre": "0.10"}], "name": "金卡会员", "name_en": "Gold member"}
    put_level = main.put("/v1/operator/member-levels/gold", json=named, headers=OPERATOR)
    assert put_level.status_code == 200 and put_level.json()["name"] == "金卡会员", put_level.text
    for template in ("mj200", "mj500"):
        issued = main.post(
            f"/v1/operator/drivers/{DRIVER}/coupons",
            json={"template_id": template, "count": 1},
            headers=OPERATOR,
        )
        assert issued.status_code == 201, issued.text
    put = main.put(
        f"/v1/operator/drivers/{DRIVER}",
        json={"member_level": "gold", "points_balance": 1000},
        headers=OPERATOR,
    )
    assert put.status_code == 200, put.text
    level = main.get("/v1/me/level", headers=me).json()
    assert (level["new_driver"], level["first_order"], level["level"], level["name"]) == (
        False,
        True,
        "gold",
        "金卡会员",  # the operator's display name, Chinese first
    )
    assert main.get("/v1/me/level", headers=me | {"Accept-Language": "en-US,en;q=0.9"}).json()["name"] == (
        "Gold member"
    )
    assert level["discounts"] == [{"grade": None, "per_litre": "0.10"}]

    # My coupons at this station for ¥300 of 92#: which applies, and why the other does not (Chinese first).
    here: dict[str, str | int] = {"station_id": shop.station_id, "grade": "92", "amount": "300"}
    coupons = main.get("/v1/me/coupons", params=here, headers=me).json()["items"]
    by_template = {c["template_id"]: c for c in coupons}
    mj200, mj500 = by_template["mj200"], by_template["mj500"]
    assert (mj200["state"], mj200["state_text"], mj200["applies"], mj200["reason"]) == (
        "available",
        "可使用",
        True,
        None,
    )
    assert (mj500["applies"], mj500["reason"], mj500["reason_text"]) == (
        False,
        "below minimum spend",
        "未达到使用门槛",
    )
    assert mj200["label"] == "满200减20"
    english = main.get("/v1/me/coupons", params=here, headers=me | {"Accept-Language": "en"}).json()["items"]
    assert {c["template_id"]: c["reason_text"] for c in english}[
        "mj500"
    ] == "the minimum spend is not reached"

    # A quote with the chosen coupon and no points (points only when asked).
    ask = {"station_id": shop.station_id, "grade": "92", "fill": {"by_amount": "300.00"}}
    quoted = main.post("/v1/quotes", json=ask | {"coupons": [mj200["id"]]}, headers=me)
    assert quoted.status_code == 201, quoted.text
    quote = quoted.json()
    # 300 − 直降 11.41 − gold 0.10/L × 38.02 = 3.80 − 满200减20 = 264.79; the 1000 points stay.
    assert (quote["payable"], quote["coupon_ids"], quote["points_used"]) == ("264.79", [mj200["id"]], 0)
    unused = {u["instance_id"]: (u["reason"], u["reason_text"]) for u in quote["unused_coupons"]}
    assert unused == {mj500["id"]: ("below minimum spend", "未达到使用门槛")}
    member = [line["description"] for line in quote["lines"] if line["kind"] == "member"]
    assert member == ["金卡会员 92# 每升立减0.10元"]  # the level's display name, never its code
    priced_en = main.post("/v1/prices/effective", json=ask, headers=me | {"Accept-Language": "en"}).json()
    assert [line["description"] for line in priced_en["lines"] if line["kind"] == "member"] == [
        "Gold member 92# 0.10 yuan/L off"
    ]
    mine = main.post("/v1/quotes/verify", json={"token": quote["token"]}, headers=me).json()
    anyone = main.post("/v1/quotes/verify", json={"token": quote["token"]}).json()
    assert (mine["quote"]["driver_id"], anyone["quote"]["driver_id"]) == (DRIVER, None)  # public: nobody's
    refused = main.post("/v1/quotes", json=ask | {"coupons": [mj500["id"]]}, headers=me)
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/coupon-not-applicable"
    none = main.post("/v1/quotes", json=ask | {"coupons": "none"}, headers=me).json()
    assert (none["payable"], none["coupon_ids"]) == ("284.79", [])
    assert {u["instance_id"]: u["reason"] for u in none["unused_coupons"]}[mj200["id"]] == "not chosen"
    with_points = main.post("/v1/quotes", json=ask | {"use_points": True}, headers=me).json()
    assert with_points["points_used"] > 0

    # Checkout: an order at the order core; no code to show before it is paid.
    created = shop.checkout(quote["token"], "journey-1", driver_id=DRIVER)
    assert created.status_code == 201, created.text
    checkout_id = created.json()["checkout_id"]
    assert created.json()["order"]["verification_code"] is None
    # A second open order for the same position and nozzle is refused.
    second = shop.checkout(none["token"], "journey-2", driver_id=DRIVER)
    assert second.status_code == 409 and second.json()["type"] == "/problems/open-order-exists", second.text
    order = my_order(shop, checkout_id)
    assert (order["state"], order["verification_code"], order["qr_payload"]) == ("ordered", None, None)

    # Payment: what wx.requestPayment takes, signed by the order core's WeChat Pay sandbox.
    params = main.post(f"/v1/me/orders/{checkout_id}/payment", headers=me)
    assert params.status_code == 200, params.text
    pay = params.json()
    assert set(pay) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert pay["signType"] == "HMAC-SHA256" and pay["package"].startswith("prepay_id=")
    wechat = str(core.base_url).rstrip("/") + "/sandbox/wxpay/pay"  # WeChat holds no service token
    tampered = httpx.post(wechat, json=pay | {"paySign": "0" * 64}, timeout=10)
    assert tampered.status_code == 422 and tampered.json()["type"].endswith("invalid-payment"), tampered.text
    assert my_order(shop, checkout_id)["state"] == "ordered"
    paid = httpx.post(wechat, json=pay, timeout=10)
    assert paid.status_code == 200 and paid.json()["state"] == "paid", paid.text
    order = wait_until(
        lambda: (o := my_order(shop, checkout_id))["state"] == "paid" and o, "the paid callback"
    )
    assert len(order["verification_code"]) == 6 and order["qr_payload"].startswith("ocv1.")
    again = main.post(f"/v1/me/orders/{checkout_id}/payment", headers=me)
    assert again.status_code == 409 and again.json()["type"] == "/problems/order-not-payable"

    # The attendant redeems the code, the pump completes the fill.
    redeemed = core.post(
        "/v1/attendant/redeem", json={"station_id": shop.station_id, "code": order["verification_code"]}
    )
    assert redeemed.status_code == 200, redeemed.text
    wait_until(lambda: my_order(shop, checkout_id)["state"] == "fueling", "the fueling callback")
    cancel = main.post(f"/v1/me/orders/{checkout_id}/cancel", json={"reason": "changed my mind"}, headers=me)
    assert cancel.status_code == 409 and cancel.json()["type"] == "/problems/order-not-cancellable"
    early = main.post(
        f"/v1/me/orders/{checkout_id}/invoice", json={"title": "个人", "email": "a@b.cn"}, headers=me
    )
    assert early.status_code == 409 and early.json()["type"] == "/problems/invoice-not-yet"
    done = core.post(f"/v1/orders/{order['order_id']}/complete", json={"litres": "38.02", "amount": "264.79"})
    assert done.status_code == 200, done.text
    order = wait_until(
        lambda: (o := my_order(shop, checkout_id))["state"] == "completed" and o, "the completed callback"
    )
    assert order["verification_code"] is None  # done: nothing left to redeem

    # The invoice request, and its status on the order list.
    invoice = {"title": "昆明某某物流有限公司", "tax_id": "91530100MA6K4ABC12", "email": "fin@example.com"}
    asked = main.post(f"/v1/me/orders/{checkout_id}/invoice", json=invoice, headers=me)
    assert asked.status_code == 201, asked.text
    assert asked.json()["invoice_request"] | {"requested_at": None} == invoice | {
        "amount": "264.79",
        "status": "requested",
        "requested_at": None,
    }
    assert main.post(f"/v1/me/orders/{checkout_id}/invoice", json=invoice, headers=me).status_code == 200
    listed = main.get("/v1/me/orders", headers=me).json()
    assert [(o["checkout_id"], o["invoice_request"]["status"]) for o in listed["items"]] == [
        (checkout_id, "requested")
    ]
    assert listed["next_cursor"] is None
    view = main.get(f"/v1/checkout/{checkout_id}", headers=me).json()
    assert view["order"]["invoice_request"]["status"] == "requested"

    # Now a known driver with one completed order; the coupon is spent, the points untouched.
    level = main.get("/v1/me/level", headers=me).json()
    assert (level["new_driver"], level["first_order"]) == (False, False)
    assert main.get("/v1/me/points", headers=me).json()["balance"] == 1000
    states = {c["template_id"]: c["state"] for c in main.get("/v1/me/coupons", headers=me).json()["items"]}
    assert states == {"mj200": "used", "mj500": "available"}
    # Another driver sees none of it.
    other = shop.stack.main.driver("wx-someone-else")
    assert main.get(f"/v1/me/orders/{checkout_id}", headers=other).status_code == 404
    assert main.get("/v1/me/orders", headers=other).json()["items"] == []


def test_my_orders_page_with_a_cursor_and_cancel(shop: Shop) -> None:
    main, me = shop.stack.main.client, shop.stack.main.driver("wx-pager")
    ask = {"station_id": shop.station_id, "grade": "92", "fill": {"by_amount": "100.00"}}
    quote = main.post("/v1/quotes", json=ask, headers=me).json()
    first_order = shop.checkout(quote["token"], "pager-1", driver_id="wx-pager")
    assert first_order.status_code == 201, first_order.text
    older = first_order.json()["checkout_id"]
    cancelled = main.post(f"/v1/me/orders/{older}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    wait_until(lambda: my_order(shop, older, "wx-pager")["state"] == "cancelled", "the cancel callback")
    # The nozzle is free again for this driver: a new order there is accepted.
    again = main.post("/v1/quotes", json=ask, headers=me).json()
    second = shop.checkout(again["token"], "pager-2", driver_id="wx-pager")
    assert second.status_code == 201, second.text
    newer = second.json()["checkout_id"]
    page = main.get("/v1/me/orders", params={"limit": 1}, headers=me).json()
    assert [o["checkout_id"] for o in page["items"]] == [newer] and page["next_cursor"]
    rest = main.get("/v1/me/orders", params={"limit": 5, "cursor": page["next_cursor"]}, headers=me).json()
    assert [(o["checkout_id"], o["state"]) for o in rest["items"]] == [(older, "cancelled")]
    assert rest["next_cursor"] is None
    bad = main.get("/v1/me/orders", params={"cursor": "garbage"}, headers=me)
    assert bad.status_code == 400 and bad.json()["type"] == "/problems/invalid-parameter"


def _routes(shop: Shop) -> list[tuple[str, str, dict[str, Any] | None]]:
    ask = {"station_id": shop.station_id, "grade": "92", "fill": {"by_amount": "300.00"}}
    some = "chk_0123456789abcdef"
    where = f"lat={KUNMING[1]}&lon={KUNMING[0]}&grade=92"
    return [
        ("GET", "/v1/me/coupons", None),
        ("GET", "/v1/me/points", None),
        ("GET", "/v1/me/level", None),
        ("GET", "/v1/me/orders", None),
        ("GET", f"/v1/me/orders/{some}", None),
        ("POST", f"/v1/me/orders/{some}/payment", None),
        ("POST", f"/v1/me/orders/{some}/cancel", {}),
        ("POST", f"/v1/me/orders/{some}/invoice", {"title": "个人", "email": "a@b.cn"}),
        ("GET", f"/v1/checkout/{some}", None),
        ("POST", "/v1/checkout", {"quote_token": "x", "position": 1, "nozzle": 1}),
        ("POST", "/v1/quotes", ask),
        ("POST", "/v1/prices/effective", ask),
        ("POST", "/v1/quotes/verify", {"token": "k1.x.y"}),
        ("GET", f"/v1/stations/nearby?{where}&effective=true", None),
        ("GET", f"/v1/prices/compare?{where}", None),
    ]


def _unsigned(driver_id: str) -> str:
    return jwt.encode({"sub": driver_id, "exp": 2**31}, None, algorithm="none")


@pytest.mark.parametrize("kind", ["forged", "expired", "unsigned", "garbage", "no sub", "too long-lived"])
def test_forged_and_expired_identities_are_refused_on_every_driver_route(shop: Shop, kind: str) -> None:
    clock = shop.stack.clock
    now = clock.now()
    token = {
        "forged": mint(DriverTokenKeys(b"not-the-gateway-key-0123456789abcdef"), "d1", now),
        "expired": mint(TEST_DRIVER_KEYS, "d1", now - timedelta(hours=2), ttl_seconds=3600),
        "unsigned": _unsigned("d1"),
        "garbage": "not-a-token",
        "no sub": jwt.encode({"exp": int(now.timestamp()) + 60}, TEST_DRIVER_KEYS.key, algorithm="HS256"),
        "too long-lived": mint(TEST_DRIVER_KEYS, "d1", now, ttl_seconds=400 * 86_400),
    }[kind]
    for method, path, body in _routes(shop):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"}
        response = shop.stack.main.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (kind, path, response.text)
        assert response.json()["type"] == "/problems/invalid-driver-token", (kind, path)


def test_the_driver_routes_need_a_driver_and_the_token_expires_with_the_clock(shop: Shop) -> None:
    main = shop.stack.main.client
    for method, path, body in _routes(shop)[:10]:
        response = main.request(method, path, json=body, headers={"Idempotency-Key": "k-1"})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["type"] == "/problems/driver-required", path
    headers = shop.stack.main.driver("wx-clock")  # valid for 6 hours of the stack's clock
    assert main.get("/v1/me/points", headers=headers).status_code == 200
    shop.stack.clock.set(shop.stack.clock.now() + timedelta(hours=6))
    late = main.get("/v1/me/points", headers=headers)
    assert late.status_code == 401 and "expired" in late.json()["detail"]
    shop.stack.clock.reset()


def test_a_paid_order_cancelled_before_fueling_is_refunded_and_gives_the_coupon_back(shop: Shop) -> None:
    main, driver = shop.stack.main.client, "wx-refund"
    me = shop.stack.main.driver(driver)
    [coupon] = shop.add_driver(driver)
    quote = shop.quote(driver, use_points=False)
    assert quote["coupon_ids"] == [coupon]
    created = shop.checkout(quote["token"], "refund-1", driver_id=driver)
    assert created.status_code == 201, created.text
    checkout_id = created.json()["checkout_id"]
    pay = main.post(f"/v1/me/orders/{checkout_id}/payment", headers=me).json()
    wechat = str(shop.stack.core.base_url).rstrip("/") + "/sandbox/wxpay/pay"
    assert httpx.post(wechat, json=pay, timeout=10).status_code == 200
    wait_until(lambda: my_order(shop, checkout_id, driver)["state"] == "paid", "the paid callback")
    assert shop.coupon(coupon)["state"] == "used"
    cancelled = main.post(f"/v1/me/orders/{checkout_id}/cancel", json={"reason": "走错站了"}, headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "refunded", cancelled.text
    order = wait_until(
        lambda: (o := my_order(shop, checkout_id, driver))["state"] == "refunded" and o, "the refund callback"
    )
    assert order["verification_code"] is None and order["cancel_reason"] == "走错站了"
    assert shop.coupon(coupon)["state"] == "available"  # refunded before fueling: the coupon is back
    again = main.post(f"/v1/me/orders/{checkout_id}/cancel", headers=me)
    assert again.status_code == 200 and again.json()["state"] == "refunded"  # nothing more to do
