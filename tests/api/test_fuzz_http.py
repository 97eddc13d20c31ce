"""Fuzzing the live server (issue 9, item 3): random bytes and percent-escapes in parameter names and values
of nearby, compare and prices/stats; random coordinates in every system; random JSON texts for the operator
and pricing bodies. Whatever comes, the answer is below 500, every 4xx is a problem body, and what was
stored never makes a later read fail."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from access import credentials
from pricing import store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPERATOR = {"Authorization": "Bearer dev-operator-token"}


def answered(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (str(response.request.url)[:300], response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        body = response.json()
        assert (
            body["status"] == response.status_code
            and body["type"].startswith("/problems/")
            and body["detail"]
        )
    return response


@pytest.fixture
def town(engine: Engine, server: LiveServer) -> list[int]:
    """Three priced stations around Kunming (the first with fueling positions); driver d1 with a CNY and an
    EUR coupon."""
    ids = insert_records(
        engine,
        [
            station("A", 100, positions=(("92", "95"), ("0",))),
            station("B", 900, brand="petrochina"),
            station("C", 3_000),
        ],
    )
    at = server.clock.now() - timedelta(hours=1)
    write_prices(
        engine,
        [
            PriceUpdate(i, "92", tier, Decimal(p), at, "test")
            for i in ids
            for tier, p in (("pump", "7.89"), ("platform", "7.59"))
        ],
        now=at,
    )
    with engine.begin() as conn:
        store.put_driver(conn, "d1", member_level=None, completed_orders=0, points_balance=500)
        store.save_template(
            conn, CouponTemplate("cny", AmountOff(Money.of(100), Money.of(5)), Conditions()), create=True
        )
        eur = CouponTemplate("eur", AmountOff(Money.of(0, "EUR"), Money.of(5, "EUR")), Conditions())
        store.save_template(conn, eur, create=True, currency="EUR")
        store.issue_coupons(conn, "d1", "cny", 1)
        store.issue_coupons(conn, "d1", "eur", 1)
    server.wait_for_catalogue()
    return ids


# ---- query strings ----------------------------------------------------------------------------------------
NAMES = [
    "lat",
    "lon",
    "coord",
    "radius_m",
    "limit",
    "grade",
    "brand",
    "open_now",
    "cursor",
    "prices",
    "sort",
    "effective",
    "amount",
    "litres",
    "wait",
    "tank_capacity",
    "level",
    "include_stale",
    "pay",
    "road_factor",
    "consumption_l_per_100km",
    "city",
    "province",
    "tier",
]
BAD_ESCAPES = ["%00", "a%00b", "%ff", "%ed%a0%80", "%c3", "%e4%b8", "%c3%28", "%f0%9f%98"]  # NUL, not UTF-8
piece = st.one_of(
    st.sampled_from(BAD_ESCAPES),
    st.binary(max_size=6).map(lambda b: quote_from_bytes(b, safe="")),
    st.text(max_size=6).map(lambda t: quote(t, safe="", errors="surrogatepass")),
    st.sampled_from(
        [
            "%",
            "%f",
            "%zz",
            "%ff",
            "%00",
            "%ed%a0%80",
            "%c3",
            "%e4%b8",
            "+",
            "nan",
            "inf",
            "-inf",
            "-0",
            "1e309",
            "1e-400",
            "1_0",
            "",
            "92#",
            "95%23",
            "true",
            "gcj02",
            "bd09",
            "price",
            "wait",
            "total",
            "99999999999999999999",
            "-1",
            "0",
            "300",
            "0.001",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
)
BASES = {
    "/v1/stations/nearby": f"lat={KUNMING[1]}&lon={KUNMING[0]}&",
    "/v1/prices/stats": "",
    "/v1/prices/compare": f"lat={KUNMING[1]}&lon={KUNMING[0]}&grade=92&amount=300&",
}
OWN = {"/v1/prices/stats": ["city", "province", "tier", "include_stale"]}  # the others: NAMES


@FUZZ
@given(path=st.sampled_from(sorted(BASES)), data=st.data(), base=st.booleans(), driver=st.booleans())
def test_random_query_strings_never_fail(
    server: LiveServer, town: list[int], path: str, data: st.DataObject, base: bool, driver: bool
) -> None:
    names = st.sampled_from(OWN.get(path, NAMES))
    query = data.draw(st.lists(st.tuples(names | piece, piece), min_size=1, max_size=6))
    text = (BASES[path] if base else "") + "&".join(f"{name}={value}" for name, value in query)
    answered(server.client.get(f"{path}?{text}", headers=server.driver("d1") if driver else {}))


lons = st.floats(-180.0, 180.0) | st.sampled_from([-180.0, 180.0, 0.0, 5e-324, 8.61870895019928e-50])
lats = st.floats(-90.0, 90.0) | st.sampled_from([-90.0, 90.0, -89.9479161965582, 89.99999999, 25.0406])


@FUZZ
@given(
    lon=lons,
    lat=lats,
    system=st.sampled_from(["wgs84", "gcj02", "bd09"]),
    radius=st.floats(0.5, 50_000),
    sort=st.sampled_from(["distance", "price", "effective"]),
)
def test_random_coordinates_in_every_system_are_answered(
    server: LiveServer, town: list[int], lon: float, lat: float, system: str, radius: float, sort: str
) -> None:
    common = {
        "lon": repr(lon),
        "lat": repr(lat),
        "coord": system,
        "radius_m": repr(radius),
        "grade": "92",
        "amount": "300",
    }
    nearby = server.client.get(
        "/v1/stations/nearby",
        params={**common, "sort": sort, "prices": "true"},
        headers=server.driver("d1"),
    )
    assert nearby.status_code == 200, nearby.text
    compare = server.client.get("/v1/prices/compare", params=common, headers=server.driver("d1"))
    assert compare.status_code == 200, compare.text


# ---- JSON bodies ------------------------------------------------------------------------------------------
tricky_text = st.text(st.sampled_from(list('a9.-:#_ [{"\\\x00\ud800é😀')), max_size=10)
decimals = st.sampled_from(
    [
        "1e20",
        "12.345",
        "7.775",
        "-0",
        "0",
        "NaN",
        "Infinity",
        "0.001",
        "1E-2",
        "99999999999.99",
        "100",
        "0.5",
        "1.5",
        " 5",
        "5_0",
    ]
)
times = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-11-01T00:00:00",
        "2026-11-01T00:00:00+08:00",
        "1899-12-31T23:59:59Z",
        "not a time",
        "2026-02-30T00:00:00Z",
    ]
)
unstorable = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy"])  # NUL, lone surrogates
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | tricky_text
    | decimals
    | times
    | unstorable
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=12,
)
TEMPLATE: dict[str, Any] = {
    "id": "t1",
    "name": "满200减20",
    "currency": "CNY",
    "discount": {"kind": "amount_off", "threshold": "200", "amount": "20"},
    "scope": {"grades": ["92"], "stations": [], "brands": [], "cities": ["530102"]},
    "valid_from": "2026-11-01T00:00:00+08:00",
    "valid_to": "2026-12-01T00:00:00+08:00",
    "min_spend": "100",
    "first_order_only": False,
    "per_user_limit": 2,
    "exclusive": False,
    "stacks_with_payment": True,
}
PERCENT = {**TEMPLATE, "id": "t2", "discount": {"kind": "percent_off", "percent": "10", "cap": "30"}}
PER_LITRE = {
    **TEMPLATE,
    "id": "t3",
    "discount": {"kind": "per_litre_off", "per_litre": "0.2", "litre_cap": "50"},
}
PAYMENT = {**TEMPLATE, "id": "p1", "channel": "wechat_pay", "stacks_with_coupons": True}
del PAYMENT["exclusive"], PAYMENT["stacks_with_payment"]
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/operator/coupon-templates", TEMPLATE),
    ("POST", "/v1/operator/coupon-templates", PERCENT),
    ("PUT", "/v1/operator/coupon-templates/t3", {k: v for k, v in PER_LITRE.items() if k != "id"}),
    ("POST", "/v1/operator/payment-promotions", PAYMENT),
    (
        "PUT",
        "/v1/operator/drivers/d1",
        {"member_level": "gold", "completed_orders": 3, "points_balance": 100},
    ),
    (
        "POST",
        "/v1/operator/drivers/d1/coupons",
        {"template_id": "cny", "count": 1, "expires_at": "2027-01-01T00:00:00Z"},
    ),
    ("PUT", "/v1/operator/member-levels/gold", {"discounts": [{"grade": "92", "per_litre": "0.10"}]}),
    (
        "PUT",
        "/v1/operator/policy",
        {
            "max_coupons": 1,
            "max_payment_promotions": 1,
            "coupons_with_payment": True,
            "station_discount": True,
            "member_discount": True,
            "points": {"points_per_yuan": 100, "max_share": "0.5"},
        },
    ),
    (
        "POST",
        "/v1/prices/effective",
        {
            "station_id": 1,
            "grade": "92",
            "fill": {"by_amount": "300"},
            "payment_channels": ["wechat_pay"],
            "use_points": True,
        },
    ),
    (
        "POST",
        "/v1/quotes",
        {"station_id": 1, "grade": "92", "fill": {"fill_up": {"tank_capacity": "50", "level": "0.2"}}},
    ),
    ("POST", "/v1/quotes/verify", {"token": "v1.x.y"}),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def bodies(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """A valid body mutated (see `mutated`), or any JSON text, or raw bytes."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "any", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    return json.dumps(draw(mutated(valid) if kind == "mutated" else json_values)).encode()


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """The valid value with one text replaced by tricky text, or one value replaced by any JSON value, or a
    key added or dropped."""
    kind = draw(st.sampled_from(["text", "text", "replace", "replace", "add", "drop"]))
    body = json.loads(json.dumps(valid))
    paths = _paths(body)[1:]
    if kind == "text":
        paths = [p for p in paths if isinstance(_at(body, p), str)]
    path = draw(st.sampled_from(paths))
    parent = _at(body, path[:-1])
    if kind == "text":
        parent[path[-1]] = draw(unstorable | tricky_text)
    elif kind == "replace":
        parent[path[-1]] = draw(json_values)
    elif kind == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(tricky_text)] = draw(json_values)
    return body


