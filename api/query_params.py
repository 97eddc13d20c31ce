"""Hand-rolled query parsing for the hot nearby route: FastAPI's per-parameter machinery cost about a
third of each request (profiled under wrk). Same rules, same problem body, documented in OpenAPI by
`openapi_parameters` below."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from geo.coords import CoordSystem
from geo.nearby import MAX_LIMIT, MAX_RADIUS_M
from httpguard.text import query_findings

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


class ParameterErrors(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid value for: " + ", ".join(e["name"] for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class NearbyParams:
    lat: float
    lon: float
    coord: CoordSystem
    radius_m: float
    limit: int
    grade: str | None
    brand: str | None
    open_now: bool
    cursor: str | None
    prices: bool
    sort: str
    effective: bool = False
    amount: Decimal | None = None
    litres: Decimal | None = None
    wait: bool = False


class _Reader:
    def __init__(self, query: Mapping[str, str]) -> None:
        self.query = query
        self.errors: list[dict[str, str]] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append({"in": "query", "name": name, "message": message})

    def number(
        self, name: str, default: float | None, low: float, high: float, low_open: bool = False
    ) -> float:
        raw = self.query.get(name)
        if raw is None:
            if default is None:
                self.fail(name, "Field required")
            return default if default is not None else 0.0
        try:
            if "_" in raw:  # Python's digit separators ("2_5") are no number in a URL
                raise ValueError(raw)
            value = float(raw)
        except ValueError:
            self.fail(name, "Input should be a valid number")
            return 0.0
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
            self.fail(name, f"Input should be {bound} and at most {high:g}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            if "_" in raw:
                raise ValueError(raw)
            value = int(raw)
        except ValueError:
            self.fail(name, "Input should be a valid integer")
            return default
        if not low <= value <= high:
            self.fail(name, f"Input should be between {low} and {high}")
        return value

    def flag(self, name: str) -> bool:
        raw = self.query.get(name)
        if raw is None:
            return False
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered not in _FALSE:
            self.fail(name, "Input should be a valid boolean")
        return False

    def text(self, name: str) -> str | None:
        raw = self.query.get(name)
        return raw if raw else None


def query_dict(raw: bytes) -> dict[str, str]:
    """The query string as a dict (last value wins), decoding only what needs decoding. A name or value
    that is not UTF-8 once percent-decoded, or holds NUL, is a ParameterErrors naming it."""
    out: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            try:
                name, value = unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")
            except UnicodeDecodeError:
                raise ParameterErrors(query_findings(part.encode("latin-1"))) from None
            if "\x00" in name or "\x00" in value:
                raise ParameterErrors(query_findings(part.encode("latin-1"))) from None
        out[name] = value
    return out


def parse_nearby(query: Mapping[str, str]) -> NearbyParams:
    read = _Reader(query)
    lat = read.number("lat", None, -90.0, 90.0)
    lon = read.number("lon", None, -180.0, 180.0)
    radius_m = read.number("radius_m", 5000.0, 0.0, MAX_RADIUS_M, low_open=True)
    limit = read.integer("limit", 20, 1, MAX_LIMIT)
    open_now = read.flag("open_now")
    prices = read.flag("prices")
    sort = query.get("sort", "distance")
    if sort not in ("distance", "price", "effective", "wait"):
        read.fail("sort", "Input should be 'distance', 'price', 'effective' or 'wait'")
    wait = sort == "wait" or ("wait" in query and read.flag("wait"))
    if wait and read.text("grade") is None:
        read.fail("grade", "the wait needs a grade")
    effective = read.flag("effective") or sort == "effective"
    amount = litres = None
    if effective:
        amount = _decimal(read, "amount", None, Decimal(0), Decimal(100_000))
        litres = _decimal(read, "litres", None, Decimal(0), Decimal(2000))
        if read.text("grade") is None:
            read.fail("grade", "effective prices need a grade")
    if read.errors:
        raise ParameterErrors(read.errors)
    coord = CoordSystem.parse(query.get("coord", "wgs84"))
    return NearbyParams(
        lat,
        lon,
        coord,
        radius_m,
        limit,
        read.text("grade"),
        read.text("brand"),
        open_now,
        read.text("cursor"),
        prices,
        sort,
        effective,
        amount,
        litres,
        wait,
    )


def _param(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


NEARBY_PARAMETERS = [
    _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude in `coord`", True),
    _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude in `coord`", True),
    _param(
        "coord",
        {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
        "coordinate system of the request and the response: wgs84 (GPS), gcj02 (Amap, Tencent, WeChat), "
        "bd09 (Baidu)",
    ),
    _param(
        "radius_m",
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_M, "default": 5000},
        "search radius, metres",
    ),
    _param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20},
        "page size; use next_cursor for more",
    ),
    _param("grade", {"type": "string"}, "only stations offering this grade (92, 95#, 0 ...)"),
    _param("brand", {"type": "string"}, "only this brand (code or Chinese name)"),
    _param("open_now", {"type": "boolean", "default": False}, "only stations open now (local time)"),
    _param("cursor", {"type": "string"}, "next_cursor of the previous page"),
    _param("prices", {"type": "boolean", "default": False}, "add each station's current prices per grade"),
    _param(
        "sort",
        {"type": "string", "enum": ["distance", "price", "effective", "wait"], "default": "distance"},
        "distance (pages with cursor); price: cheapest fresh price of `grade` first; effective: what this "
        "driver pays for the fill first; wait: shortest expected wait for `grade` first, unknown last "
        "(one page each)",
    ),
    _param(
        "wait",
        {"type": "boolean", "default": False},
        "add `wait_minutes` (expected wait for `grade`, null when unknown) and `wait_stale`",
    ),
    _param(
        "effective",
        {"type": "boolean", "default": False},
        "add what this driver (X-Driver-Id, optional) pays at each station for `grade` and the fill",
    ),
    _param("amount", {"type": "string", "format": "decimal"}, "fill for effective prices, ¥ (default 300)"),
    _param("litres", {"type": "string", "format": "decimal"}, "fill for effective prices, litres"),
]


@dataclass(frozen=True)
class CompareParams:
    lat: float
    lon: float
    coord: CoordSystem
    grade: str
    radius_m: float
    amount: Decimal | None
    litres: Decimal | None
    tank_capacity: Decimal | None
    level: Decimal | None
    sort: str
    limit: int
    include_stale: bool
    consumption_l_per_100km: Decimal
    road_factor: Decimal
    pay: tuple[str, ...]
    wait: bool = False


def _decimal(
    read: _Reader,
    name: str,
    default: Decimal | None,
    low: Decimal,
    high: Decimal,
    low_open: bool = True,
    high_open: bool = False,
) -> Decimal | None:
    raw = read.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        if "_" in raw:
            raise ArithmeticError(raw)
        value = Decimal(raw)
    except ArithmeticError:
        read.fail(name, "Input should be a valid decimal")
        return default
    if (
        not value.is_finite()
        or value < low
        or value > high
        or (low_open and value == low)
        or (high_open and value == high)
    ):
        read.fail(
            name,
            f"Input should be {'greater than' if low_open else 'at least'} {low} and "
            f"{'less than' if high_open else 'at most'} {high}",
        )
    return value


def parse_compare(query: Mapping[str, str], raw_query: bytes) -> CompareParams:
    read = _Reader(query)
    lat = read.number("lat", None, -90.0, 90.0)
    lon = read.number("lon", None, -180.0, 180.0)
    radius_m = read.number("radius_m", 5000.0, 0.0, MAX_RADIUS_M, low_open=True)
    limit = read.integer("limit", 20, 1, MAX_LIMIT)
    grade = read.text("grade")
    if grade is None:
        read.fail("grade", "Field required")
    amount = _decimal(read, "amount", None, Decimal(0), Decimal(100_000))
    litres = _decimal(read, "litres", None, Decimal(0), Decimal(2000))
    tank = _decimal(read, "tank_capacity", None, Decimal(0), Decimal(2000))
    level = _decimal(read, "level", None, Decimal(0), Decimal(1), low_open=False, high_open=True)
    consumption = _decimal(read, "consumption_l_per_100km", Decimal(8), Decimal(0), Decimal(100))
    road_factor = _decimal(read, "road_factor", Decimal("1.3"), Decimal(1), Decimal(3), low_open=False)
    include_stale = read.flag("include_stale")
    sort = query.get("sort", "price")
    if sort not in ("price", "total", "wait"):
        read.fail("sort", "Input should be 'price', 'total' or 'wait'")
    wait = sort == "wait" or ("wait" in query and read.flag("wait"))
    if read.errors:
        raise ParameterErrors(read.errors)
    pay: tuple[str, ...] = ()
    if b"pay=" in raw_query:
        pay = tuple(v for k, v in parse_qsl(raw_query.decode("latin-1")) if k == "pay")
    assert grade is not None and consumption is not None and road_factor is not None
    return CompareParams(
        lat,
        lon,
        CoordSystem.parse(query.get("coord", "wgs84")),
        grade,
        radius_m,
        amount,
        litres,
        tank,
        level,
        sort,
        limit,
        include_stale,
        consumption,
        road_factor,
        pay,
        wait,
    )


COMPARE_PARAMETERS = [
    *NEARBY_PARAMETERS[:4],
    _param("grade", {"type": "string"}, "92, 95, 0 ...", True),
    _param("amount", {"type": "string", "format": "decimal"}, "fill by amount, ¥ (0 < amount ≤ 100000)"),
    _param("litres", {"type": "string", "format": "decimal"}, "fill by litres (0 < litres ≤ 2000)"),
    _param("tank_capacity", {"type": "string", "format": "decimal"}, "fill up: tank litres"),
    _param("level", {"type": "string", "format": "decimal"}, "fill up: tank level now, 0 ≤ level < 1"),
    _param(
        "sort",
        {"type": "string", "enum": ["price", "total", "wait"], "default": "price"},
        "price: payable; total: payable + the detour's fuel; wait: shortest expected wait first, "
        "unknown last",
    ),
    _param(
        "wait",
        {"type": "boolean", "default": False},
        "add `wait_minutes` (expected wait, null when unknown) and `wait_stale`",
    ),
    NEARBY_PARAMETERS[4],
    _param("include_stale", {"type": "boolean", "default": False}, "rank stale prices too"),
    _param(
        "consumption_l_per_100km",
        {"type": "string", "format": "decimal", "default": "8"},
        "vehicle consumption, L/100 km (0 < c ≤ 100)",
    ),
    _param(
        "road_factor",
        {"type": "string", "format": "decimal", "default": "1.3"},
        "road distance / straight line (1 ≤ f ≤ 3)",
    ),
    {
        "name": "pay",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "payment channels the driver can use (repeat: pay=wechat_pay&pay=alipay)",
        "explode": True,
    },
    {
        "name": "X-Driver-Id",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 64},
        "description": "the signed-in driver, set by the mini-program gateway",
    },
]
