"""Query models of the list routes (nearby, compare): validated inside the route with `model_validate`
on the query dict, and the source of the routes' documented parameters (`openapi_parameters`).

Each field keeps the service's own rules and messages: numbers as Python reads them but never with digit
separators (`2_5`) and never infinite or NaN, booleans as yes/no words, an empty value as absent. A rule
between parameters (`sort=wait` needs `grade`) is checked here too, and every refusal is reported at once,
in the order of NEARBY_ORDER / COMPARE_ORDER."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from api.decimal_text import AMOUNT, LEVEL, VOLUME
from api.grade_text import GRADE_PATTERN
from api.name_patterns import BRAND_PATTERN, REGION_PATTERN, SERVICES_PATTERN
from api.query_string import ParameterErrors, refused
from geo.keywords import MAX_KEYWORD_CHARS
from geo.nearby import MAX_LIMIT, MAX_RADIUS_M

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _number(low: float, high: float, low_open: bool = False) -> tuple[PlainValidator, WithJsonSchema]:
    bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
    message = f"Input should be {bound} and at most {high:g}"

    def check(raw: object) -> float:
        try:
            if isinstance(raw, str) and "_" in raw:  # Python's digit separators are no number in a URL
                raise ValueError(raw)
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _fail("float_parsing", "Input should be a valid number") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            raise _fail("number_range", message)
        return value

    schema = {"type": "number", ("exclusiveMinimum" if low_open else "minimum"): low, "maximum": high}
    return PlainValidator(check), WithJsonSchema(schema)


def _integer(low: int, high: int) -> tuple[PlainValidator, WithJsonSchema]:
    def check(raw: object) -> int:
        try:
            if isinstance(raw, str) and "_" in raw:
                raise ValueError(raw)
            value: int = int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise _fail("int_parsing", "Input should be a valid integer") from None
        if not low <= value <= high:
            raise _fail("int_range", f"Input should be between {low} and {high}")
        return value

    return PlainValidator(check), WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


def _decimal(
    pattern: str,
    places: int,
    low: Decimal,
    high: Decimal,
    default: Decimal | None = None,
    low_open: bool = True,
    high_open: bool = False,
) -> tuple[PlainValidator, WithJsonSchema]:
    message = (
        f"Input should be {'greater than' if low_open else 'at least'} {low} and "
        f"{'less than' if high_open else 'at most'} {high}"
    )

    def check(raw: object) -> Decimal | None:
        if raw is None or raw == "":
            return default
        try:
            if isinstance(raw, str) and "_" in raw:
                raise ArithmeticError(raw)
            value = Decimal(raw)  # type: ignore[arg-type]
        except (ArithmeticError, TypeError, ValueError):
            raise _fail("decimal_parsing", "Input should be a valid decimal") from None
        if (
            not value.is_finite()
            or value < low
            or value > high
            or (low_open and value == low)
            or (high_open and value == high)
        ):
            raise _fail("decimal_range", message)
        if (
            isinstance(raw, str) and re.fullmatch(pattern, raw) is None
        ):  # in range, but "0300", "1e2", "7.775"
            raise _fail("decimal_pattern", f"Input should be a plain decimal matching {pattern}")
        return value

    # empty means absent (the default); otherwise the pattern states digits, places and range exactly
    schema = {"type": "string", "format": "decimal", "pattern": f"^$|{pattern}"}
    return PlainValidator(check), WithJsonSchema(schema)


def _flag(raw: object) -> bool:
    lowered = str(raw).lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        raise _fail("bool_parsing", "Input should be a valid boolean")
    return False


def _text(raw: object) -> str | None:
    return str(raw) if raw else None


def _required_text(raw: object) -> str:
    if not raw:
        raise _fail("missing", "Field required")
    return str(raw)


def _choice(*values: str) -> tuple[PlainValidator, WithJsonSchema]:
    message = "Input should be " + ", ".join(f"'{v}'" for v in values[:-1]) + f" or '{values[-1]}'"

    def check(raw: object) -> str:
        if raw not in values:
            raise _fail("literal_error", message)
        return str(raw)

    return PlainValidator(check), WithJsonSchema({"type": "string", "enum": list(values)})


def _keywords(raw: object) -> str | None:
    if raw and len(str(raw)) > MAX_KEYWORD_CHARS:
        raise _fail("string_too_long", f"String should have at most {MAX_KEYWORD_CHARS} characters")
    return str(raw) if raw else None


def _region(raw: object) -> str | None:
    if raw and re.fullmatch(REGION_PATTERN, str(raw)) is None:
        raise _fail("string_pattern_mismatch", "Input should be an adcode (530100) or a Chinese name (昆明)")
    return str(raw) if raw else None


Flag = Annotated[bool, PlainValidator(_flag), WithJsonSchema({"type": "boolean"})]
# Documented as the names they resolve; resolved (and an unknown one named) by api/search_filters.py.
Brands = Annotated[
    str | None, PlainValidator(_text), WithJsonSchema({"type": "string", "pattern": f"^$|{BRAND_PATTERN}"})
]
Services = Annotated[
    str | None, PlainValidator(_text), WithJsonSchema({"type": "string", "pattern": f"^$|{SERVICES_PATTERN}"})
]
Keywords = Annotated[
    str | None, PlainValidator(_keywords), WithJsonSchema({"type": "string", "maxLength": MAX_KEYWORD_CHARS})
]
Region = Annotated[
    str | None, PlainValidator(_region), WithJsonSchema({"type": "string", "pattern": f"^$|{REGION_PATTERN}"})
]
Text = Annotated[str | None, PlainValidator(_text), WithJsonSchema({"type": "string"})]
# A page cursor: opaque, 24 base64url characters (geo.nearby.encode_cursor); empty is absent.
_CURSOR_PATTERN = "^$|^bj[E-H][A-Za-z0-9_-]{21}$"
Cursor = Annotated[
    str | None, PlainValidator(_text), WithJsonSchema({"type": "string", "pattern": _CURSOR_PATTERN})
]
# Grades: the documented spellings (normalize_grade refuses the rest as 400 unknown-grade); empty is absent.
Grade = Annotated[
    str | None, PlainValidator(_text), WithJsonSchema({"type": "string", "pattern": f"^$|{GRADE_PATTERN}"})
]
RequiredGrade = Annotated[
    str, PlainValidator(_required_text), WithJsonSchema({"type": "string", "pattern": GRADE_PATTERN})
]
Coord = Annotated[str, WithJsonSchema({"type": "string", "enum": ["wgs84", "gcj02", "bd09"]})]
Lat = Annotated[float, *_number(-90, 90)]
Lon = Annotated[float, *_number(-180, 180)]
Radius = Annotated[float, *_number(0, MAX_RADIUS_M, low_open=True)]
Limit = Annotated[int, *_integer(1, MAX_LIMIT)]
# 0 < c <= 100 and 1 <= f <= 3, at most two places
_CONSUMPTION = r"^([1-9][0-9]?(\.[0-9]{1,2})?|100(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$"
_ROAD_FACTOR = r"^([12](\.[0-9]{1,2})?|3(\.00?)?)$"
Amount = Annotated[Decimal | None, *_decimal(AMOUNT, 2, Decimal(0), Decimal(100_000))]
Litres = Annotated[Decimal | None, *_decimal(VOLUME, 2, Decimal(0), Decimal(2000))]
Level = Annotated[Decimal | None, *_decimal(LEVEL, 3, Decimal(0), Decimal(1), low_open=False, high_open=True)]
Consumption = Annotated[Decimal, *_decimal(_CONSUMPTION, 2, Decimal(0), Decimal(100), Decimal(8))]
RoadFactor = Annotated[
    Decimal, *_decimal(_ROAD_FACTOR, 2, Decimal(1), Decimal(3), Decimal("1.3"), low_open=False)
]
NearbySort = Annotated[str, *_choice("distance", "price", "effective", "wait")]
CompareSort = Annotated[str, *_choice("price", "total", "wait")]
_COORD = (
    "coordinate system of the request and the response: wgs84 (GPS), gcj02 (Amap, Tencent, WeChat), "
    "bd09 (Baidu)"
)


_BRAND = (
    "only these brands, comma-separated: codes (sinopec), full or common Chinese names and abbreviations "
    "(中国石化, 中石化), English names (Sinopec); brand=中石化,shell is either; an unknown name is a 400 "
    "unknown-brand naming it"
)
_SERVICES = (
    "only stations with every one of these services, comma-separated codes or Chinese names "
    "(car_wash,便利店); an unknown one is a 400 unknown-service"
)
_Q = (
    "keywords (at most 64 characters): each word, separated by spaces, must occur in the station's name "
    "or address (case and full-width forms do not matter)"
)
_REGION = (
    "only stations in this province, city or county: adcode (530100), full name (昆明市, 云南省) or short "
    "name (昆明, 云南; a province before a city of the same name); one no station lies in is a 404 "
    "region-not-found"
)
NAV_DESCRIPTION = (
    "add `navigation`: links that open driving navigation to the station in Amap and Tencent Maps "
    "(GCJ-02) and Baidu Maps (BD-09, coord_type=bd09ll), web and app scheme, name percent-encoded"
)


def _true(raw: str | None) -> bool:
    return raw is not None and raw.lower() in _TRUE


def _validated(
    model: type[BaseModel], data: dict[str, Any], order: Mapping[str, int], extra: list[tuple[str, str, str]]
) -> Any:
    """The model, or ParameterErrors with the model's refusals and `extra` (order key, name, message)."""
    found: list[tuple[int, dict[str, str]]] = []
    try:
        params = model.model_validate(data)
    except ValidationError as exc:
        params = None
        found = [(order.get(e["name"], len(order)), e) for e in refused(exc)]
    found += [(order[key], {"in": "query", "name": name, "message": m}) for key, name, m in extra]
    if found:
        raise ParameterErrors([e for _, e in sorted(found, key=lambda item: item[0])])
    return params


class NearbyParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    lat: Lat = Field(description="latitude in `coord`")
    lon: Lon = Field(description="longitude in `coord`")
    coord: Coord = Field("wgs84", description=_COORD)
    radius_m: Radius = Field(5000.0, description="search radius, metres")
    limit: Limit = Field(20, description="page size; use next_cursor for more")
    grade: Grade = Field(
        None,
        description="only stations offering this grade (92, 95#, 0 ...); also the grade of sort=price, "
        "effective and wait, which use 92 when it is absent (stations are then not filtered by grade)",
    )
    brand: Brands = Field(None, description=_BRAND)
    services: Services = Field(None, description=_SERVICES)
    q: Keywords = Field(None, description=_Q)
    region: Region = Field(None, description=_REGION)
    open_now: Flag = Field(False, description="only stations open now (local time)")
    cursor: Cursor = Field(None, description="next_cursor of the previous page (opaque)")
    prices: Flag = Field(False, description="add each station's current prices per grade")
    sort: NearbySort = Field(
        "distance",
        description="distance: nearest first; price: cheapest fresh price of `grade` first; effective: "
        "what this driver pays for the fill first; wait: shortest expected wait for `grade` first, unknown "
        "last; ties nearest first. Every sort pages with next_cursor (a cursor belongs to its sort)",
    )
    wait: Flag = Field(
        False,
        description="add `wait_minutes` (expected wait for `grade`, null when unknown) and `wait_stale`",
    )
    effective: Flag = Field(
        False,
        description="add what this driver (the driver token, optional) pays at each station for `grade` and "
        "the fill",
    )
    amount: Amount = Field(None, description="fill for effective prices, ¥ (default 300)")
    litres: Litres = Field(None, description="fill for effective prices, litres")
    nav: Flag = Field(False, description=NAV_DESCRIPTION)

    @property
    def wants_wait(self) -> bool:
        return self.wait or self.sort == "wait"

    @property
    def wants_effective(self) -> bool:
        return self.effective or self.sort == "effective"

    @property
    def filter_values(self) -> dict[str, str | None]:
        return {"brand": self.brand, "services": self.services, "region": self.region, "q": self.q}