@FUZZ
@given(data=st.data())
def test_random_json_bodies_never_fail_and_never_poison_reads(
    server: LiveServer, town: list[int], data: st.DataObject
) -> None:
    method, path, valid = data.draw(st.sampled_from(ROUTES))
    valid = {**valid, "station_id": town[0]} if "station_id" in valid else valid
    body = data.draw(bodies(valid))
    media = data.draw(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])
    )
    credential = OPERATOR if path.startswith("/v1/operator/") else server.driver("d1")
    headers = credential | ({"Content-Type": media} if media else {})
    answered(server.client.request(method, path, content=body, headers=headers))
    for read in (
        "/v1/operator/coupon-templates",
        "/v1/operator/payment-promotions",
        "/v1/operator/policy",
        "/v1/operator/drivers/d1",
    ):
        assert answered(server.client.get(read, headers=OPERATOR)).status_code == 200
    priced = server.client.post(
        "/v1/prices/effective",
        headers=server.driver("d1"),
        json={"station_id": town[0], "grade": "92", "fill": {"by_amount": "300"}},
    )
    assert answered(priced).status_code == 200


@pytest.fixture
def token(engine: Engine, town: list[int]) -> str:
    """A credential of the first station (one for every example: the fixture runs once per test)."""
    return credentials.issue(engine, town[0]).token


