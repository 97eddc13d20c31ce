"""Issue 9, item 3: every input class that answered 500 now gets a 4xx problem body on the live HTTP server;
a coordinate near the pole is answered (200); a coupon stored in another currency leaves the correct price,
with that coupon listed as unusable and why. (The order core's cancel with a NUL:
tests/ordercore/test_bad_input.py.)"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from access import credentials
from pricing import store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records

OPERATOR = {"Authorization": "Bearer dev-operator-token", "Content-Type": "application/json"}
NEAR = f"lat={KUNMING[1]}&lon={KUNMING[0]}"
TEMPLATE = b'{"id": "t1", "name": %s, "discount": {"kind": "amount_off", "amount": "5"}}'


def assert_problem(
    response: httpx.Response, status: int, slug: str, names: set[str] | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (
        body["status"] == status and body["type"] == f"/problems/{slug}" and body["title"] and body["detail"]
    )
    if names is not None:
        assert {e["name"] for e in body["errors"]} == names, body
    return body


SIGNED_IN_D1: dict[str, str] = {}  # replaced by a valid token of driver d1 at the server's clock
# (class, method, target, headers, body, status, slug, the parameters the problem names)
CLASSES: list[tuple[str, str, str, dict[str, str], bytes | None, int, str, set[str]]] = [
    (
        "nearby: invalid escape in a value",
        "GET",
        f"/v1/stations/nearby?{NEAR}&grade=%ff",
        {},
        None,
        400,
        "invalid-parameter",
        {"grade"},
    ),
    (
        "nearby: invalid escape in a name",
        "GET",
        f"/v1/stations/nearby?{NEAR}&%ff=1",
        {},
        None,
        400,
        "invalid-parameter",
        {"%ff"},
    ),
    (
        "nearby: truncated UTF-8 escape",
        "GET",
        f"/v1/stations/nearby?{NEAR}&grade=%e4%b8",
        {},
        None,
        400,
        "invalid-parameter",
        {"grade"},
    ),
    (
        "nearby: NUL in a value",
        "GET",
        f"/v1/stations/nearby?{NEAR}&brand=%00",
        {},
        None,
        400,
        "invalid-parameter",
        {"brand"},
    ),
    (
        "compare: invalid escape in a value",
        "GET",
        f"/v1/prices/compare?{NEAR}&grade=92&pay=%ff",
        {},
        None,
        400,
        "invalid-parameter",
        {"pay"},
    ),
    (
        "compare: invalid escape in a name",
        "GET",
        f"/v1/prices/compare?{NEAR}&grade=92&%c3%28=1",
        {},
        None,
        400,
        "invalid-parameter",
        {"%c3%28"},
    ),
    ("stats: NUL in city", "GET", "/v1/prices/stats?city=%00", {}, None, 400, "invalid-parameter", {"city"}),
    (
        "stats: encoded surrogate in province",
        "GET",
        "/v1/prices/stats?province=%ed%a0%80",
        {},
        None,
        400,
        "invalid-parameter",
        {"province"},
    ),
    (
        "path: NUL in a path segment",
        "GET",
        "/v1/checkout/chk%00x",
        SIGNED_IN_D1,
        None,
        400,
        "invalid-parameter",
        {"/v1/checkout/chk%00x"},
    ),
    (
        "operator JSON: NUL in the template name",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        TEMPLATE % b'"a\\u0000b"',
        400,
        "invalid-parameter",
        {"name"},
    ),
    (
        "operator JSON: lone surrogate in the template name",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        TEMPLATE % b'"a\\ud800b"',
        400,
        "invalid-parameter",
        {"name"},
    ),
    (
        "operator JSON: NUL in a scope list",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "discount": {"kind": "amount_off", "amount": "5"}, '
        b'"scope": {"grades": ["9\\u00002"]}}',
        400,
        "invalid-parameter",
        {"scope.grades.0"},
    ),
    (
        "operator JSON: encoded surrogate bytes",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        TEMPLATE % b'"a\xed\xa0\x80"',
        400,
        "invalid-parameter",
        {""},
    ),
    (
        "effective: NUL in a payment channel",
        "POST",
        "/v1/prices/effective",
        {"Content-Type": "application/json"},
        b'{"station_id": 1, "grade": "92", "fill": {"by_amount": "300"}, "payment_channels": ["x\\u0000"]}',
        400,
        "invalid-parameter",
        {"payment_channels.0"},
    ),
    (
        "operator: EUR template refused",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "currency": "EUR", "discount": {"kind": "amount_off", "amount": "5"}}',
        400,
        "invalid-parameter",
        {"currency"},
    ),
    (
        "operator: over-precise percent refused",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "discount": {"kind": "percent_off", "percent": "12.345"}}',
        400,
        "invalid-parameter",
        {"discount.percent_off.percent"},
    ),
    (
        "operator: over-precise amount refused",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "discount": {"kind": "amount_off", "amount": "7.775"}}',
        400,
        "invalid-parameter",
        {"discount.amount_off.amount"},
    ),
    (
        "operator: amount beyond its column refused",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "discount": {"kind": "amount_off", "amount": "1e20"}}',
        400,
        "invalid-parameter",
        {"discount.amount_off.amount"},
    ),
    (
        "operator: time outside every offset's range",
        "POST",
        "/v1/operator/coupon-templates",
        OPERATOR,
        b'{"id": "t1", "discount": {"kind": "amount_off", "amount": "5"}, '
        b'"valid_from": "0001-01-01T00:00:00+14:00"}',
        400,
        "invalid-parameter",
        {"valid_from"},
    ),
    (
        "operator: points rule beyond int4",
        "PUT",
        "/v1/operator/policy",
        OPERATOR,
        b'{"points": {"points_per_yuan": 109951162777600}}',
        400,
        "invalid-parameter",
        {"points.points_per_yuan"},
    ),
    (
        "deeply nested JSON",
        "POST",
        "/v1/prices/effective",
        {"Content-Type": "application/json"},
        b"[" * 100_000 + b"]" * 100_000,
        400,
        "invalid-parameter",
        {""},
    ),
]


@pytest.mark.parametrize(
    ("what", "method", "target", "headers", "body", "status", "slug", "names"),
    CLASSES,
    ids=[c[0] for c in CLASSES],
)
def test_every_input_class_of_the_issue_gets_a_problem(
    server: LiveServer,
    what: str,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    slug: str,
    names: set[str],
) -> None:
    if headers is SIGNED_IN_D1:
        headers = server.driver("d1")
    response = server.client.request(method, target, headers=headers, content=body)
    assert_problem(response, status, slug, names)
    with server.engine.connect() as conn:  # nothing of a refused body was stored
        assert conn.execute(text("SELECT count(*) FROM coupon_templates")).scalar_one() == 0


def test_a_point_near_the_pole_in_gcj02_is_answered(server: LiveServer) -> None:
    """The GCJ-02 inversion diverged there ('math domain error'); the point is valid, so it is a search."""
    response = server.client.get(
        "/v1/stations/nearby?open_now=false&lon=8.61870895019928e-50&lat=-89.9479161965582&coord=gcj02"
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [] and response.json()["coord"] == "gcj02"


@pytest.fixture
def eur_coupon(engine: Engine, server: LiveServer) -> tuple[int, str]:
    """A priced station (92#: 7.89 pump, 7.59 platform) and a driver holding a coupon of a template stored
    in EUR (as the operator API accepted before): (station id, coupon id)."""
    [station_id] = insert_records(engine, [station("中国石化昆明站", 0)])
    at = server.clock.now() - timedelta(hours=1)
    write_prices(
        engine,
        [
            PriceUpdate(station_id, "92", "pump", Decimal("7.89"), at, "test"),
            PriceUpdate(station_id, "92", "platform", Decimal("7.59"), at, "test"),
        ],
        now=at,
    )
    with engine.begin() as conn:
        store.put_driver(conn, "eur-driver", member_level=None, completed_orders=3, points_balance=0)
        eur = CouponTemplate(
            "eur5", AmountOff(Money.of(0, "EUR"), Money.of(5, "EUR")), Conditions(), name="€5"
        )
        store.save_template(conn, eur, create=True, currency="EUR")
        [coupon] = store.issue_coupons(conn, "eur-driver", "eur5", 1)
    server.wait_for_catalogue()
    return station_id, coupon


def _wait_for_effective(server: LiveServer, path: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        response = server.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["items"] and (body["items"][0].get("effective") or body["items"][0].get("price")):
            return body
        assert time.monotonic() < deadline, f"no price in {body}"
        time.sleep(0.05)


def test_a_coupon_in_another_currency_is_listed_unusable_and_the_price_is_right(
    server: LiveServer, eur_coupon: tuple[int, str]
) -> None:
    station_id, coupon = eur_coupon
    driver = server.driver("eur-driver")
    fill = {"station_id": station_id, "grade": "92", "fill": {"by_amount": "300.00"}}
    # 300 / 7.89 = 38.02 L; 直降 38.02 × 0.30 = 11.41; payable 288.59: what a driver without coupons pays.
    effective = server.client.post("/v1/prices/effective", json=fill, headers=driver)
    assert effective.status_code == 200, effective.text
    body = effective.json()
    assert (body["payable"], body["coupon_ids"]) == ("288.59", [])
    [unused] = body["unused_coupons"]
    assert (
        unused["instance_id"] == coupon and unused["reason"] == "other currency" and "EUR" in unused["detail"]
    )
    quote = server.client.post("/v1/quotes", json=fill, headers=driver)
    assert quote.status_code == 201, quote.text
    assert quote.json()["payable"] == "288.59"
    nearby = _wait_for_effective(server, f"/v1/stations/nearby?{NEAR}&grade=92&effective=true", driver)
    assert nearby["items"][0]["effective"]["payable"] == "288.59"
    compare = _wait_for_effective(server, f"/v1/prices/compare?{NEAR}&grade=92&amount=300", driver)
    assert compare["items"][0]["price"]["payable"] == "288.59"
    # nothing stored is lost: the operator API still shows the EUR template as it was stored
    template = server.client.get("/v1/operator/coupon-templates/eur5", headers=OPERATOR).json()
    assert (template["currency"], template["discount"]["amount"]) == ("EUR", "5.00")


@pytest.fixture
def credential(engine: Engine, server: LiveServer) -> tuple[int, dict[str, str]]:
    [station_id] = insert_records(engine, [station("中国石化昆明站", 0, positions=(("92", "95"),))])
    server.wait_for_catalogue()
    return station_id, {"Authorization": f"Bearer {credentials.issue(engine, station_id).token}"}


# Times that an offset carries out of Python's datetime range (year 0 or 10000 in UTC), or that have none.
FAR_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("when", FAR_TIMES)
def test_times_out_of_range_are_refused_and_never_poison_later_reads(
    server: LiveServer, credential: tuple[int, dict[str, str]], when: str
) -> None:
    """Found while fuzzing: such a time was stored (a station's price, an occupancy event) and every later
    read or write of that station answered 500; as a query (`as_of`) it answered 500 at once."""
    station_id, auth = credential
    price = {"prices": [{"grade": "92", "tier": "pump", "price": "7.50", "effective_from": when}]}
    posted = server.client.put(f"/v1/stations/{station_id}/prices", json=price, headers=auth)
    assert_problem(posted, 400, "invalid-parameter", {"prices.0.effective_from"})
    for path, grade in (("prices", {"grade": "92"}), ("wait", {"grade": "92"}), ("occupancy", {})):
        answer = server.client.get(f"/v1/stations/{station_id}/{path}", params={**grade, "as_of": when})
        assert_problem(answer, 400, "invalid-parameter", {"as_of"})
    event = {"station_id": station_id, "position": 1, "nozzle": 1, "state": "calling", "ts": when, "seq": 1}
    report = {"station_id": station_id, "waiting_vehicles": 2, "ts": when}
    batch = server.client.post("/v1/occupancy/events", json=[event, report], headers=auth)
    assert batch.status_code == 200, batch.text
    assert {r["code"] for r in batch.json()["rejects"]} <= {"invalid_field", "future_ts"} and batch.json()[
        "rejected"
    ] == 2
    for path in ("prices?grade=92", "wait?grade=92", "occupancy", ""):
        assert server.client.get(f"/v1/stations/{station_id}/{path}".rstrip("/")).status_code == 200


def test_a_price_time_without_an_offset_is_refused(
    server: LiveServer, credential: tuple[int, dict[str, str]]
) -> None:
    """It was compared with an aware time (TypeError, 500)."""
    station_id, auth = credential
    price = {
        "prices": [{"grade": "92", "tier": "pump", "price": "7.50", "effective_from": "2026-11-30T00:00:00"}]
    }
    posted = server.client.put(f"/v1/stations/{station_id}/prices", json=price, headers=auth)
    assert_problem(posted, 400, "invalid-parameter", {"prices.0.effective_from"})
