"""A fixed network and a few hundred seeded list queries, for tests/api/test_list_golden.py.

The network (stations with positions and nozzles, prices, drivers with a member level, coupons and
points, occupancy events) is built in the test's emptied database with ids from 1, and the server's clock
stands at NOW, so the same queries give the same bytes on every run. The only thing that differs between
databases, the catalogue version (a counter that TRUNCATE does not reset), is written as 0 before hashing.

Re-capture (only for a deliberate change, listed in golden_lists.json's "notes"):
    STATIONS_GOLDEN_WRITE=1 STATIONS_TEST_SKIP_LINT=1 bin/test tests/api/test_list_golden.py -p no:randomly
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Engine

from api.list_schemas import ComparePage
from api.schemas import NearbyPage
from geo import coords
from geo.hours import OpeningHours
from geo.records import StationRecord
from pricing import store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate, PaymentPromotion, PointsRule, StackingPolicy
from pricing.rules import AmountOff, Conditions, Scope
from tests.api.test_occupancy_http import ok, post
from tests.occupancy.support import at, event, stations_with_tokens
from tests.support import LiveServer

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
CENTRE = (102.7123, 25.0406)  # Kunming, WGS-84
BRANDS = ("sinopec", "petrochina", "shell", "private", "cnooc")
GRADE_SETS = (("92", "95", "0"), ("92", "95", "98"), ("0",), ("92",), ("95", "98"))
FORECOURT = (("92", "95"), ("92", "95", "0"), ("0",))
_VERSION = re.compile(rb'"catalogue_version":\d+')


def _hours(i: int) -> OpeningHours | None:
    if i % 5 == 0:
        return None
    if i % 5 == 1:
        return OpeningHours.from_json({"weekly": {"tue": [["00:00", "00:01"]]}})  # closed at NOW
    return OpeningHours(always_open=True)


def records(rng: random.Random) -> list[StationRecord]:
    out = []
    for i in range(60):
        dx, dy = rng.gauss(0, 3000), rng.gauss(0, 3000)
        grades = GRADE_SETS[i % len(GRADE_SETS)]
        positions = FORECOURT if i < 8 else ()
        out.append(
            StationRecord(
                name=f"站 {i + 1}",
                brand=BRANDS[rng.randrange(len(BRANDS))],
                lon=CENTRE[0] + dx / 101_000.0,
                lat=CENTRE[1] + dy / 111_000.0,
                address=f"路 {i + 1} 号",
                adcode="530102" if i % 2 else "530103",
                city="昆明市",
                opening_hours=_hours(i),
                grades=tuple(sorted({g for p in positions for g in p})) if positions else grades,
                status="temporarily_closed" if i % 13 == 12 else "open",
                positions=positions,
            )
        )
    # Two stations on one spot: ties go by id.
    out.append(StationRecord(name="同址 A", brand="sinopec", lon=CENTRE[0], lat=CENTRE[1], grades=("92",)))
    out.append(StationRecord(name="同址 B", brand="sinopec", lon=CENTRE[0], lat=CENTRE[1], grades=("92",)))
    return out


def _prices(engine: Engine, ids: list[int], rng: random.Random) -> None:
    updates = []
    for sid in ids:
        if rng.random() < 0.15:
            continue  # no price at all
        when = NOW - (timedelta(days=3) if rng.random() < 0.15 else timedelta(hours=1))
        for grade, base in (("92", 7.60), ("95", 8.10), ("98", 8.90), ("0", 7.30)):
            pump = Decimal(str(round(base + rng.randrange(0, 40) / 100, 2)))
            updates.append(PriceUpdate(sid, grade, "pump", pump, when, "golden"))
            if rng.random() < 0.8:
                cut = Decimal(rng.randrange(5, 45)) / 100
                updates.append(PriceUpdate(sid, grade, "platform", pump - cut, when, "golden"))
    write_prices(engine, updates, now=NOW)


def _drivers(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        store.set_member_level(conn, "gold", {"92": Decimal("0.10"), None: Decimal("0.05")})
        store.set_policy(conn, StackingPolicy(), PointsRule(100, Decimal("0.5")))
        store.put_driver(conn, "gold", member_level="gold", completed_orders=5, points_balance=0)
        store.put_driver(conn, "coupons", member_level="gold", completed_orders=2, points_balance=0)
        store.put_driver(conn, "points", member_level=None, completed_orders=9, points_balance=5000)
        store.put_driver(conn, "plain", member_level=None, completed_orders=0, points_balance=0)
        some = Scope(stations=frozenset({str(ids[3]), str(ids[10])}))
        store.save_template(
            conn, CouponTemplate("off-20", AmountOff(Money.of("100"), Money.of("20"))), create=True
        )
        store.save_template(
            conn,
            CouponTemplate("two-only", AmountOff(Money.of("200"), Money.of("35")), Conditions(scope=some)),
            create=True,
        )
        store.issue_coupons(conn, "coupons", "off-20", 1)
        store.issue_coupons(conn, "coupons", "two-only", 1)
        store.save_payment_promotion(
            conn,
            PaymentPromotion("wx-5", "wechat_pay", AmountOff(Money.of("100"), Money.of("5"))),
            create=True,
        )


def build(engine: Engine) -> list[tuple[int, str]]:
    """The network in the (emptied) database: (station id, credential) of each station."""
    rng = random.Random(10)
    made = stations_with_tokens(engine, records(rng))
    ids = [sid for sid, _ in made]
    _prices(engine, ids, rng)
    _drivers(engine, ids)
    return made


def post_events(server: LiveServer, made: list[tuple[int, str]]) -> None:
    """Nozzle events for four of the eight stations with a forecourt (the others never report)."""
    (a, ta), (b, tb), (c, tc), (d, td) = made[0], made[1], made[2], made[5]
    busy = ("calling", "authorized", "fueling")
    ok(post(server, ta, [*_session(a, 1, 1, 60, busy), *_session(a, 2, 1, 50, busy)]))
    ok(post(server, tb, [event(b, p, 1, "idle", 1, at(200, NOW)) for p in (1, 2, 3)]))
    ok(post(server, tc, [*_session(c, 1, 1, 300, busy, 60.0), event(c, 2, 1, "idle", 1, at(100, NOW))]))
    ok(post(server, td, [event(d, 1, 1, "offline", 1, at(900, NOW))]))


def _session(
    sid: int, position: int, seq: int, ago: float, states: tuple[str, ...], step: float = 5.0
) -> list[dict[str, Any]]:
    return [
        event(sid, position, 1, state, seq + i, at(ago - i * step, NOW)) for i, state in enumerate(states)
    ]


def _origin(rng: random.Random, system: str) -> tuple[str, str]:
    lon = CENTRE[0] + rng.gauss(0, 2000) / 101_000.0
    lat = CENTRE[1] + rng.gauss(0, 2000) / 111_000.0
    x, y = coords.from_wgs84(lon, lat, coords.CoordSystem(system))
    return f"{x:.6f}", f"{y:.6f}"


def _pick(rng: random.Random, *choices: Any) -> Any:
    return choices[rng.randrange(len(choices))]


def nearby_queries(rng: random.Random, n: int) -> list[tuple[list[tuple[str, str]], dict[str, str]]]:
    out = []
    for _ in range(n):
        system = _pick(rng, "wgs84", "wgs84", "gcj02", "bd09")
        lon, lat = _origin(rng, system)
        q = [("lat", lat), ("lon", lon)]
        if system != "wgs84" or rng.random() < 0.2:
            q.append(("coord", system))
        for name, values in (
            ("radius_m", ("300", "1500", "5000", "20000", "50000")),
            ("limit", ("1", "3", "5", "20", "100")),
            ("grade", ("92", "95", "0", "95#", "98")),
            ("brand", ("sinopec", "中国石油", "shell", "private")),
        ):
            if rng.random() < 0.5:
                q.append((name, _pick(rng, *values)))
        for flag in ("open_now", "prices"):
            if rng.random() < 0.3:
                q.append((flag, _pick(rng, "true", "1", "false")))
        if rng.random() < 0.5:
            q.append(("sort", _pick(rng, "distance", "price", "effective", "wait")))
        if rng.random() < 0.35:
            q.append(("effective", "true"))
        if rng.random() < 0.25:
            q.append(
                _pick(rng, ("amount", "200"), ("amount", "450.50"), ("litres", "30"), ("litres", "12.5"))
            )
        if rng.random() < 0.3:
            q.append(("wait", _pick(rng, "true", "false")))
        headers = {}
        if rng.random() < 0.3:
            headers["X-Driver-Id"] = _pick(rng, "gold", "coupons", "points", "plain", "nobody")
        out.append((q, headers))
    return out


def compare_queries(rng: random.Random, n: int) -> list[tuple[list[tuple[str, str]], dict[str, str]]]:
    out = []
    for _ in range(n):
        system = _pick(rng, "wgs84", "wgs84", "gcj02", "bd09")
        lon, lat = _origin(rng, system)
        q = [("lat", lat), ("lon", lon), ("grade", _pick(rng, "92", "92", "95", "0", "98"))]
        if system != "wgs84":
            q.append(("coord", system))
        fill = rng.random()
        if fill < 0.45:
            q.append(("amount", _pick(rng, "300", "150.5", "1000")))
        elif fill < 0.7:
            q.append(("litres", _pick(rng, "40", "25.5")))
        elif fill < 0.9:
            q.append(("tank_capacity", "50"))
            if rng.random() < 0.7:
                q.append(("level", _pick(rng, "0.25", "0", "0.9")))
        elif fill < 0.95:
            q += [("amount", "300"), ("litres", "40")]  # two fills: a 400
        for name, values in (
            ("radius_m", ("1000", "5000", "20000")),
            ("limit", ("1", "5", "20")),
            ("sort", ("price", "total", "wait")),
            ("consumption_l_per_100km", ("5", "12.5")),
            ("road_factor", ("1", "1.3", "2")),
        ):
            if rng.random() < 0.4:
                q.append((name, _pick(rng, *values)))
        if rng.random() < 0.3:
            q.append(("include_stale", "true"))
        if rng.random() < 0.3:
            q.append(("wait", _pick(rng, "true", "false")))
        if rng.random() < 0.3:
            q += [("pay", p) for p in _pick(rng, ["wechat_pay"], ["alipay", "wechat_pay"], ["alipay"])]
        headers = {}
        if rng.random() < 0.4:
            headers["X-Driver-Id"] = _pick(rng, "gold", "coupons", "points", "plain", "nobody")
        out.append((q, headers))
    return out


NEARBY = "/v1/stations/nearby"
COMPARE = "/v1/prices/compare"
_C = f"lat={CENTRE[1]}&lon={CENTRE[0]}"
EDGES = [  # (path, raw query, headers): duplicates, bad input, the boundaries of each parameter
    (NEARBY, f"{_C}&lat=25.05", {}),
    (NEARBY, f"{_C}&limit=1&limit=7&sort=price&grade=92", {}),
    (NEARBY, "lat=2_5&lon=102.7", {}),
    (NEARBY, "lat=nan&lon=102.7", {}),
    (NEARBY, "lat=inf&lon=1e400", {}),
    (NEARBY, "lat=%20%2025&lon=102.7", {}),
    (NEARBY, "lat=91&lon=181&radius_m=0&limit=0", {}),
    (NEARBY, "lon=102.7", {}),
    (NEARBY, f"{_C}&radius_m=50000.1&limit=101", {}),
    (NEARBY, f"{_C}&sort=nearest&open_now=maybe&prices=2", {}),
    (NEARBY, f"{_C}&wait=true", {}),
    (NEARBY, f"{_C}&effective=true", {}),
    (NEARBY, f"{_C}&effective=true&grade=92&amount=0", {}),
    (NEARBY, f"{_C}&effective=true&grade=92&amount=abc&litres=1_0", {}),
    (NEARBY, f"{_C}&sort=price", {}),
    (NEARBY, f"{_C}&grade=93", {}),
    (NEARBY, f"{_C}&coord=gcj03", {}),
    (NEARBY, f"{_C}&cursor=garbage", {}),
    (NEARBY, f"{_C}&brand=nope", {}),
    (NEARBY, f"{_C}&grade=", {}),
    (NEARBY, f"{_C}&lat=%ff", {}),
    (NEARBY, f"{_C}&brand=%00", {}),
    (NEARBY, f"{_C}&sort=effective&grade=92&amount=300&limit=4", {"X-Driver-Id": "coupons"}),
    (NEARBY, f"{_C}&effective=true&grade=92", {"X-Driver-Id": "x" * 65}),
    (COMPARE, f"{_C}", {}),
    (COMPARE, f"{_C}&grade=92", {}),
    (COMPARE, f"{_C}&grade=92&amount=300&grade=95", {}),
    (COMPARE, f"{_C}&grade=92&amount=100001", {}),
    (COMPARE, f"{_C}&grade=92&litres=0&level=1&tank_capacity=-1", {}),
    (COMPARE, f"{_C}&grade=92&level=0.5", {}),
    (COMPARE, f"{_C}&grade=92&amount=300&sort=distance&include_stale=nope", {}),
    (COMPARE, f"{_C}&grade=92&amount=300&road_factor=0.9&consumption_l_per_100km=0", {}),
    (COMPARE, f"{_C}&grade=92&amount=3_00", {}),
    (COMPARE, f"{_C}&grade=92&amount=NaN", {}),
    (COMPARE, f"{_C}&grade=92&amount=300&radius_m=10", {}),
    (COMPARE, f"{_C}&grade=92&amount=300", {"X-Driver-Id": "x" * 65}),
    (COMPARE, f"{_C}&grade=92&amount=300&pay=wechat_pay&pay=alipay", {"X-Driver-Id": "coupons"}),
    (COMPARE, f"{_C}&grade=E85&amount=300", {}),
    (COMPARE, f"{_C}&grade=92&amount=300&lat=%ff", {}),
]
Entry = tuple[str, str, dict[str, str]]


def queries() -> list[Entry]:
    rng = random.Random(2026)
    found: list[Entry] = list(EDGES)
    found += [(NEARBY, urlencode(q), h) for q, h in nearby_queries(rng, 200)]
    found += [(COMPARE, urlencode(q), h) for q, h in compare_queries(rng, 140)]
    return found


def digest(body: bytes) -> str:
    return hashlib.sha256(_VERSION.sub(b'"catalogue_version":0', body)).hexdigest()


MARKERS = {  # what the answers must show somewhere, or the golden proves little
    "wait known": re.compile(rb'"wait_minutes":\d'),
    "wait unknown": re.compile(rb'"wait_minutes":null'),
    "effective price": re.compile(rb'"effective":\{'),
    "no effective price": re.compile(rb'"effective":null'),
    "coupon used": re.compile(rb'"coupon_ids":\["'),
    "payment promotion": re.compile(rb'"payment_promotion_ids":\["'),
    "stale price": re.compile(rb'"stale":true'),
    "closed now": re.compile(rb'"open_now":false'),
    "hours unknown": re.compile(rb'"open_now":null'),
    "prices column": re.compile(rb'"prices":\{"'),
    "refused identity": re.compile(rb"invalid-driver-token"),
}


def conforms(path: str, body: bytes) -> bool:
    """The body is exactly its documented model: it validates, and nothing is left out of the model."""
    model = (NearbyPage if path == NEARBY else ComparePage).model_validate_json(body)
    return bool(model.model_dump(mode="json", exclude_unset=True) == orjson.loads(body))


def signed_in(server: LiveServer, headers: dict[str, str]) -> dict[str, str]:
    """The recorded `X-Driver-Id: <id>` as the driver is carried now: a token the gateway signed for that
    id (an id of more than 64 characters is refused as the token's `sub`)."""
    if "X-Driver-Id" not in headers:
        return headers
    return {k: v for k, v in headers.items() if k != "X-Driver-Id"} | server.driver(headers["X-Driver-Id"])


def run(server: LiveServer, entries: list[Entry], seen: set[str]) -> list[list[Any]]:
    """Each query's answer; nearby pages that have a next_cursor are followed for up to three pages.
    `seen` gets the MARKERS found in the bodies; every 200 body must conform to its model."""
    out = []
    for path, query, headers in entries:
        pending = [query]
        pages = 0
        while pending:
            raw = pending.pop()
            response = server.client.get(f"{path}?{raw}", headers=signed_in(server, headers))
            out.append([path, raw, headers, response.status_code, digest(response.content)])
            pages += 1
            seen.update(name for name, marker in MARKERS.items() if marker.search(response.content))
            if response.status_code == 200:
                assert conforms(path, response.content), (path, raw)
            cursor = response.json().get("next_cursor") if response.status_code == 200 else None
            if cursor and pages < 3 and path == NEARBY:
                pending.append(f"{query}&{urlencode({'cursor': cursor})}")
    return out