@FUZZ
@given(data=st.data())
def test_random_occupancy_batches_never_fail_and_never_poison_reads(
    server: LiveServer, town: list[int], token: str, data: st.DataObject
) -> None:
    station_id = town[0]
    event = {
        "station_id": station_id,
        "position": 1,
        "nozzle": 1,
        "state": "calling",
        "seq": 1,
        "ts": (server.clock.now() - timedelta(minutes=1)).isoformat(),
    }
    report = {"station_id": station_id, "waiting_vehicles": 2, "ts": event["ts"]}
    items = [
        data.draw(mutated(data.draw(st.sampled_from([event, report]))) | json_values)
        for _ in range(data.draw(st.integers(1, 3)))
    ]
    ndjson = data.draw(st.booleans())
    content = b"\n".join(json.dumps(i).encode() for i in items) if ndjson else json.dumps(items).encode()
    media = "application/x-ndjson" if ndjson else "application/json"
    answered(
        server.client.post(
            "/v1/occupancy/events",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Content-Type": media},
        )
    )
    for path in (
        f"/v1/stations/{station_id}/occupancy",
        f"/v1/stations/{station_id}/wait?grade=92",
        f"/v1/stations/{station_id}?grade=92",
    ):
        assert answered(server.client.get(path)).status_code == 200
