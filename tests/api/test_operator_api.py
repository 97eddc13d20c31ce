"""The operator API over real HTTP and PostGIS: authentication, templates, drivers and their coupons,
member levels, payment promotions, the policy, and the 400 problems for bad bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from pricing import store
from pricing.offers import CouponState, PointsRule, StackingPolicy
from tests.support import LiveServer

AUTH = {"Authorization": "Bearer dev-operator-token"}
TEMPLATE: dict[str, Any] = {
    "id": "t-200-20",
    "name": "满200减20",
    "discount": {"kind": "amount_off", "threshold": "200", "amount": "20"},
    "scope": {"grades": ["92", "95"], "cities": ["310100"]},
    "valid_from": "2026-11-01T00:00:00+08:00",
    "valid_to": "2026-12-01T00:00:00+08:00",
    "min_spend": "100",
    "per_user_limit": 2,
}
IN_THE_WINDOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)  # of TEMPLATE: November 2026, Shanghai time
AFTER_THE_WINDOW = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai: its valid_to


def call(server: LiveServer, method: str, path: str, body: Any = None, headers: Any = AUTH) -> httpx.Response:
    return server.client.request(method, path, json=body, headers=headers)


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic ZGV2"}])
def test_operator_routes_need_the_token(server: LiveServer, headers: dict[str, str]) -> None:
    assert_problem(call(server, "GET", "/v1/operator/coupon-templates", headers=headers), 401, "unauthorized")
    # authentication comes before body validation, and nothing is written
    assert_problem(
        call(server, "POST", "/v1/operator/coupon-templates", {"x": 1}, headers), 401, "unauthorized"
    )
    assert_problem(
        call(server, "POST", "/v1/operator/coupon-templates", TEMPLATE, headers), 401, "unauthorized"
    )
    with server.engine.connect() as conn:
        assert store.templates(conn) == []


def test_template_create_read_replace(server: LiveServer) -> None:
    created = call(server, "POST", "/v1/operator/coupon-templates", TEMPLATE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["discount"] == {"kind": "amount_off", "threshold": "200.00", "amount": "20.00"}
    assert body["min_spend"] == "100.00" and body["label"] == "满200减20" and body["currency"] == "CNY"
    assert body["scope"] == {"grades": ["92", "95"], "stations": [], "brands": [], "cities": ["310100"]}
    assert datetime.fromisoformat(body["valid_from"]) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert call(server, "GET", "/v1/operator/coupon-templates/t-200-20").json() == body
    assert call(server, "GET", "/v1/operator/coupon-templates").json() == {"templates": [body]}
    assert_problem(call(server, "POST", "/v1/operator/coupon-templates", TEMPLATE), 409, "already-exists")

    update = {"discount": {"kind": "percent_off", "percent": "8.5", "cap": "12"}, "exclusive": True}
    replaced = call(server, "PUT", "/v1/operator/coupon-templates/t-200-20", update).json()
    assert replaced["discount"] == {"kind": "percent_off", "percent": "8.50", "cap": "12.00"}
    assert (
        replaced["exclusive"] is True and replaced["valid_to"] is None and replaced["per_user_limit"] is None
    )
    assert_problem(
        call(server, "PUT", "/v1/operator/coupon-templates/nope", update), 404, "coupon-template-not-found"
    )
    assert_problem(
        call(server, "GET", "/v1/operator/coupon-templates/nope"), 404, "coupon-template-not-found"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"discount": {"kind": "amount_off", "threshold": "200", "amount": 20.5}},
            "discount.amount_off.amount",
        ),
        ({"discount": {"kind": "percent_off", "percent": "100"}}, ""),
        ({"discount": {"kind": "per_litre_off", "per_litre": "-0.5"}}, ""),
        ({"discount": {"kind": "free_fuel"}}, "discount"),
        ({"valid_to": "2026-10-01T00:00:00+08:00"}, ""),
        ({"valid_from": "2026-11-01T00:00:00"}, "valid_from"),
        ({"min_spend": "abc"}, "min_spend"),
        ({"per_user_limit": -1}, "per_user_limit"),
        ({"id": "has space"}, "id"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_template_bodies_are_400_problems(server: LiveServer, change: dict[str, Any], field: str) -> None:
    problem = assert_problem(
        call(server, "POST", "/v1/operator/coupon-templates", {**TEMPLATE, **change}),
        400,
        "invalid-parameter",
    )
    names = [e["name"] for e in problem["errors"]]
    assert all(e["in"] == "body" for e in problem["errors"])
    assert any(n.startswith(field) for n in names), names
    with server.engine.connect() as conn:
        assert store.templates(conn) == []


def test_drivers_and_their_coupons(server: LiveServer) -> None:
    server.clock.set(IN_THE_WINDOW)
    assert call(server, "POST", "/v1/operator/coupon-templates", TEMPLATE).status_code == 201
    issue = {"template_id": "t-200-20", "count": 3}
    # A driver never seen before (a WeChat user who just signed in) can be given a welcome coupon.
    welcome = call(server, "POST", "/v1/operator/drivers/new-1/coupons", {**issue, "count": 1})
    assert welcome.status_code == 201, welcome.text
    new = call(server, "GET", "/v1/operator/drivers/new-1").json()
    assert (new["first_order"], new["points_balance"], len(new["coupons"])) == (True, 0, 1)
    put = call(server, "PUT", "/v1/operator/drivers/d1", {"member_level": "gold", "points_balance": 500})
    assert put.status_code == 200, put.text
    assert put.json() == {
        "id": "d1",
        "member_level": "gold",
        "first_order": True,
        "points_balance": 500,
        "coupons": [],
        "usage_counts": {},
    }
    issued = call(server, "POST", "/v1/operator/drivers/d1/coupons", issue)
    assert issued.status_code == 201, issued.text
    ids = issued.json()["coupon_ids"]
    assert len(ids) == 3
    missing = {"template_id": "nope"}
    assert_problem(
        call(server, "POST", "/v1/operator/drivers/d1/coupons", missing), 404, "coupon-template-not-found"
    )
    assert_problem(
        call(server, "POST", "/v1/operator/drivers/d1/coupons", {**issue, "count": 0}),
        400,
        "invalid-parameter",
    )
    call(server, "PUT", "/v1/operator/drivers/d1", {"member_level": "silver", "completed_orders": 4})
    with server.engine.begin() as conn:
        store.reserve(conn, "d1", ids[:1], "order-1", 600, server.clock.now())
    driver = call(server, "GET", "/v1/operator/drivers/d1").json()
    assert (driver["member_level"], driver["first_order"], driver["points_balance"]) == ("silver", False, 0)

    def states() -> list[tuple[str, str]]:
        return [
            (c["id"], c["state"]) for c in call(server, "GET", "/v1/operator/drivers/d1").json()["coupons"]
        ]

    assert states() == [(ids[0], "reserved"), (ids[1], "available"), (ids[2], "available")]
    server.clock.advance(timedelta(seconds=600))  # the hold ends
    assert states() == [(ids[0], "available"), (ids[1], "available"), (ids[2], "available")]
    server.clock.set(AFTER_THE_WINDOW)  # the template's window ends: every coupon reads expired
    assert states() == [(ids[0], "expired"), (ids[1], "expired"), (ids[2], "expired")]
    with server.engine.begin() as conn, pytest.raises(store.CouponsUnavailable):
        store.reserve(conn, "d1", ids[1:2], "order-2", 600, server.clock.now())
    assert_problem(call(server, "GET", "/v1/operator/drivers/ghost"), 404, "driver-not-found")
    assert_problem(
        call(server, "PUT", "/v1/operator/drivers/d1", {"points_balance": -1}), 400, "invalid-parameter"
    )


def test_member_levels_payment_promotions_policy(server: LiveServer) -> None:
    level = {"discounts": [{"grade": None, "per_litre": "0.1"}, {"grade": "95", "per_litre": "0.25"}]}
    assert call(server, "PUT", "/v1/operator/member-levels/gold", level).status_code == 200
    level2 = {"discounts": [{"grade": "92", "per_litre": "0.15"}]}
    assert call(server, "PUT", "/v1/operator/member-levels/gold", level2).status_code == 200  # replaces
    dup = {"discounts": [{"grade": "92", "per_litre": "0.1"}, {"grade": "92", "per_litre": "0.2"}]}
    assert_problem(call(server, "PUT", "/v1/operator/member-levels/gold", dup), 400, "invalid-parameter")
    assert_problem(call(server, "PUT", "/v1/operator/member-levels/Gold!", level), 400, "invalid-parameter")

    promo = {
        "id": "wx-5",
        "channel": "wechat_pay",
        "discount": {"kind": "amount_off", "amount": "5"},
        "min_spend": "50",
        "stacks_with_coupons": False,
    }
    created = call(server, "POST", "/v1/operator/payment-promotions", promo)
    assert created.status_code == 201, created.text
    assert created.json()["discount"] == {"kind": "amount_off", "threshold": "0.00", "amount": "5.00"}
    assert call(server, "GET", "/v1/operator/payment-promotions").json()["payment_promotions"] == [
        created.json()
    ]
    assert_problem(call(server, "POST", "/v1/operator/payment-promotions", promo), 409, "already-exists")

    policy = {
        "max_coupons": 2,
        "coupons_with_payment": False,
        "points": {"points_per_yuan": 200, "max_share": "0.3"},
    }
    put = call(server, "PUT", "/v1/operator/policy", policy)
    assert put.status_code == 200, put.text
    assert put.json()["points"] == {"points_per_yuan": 200, "max_share": "0.300"}
    bad = {"points": {"points_per_yuan": 150}}
    assert_problem(call(server, "PUT", "/v1/operator/policy", bad), 400, "invalid-parameter")
    with server.engine.connect() as conn:
        assert store.member_per_litre(conn, "92") == {("gold", "92"): D("0.150")}
        assert store.member_per_litre(conn, "95") == {}
        (wx,) = store.load_promotions(conn, server.clock.now()).payment
        assert wx.channel == "wechat_pay" and not wx.stacks_with_coupons
        assert store.load_policy(conn) == (
            StackingPolicy(max_coupons=2, coupons_with_payment=False),
            PointsRule(200, D("0.3")),
        )
    off = call(server, "PUT", "/v1/operator/policy", {"points": None})
    assert off.json()["points"] is None and call(server, "GET", "/v1/operator/policy").json() == off.json()


def test_issued_coupons_reach_the_engine(server: LiveServer) -> None:
    template = {"id": "t-5", "discount": {"kind": "amount_off", "amount": "5"}}
    assert call(server, "POST", "/v1/operator/coupon-templates", template).status_code == 201
    call(server, "PUT", "/v1/operator/drivers/d9", {})
    (cid,) = call(server, "POST", "/v1/operator/drivers/d9/coupons", {"template_id": "t-5"}).json()[
        "coupon_ids"
    ]
    with server.engine.connect() as conn:
        driver = store.load_driver_context(conn, "d9", server.clock.now())
    (coupon,) = driver.coupons
    assert (coupon.id, coupon.state, coupon.template.discount.label()) == (
        cid,
        CouponState.AVAILABLE,
        "立减5",
    )