NEARBY_ORDER = {
    name: i
    for i, name in enumerate(
        ("lat", "lon", "radius_m", "limit", "open_now", "prices", "sort", "wait", "effective")
        + ("amount", "litres", "nav")
    )
}


def parse_nearby(query: Mapping[str, str]) -> NearbyParams:
    sort = query.get("sort", "distance")
    effective = _true(query.get("effective")) or sort == "effective"
    data: dict[str, Any] = dict(query)
    if sort == "wait":
        data.pop("wait", None)  # implied
    if not effective:  # read only for effective prices
        data.pop("amount", None)
        data.pop("litres", None)
    params: NearbyParams = _validated(NearbyParams, data, NEARBY_ORDER, [])
    return params


class CompareParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    lat: Lat = Field(description="latitude in `coord`")
    lon: Lon = Field(description="longitude in `coord`")
    coord: Coord = Field("wgs84", description=_COORD)
    radius_m: Radius = Field(5000.0, description="search radius, metres")
    grade: RequiredGrade = Field(description="92, 95, 0 ...")
    amount: Amount = Field(
        None, description="fill by amount, ¥ (0 < amount ≤ 100000); ¥300 when no fill is given"
    )
    litres: Litres = Field(None, description="fill by litres (0 < litres ≤ 2000)")
    tank_capacity: Litres = Field(None, description="fill up: tank litres")
    level: Level = Field(None, description="fill up: tank level now, 0 ≤ level < 1")
    sort: CompareSort = Field(
        "price",
        description="price: payable; total: payable + the detour's fuel; wait: shortest expected wait first, "
        "unknown last",
    )
    wait: Flag = Field(
        False, description="add `wait_minutes` (expected wait, null when unknown) and `wait_stale`"
    )
    limit: Limit = Field(20, description="page size; use next_cursor for more")
    cursor: Cursor = Field(None, description="next_cursor of the previous page (opaque, of the same sort)")
    include_stale: Flag = Field(False, description="rank stale prices too")
    consumption_l_per_100km: Consumption = Field(
        Decimal(8), description="vehicle consumption, L/100 km (0 < c ≤ 100)"
    )
    road_factor: RoadFactor = Field(Decimal("1.3"), description="road distance / straight line (1 ≤ f ≤ 3)")
    pay: tuple[str, ...] = Field(
        (), description="payment channels the driver can use (repeat: pay=wechat_pay&pay=alipay)"
    )
    brand: Brands = Field(None, description=_BRAND)
    services: Services = Field(None, description=_SERVICES)
    q: Keywords = Field(None, description=_Q)
    region: Region = Field(None, description=_REGION)

    @property
    def wants_wait(self) -> bool:
        return self.wait or self.sort == "wait"

    @property
    def filter_values(self) -> dict[str, str | None]:
        return {"brand": self.brand, "services": self.services, "region": self.region, "q": self.q}


COMPARE_ORDER = {
    name: i
    for i, name in enumerate(
        ("lat", "lon", "radius_m", "limit", "grade", "amount", "litres", "tank_capacity", "level")
        + ("consumption_l_per_100km", "road_factor", "include_stale", "sort", "wait")
    )
}


def parse_compare(query: Mapping[str, str], pay: list[str]) -> CompareParams:
    data: dict[str, Any] = dict(query)
    if query.get("sort") == "wait":
        data.pop("wait", None)  # implied
    data["pay"] = pay
    params: CompareParams = _validated(CompareParams, data, COMPARE_ORDER, [])
    return params
