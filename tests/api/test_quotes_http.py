"""Effective price, signed quotes (tamper, expiry, replay, price change) and station price posts, over
HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from access import credentials
from api.settings import Settings
from pricing import quotes, store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions
from tests.api.test_nearby_features import station
from tests.support import LiveServer, insert_records

KEYS = Settings().quote_keys()


def post_prices(engine: Engine, station_id: int, pump: str, platform: str, at: datetime) -> None:
    outcomes = write_prices(
        engine,
        [
            PriceUpdate(station_id, "92", "pump", Decimal(pump), at, "test"),
            PriceUpdate(station_id, "92", "platform", Decimal(platform), at, "test"),
        ],
        now=at,
    )
    assert [o.status for o in outcomes] == ["inserted", "inserted"] or all(
        o.status != "rejected" for o in outcomes
    )


@pytest.fixture
def priced(engine: Engine, server: LiveServer) -> int:
    [station_id] = insert_records(engine, [station("中国石化昆明站", 0)])
    post_prices(engine, station_id, "7.89", "7.59", datetime.now(UTC) - timedelta(hours=1))
    with engine.begin() as conn:
        store.put_driver(conn, "d1", member_level="gold", completed_orders=3, points_balance=0)
        store.set_member_level(conn, "gold", {None: Decimal("0.10")})
        template = CouponTemplate(
            "mj200", AmountOff(Money.of("200"), Money.of("20")), Conditions(), name="满200减20"
        )
        store.save_template(conn, template, create=True)
        store.issue_coupons(conn, "d1", "mj200", 1)
    return station_id


def fill_300(station_id: int) -> dict[str, object]:
    return {"station_id": station_id, "grade": "92#", "fill": {"by_amount": "300.00"}}


def test_effective_price_without_a_driver(server: LiveServer, priced: int) -> None:
    body = server.client.post("/v1/prices/effective", json=fill_300(priced)).json()
    # 300 / 7.89 = 38.0228 -> 38.02 L; 直降 38.02 × 0.30 = 11.406 -> 11.41; 300 − 11.41 = 288.59;
    # 288.59 / 38.02 = 7.5905 -> 7.59 per litre.
    assert (body["gross"], body["litres"], body["payable"], body["effective_price_per_litre"]) == (
        "300.00",
        "38.02",
        "288.59",
        "7.59",
    )
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [("station", "11.41")]


def test_effective_price_for_a_member_with_a_coupon(server: LiveServer, priced: int) -> None:
    response = server.client.post("/v1/prices/effective", json=fill_300(priced), headers=server.driver("d1"))
    body = response.json()
    # member 38.02 × 0.10 = 3.802 -> 3.80; subtotal 288.59 − 3.80 = 284.79 ≥ 200: coupon −20 -> 264.79.
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("station", "11.41"),
        ("member", "3.80"),
        ("coupon", "20.00"),
    ]
    assert body["payable"] == "264.79" and body["coupon_ids"] and body["unused_coupons"] == []


def test_quote_is_signed_and_verifies(server: LiveServer, priced: int) -> None:
    created = server.client.post("/v1/quotes", json=fill_300(priced), headers=server.driver("d1"))
    assert created.status_code == 201
    quote = created.json()
    assert quote["payable"] == "264.79" and quote["station_id"] == priced and quote["driver_id"] == "d1"
    issued, expires = datetime.fromisoformat(quote["issued_at"]), datetime.fromisoformat(quote["expires_at"])
    assert expires - issued == timedelta(minutes=5)
    checked = server.client.post("/v1/quotes/verify", json={"token": quote["token"]}).json()
    assert checked["valid"] and not checked["used"] and checked["quote"]["payable"] == "264.79"


@pytest.mark.parametrize("where", ["payload", "signature", "key"])
def test_tampered_quote_is_refused(server: LiveServer, priced: int, where: str) -> None:
    token = server.client.post("/v1/quotes", json=fill_300(priced)).json()["token"]
    kid, body, signature = token.split(".")
    if where == "payload":  # a driver edits the payable in the payload and re-encodes it
        import base64

        import orjson

        payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["payable"] = "1.00"
        body = (
            base64.urlsafe_b64encode(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).decode().rstrip("=")
        )
    elif where == "signature":
        signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    else:
        kid = "someone-else"
    response = server.client.post("/v1/quotes/verify", json={"token": f"{kid}.{body}.{signature}"})
    assert response.status_code == 400 and response.json()["type"] == "/problems/invalid-quote"


def test_expired_quote_is_refused(server: LiveServer, priced: int) -> None:
    server.clock.set(server.clock.now())  # stopped: the quote ages only when the test moves the clock
    token = server.client.post("/v1/quotes", json=fill_300(priced)).json()["token"]
    server.clock.advance(timedelta(seconds=299))  # the quote lives 300 s (quote_ttl_seconds)
    assert server.client.post("/v1/quotes/verify", json={"token": token}).json()["valid"] is True
    server.clock.advance(timedelta(seconds=1))
    response = server.client.post("/v1/quotes/verify", json={"token": token})
    assert response.status_code == 410 and response.json()["type"] == "/problems/quote-expired"


def test_a_quote_is_used_once(server: LiveServer, priced: int, engine: Engine) -> None:
    token = server.client.post("/v1/quotes", json=fill_300(priced)).json()["token"]
    now = server.clock.now()
    with engine.begin() as conn:
        first = quotes.consume(conn, KEYS, token, "order-1", now)
    with engine.begin() as conn:  # the same order retrying is the same use
        assert quotes.consume(conn, KEYS, token, "order-1", now) == first
    with engine.begin() as conn, pytest.raises(quotes.QuoteAlreadyUsed):
        quotes.consume(conn, KEYS, token, "order-2", now)
    assert server.client.post("/v1/quotes/verify", json={"token": token}).json()["used"] is True


def test_a_price_change_does_not_change_a_valid_quote(
    server: LiveServer, priced: int, engine: Engine
) -> None:
    before = server.client.post("/v1/quotes", json=fill_300(priced)).json()
    post_prices(engine, priced, "8.09", "7.99", datetime.now(UTC))
    after = server.client.post("/v1/quotes", json=fill_300(priced)).json()
    assert after["payable"] != before["payable"] and after["pump_price"] == "8.09"
    checked = server.client.post("/v1/quotes/verify", json={"token": before["token"]}).json()
    assert checked["quote"]["payable"] == before["payable"] and checked["quote"]["pump_price"] == "7.89"


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"fill": {"by_amount": "300", "by_litres": "10"}}, "invalid-parameter"),
        ({"fill": {}}, "invalid-parameter"),
        ({"fill": {"by_amount": 300.5}}, "invalid-parameter"),
        ({"grade": "93"}, "unknown-grade"),
        ({"fill": {"fill_up": {"tank_capacity": "50", "level": "1"}}}, "invalid-parameter"),
    ],
)
def test_bad_pricing_requests(server: LiveServer, priced: int, body: dict[str, object], slug: str) -> None:
    response = server.client.post("/v1/prices/effective", json=fill_300(priced) | body)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == f"/problems/{slug}"


def test_no_price_for_the_grade_is_a_clear_422(server: LiveServer, priced: int) -> None:
    response = server.client.post("/v1/quotes", json=fill_300(priced) | {"grade": "98"})
    assert response.status_code == 422 and response.json()["type"] == "/problems/price-unavailable"


def test_stations_post_their_own_prices(server: LiveServer, priced: int, engine: Engine) -> None:
    token = credentials.issue(engine, priced).token
    [other] = insert_records(engine, [station("中国石油另一站", 500)])
    url = f"/v1/stations/{priced}/prices"
    batch = {
        "prices": [
            {"grade": "92", "tier": "pump", "price": "7.95"},
            {"grade": "92", "tier": "platform", "price": "7.65"},
            {"grade": "95", "tier": "pump", "price": "0"},
            {"grade": "95", "tier": "pump", "price": "845"},
        ]
    }
    assert server.client.put(url, json=batch).status_code == 401
    assert (
        server.client.put(url, json=batch, headers={"Authorization": "Bearer nope.nope"}).status_code == 401
    )
    foreign = server.client.put(
        f"/v1/stations/{other}/prices", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert foreign.status_code == 403
    result = server.client.put(url, json=batch, headers={"Authorization": f"Bearer {token}"}).json()
    assert (result["accepted"], result["rejected"]) == (2, 2)
    reasons = [r["reason"] for r in result["results"]]
    assert reasons[0] is None and reasons[1] is None and reasons[2] and reasons[3]
    ladder = server.get(f"/v1/stations/{priced}/prices", grade="92").json()
    assert {r["tier"]: r["price"] for r in ladder["rungs"]} == {"pump": "7.95", "platform": "7.65"}


def test_a_quote_re_signed_with_a_leaked_key_is_not_one_we_issued(
    server: LiveServer, priced: int, engine: Engine
) -> None:
    import base64
    import hashlib
    import hmac

    import orjson

    token = server.client.post("/v1/quotes", json=fill_300(priced)).json()["token"]
    kid, body, _ = token.split(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["payable"] = "0.01"
    forged_body = (
        base64.urlsafe_b64encode(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).decode().rstrip("=")
    )
    mac = hmac.new(KEYS.keys[kid], f"{kid}.{forged_body}".encode(), hashlib.sha256).digest()
    forged = f"{kid}.{forged_body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    quotes.verify(KEYS, forged, datetime.now(UTC))  # the signature alone holds: the key is known
    response = server.client.post("/v1/quotes/verify", json={"token": forged})
    assert response.status_code == 400 and response.json()["type"] == "/problems/invalid-quote"
    assert "issued" in response.json()["detail"]
    with engine.begin() as conn, pytest.raises(quotes.QuoteInvalid):
        quotes.consume(conn, KEYS, forged, "order-1", datetime.now(UTC))
    # the real quote is untouched: still valid and unused
    checked = server.client.post("/v1/quotes/verify", json={"token": token}).json()
    assert checked["valid"] and not checked["used"] and checked["quote"]["payable"] != "0.01"
