"""Request and response bodies of the along-route search (POST /v1/route/stations)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from api.column_schemas import DECIMAL, EffectiveColumn, ListedPrice
from api.decimal_text import DecimalText
from api.grade_text import GradeText
from api.name_patterns import BRAND_PATTERN
from api.pricing_schemas import FillBody
from api.schemas import Location
from api.strict_types import Flag, Whole
from geo import polyline
from geo.corridor import MAX_CORRIDOR_M
from geo.nearby import MAX_LIMIT
from geo.route import MAX_VERTICES

_COORD = (
    "coordinate system of the route and of every location answered: wgs84 (GPS), gcj02 (Amap, Tencent, "
    "WeChat), bd09 (Baidu)"
)
# Kunming → Anning, precision 5 (a GeoJSON LineString of the same points gives the same answer).
EXAMPLE_POLYLINE = "wvywC{~{qRfaAzeI~{BntL"
_CONSUMPTION = r"^([1-9][0-9]?(\.[0-9]{1,2})?|100(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$"
Consumption = Annotated[Decimal, DecimalText(_CONSUMPTION, "litres per 100 km, 0.01 to 100", "8")]
Coordinate = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# The cursor of listing.route_list.encode_cursor: 24 base64url characters, tag "r1".
ROUTE_CURSOR = "^cj[E-H][A-Za-z0-9_-]{21}$"


class EncodedPolyline(BaseModel):
    """The route as an encoded polyline (Google's algorithm), latitude first in each pair."""

    model_config = ConfigDict(extra="forbid")
    polyline: str = Field(
        min_length=4,
        max_length=12 * MAX_VERTICES,
        json_schema_extra={"pattern": polyline.PATTERN},
        description=f"at least two points, at most {MAX_VERTICES} vertices and 1,000 km",
        examples=[EXAMPLE_POLYLINE],
    )
    precision: Literal[5, 6] = Field(5, description="decimal places encoded: 5 (Google, Amap) or 6 (OSRM)")


class LineString(BaseModel):
    """The route as a GeoJSON LineString: [lon, lat] (or [lon, lat, altitude]) positions."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["LineString"]
    coordinates: list[Annotated[list[Coordinate], Field(min_length=2, max_length=3)]] = Field(
        min_length=2,
        max_length=MAX_VERTICES,
        description=f"at least two points, at most {MAX_VERTICES}; longitude in [-180, 180], latitude in "
        "[-90, 90]; at most 1,000 km",
        examples=[[[102.7123, 25.0406], [102.66, 25.03], [102.59, 25.01]]],
    )


class RouteSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    route: EncodedPolyline | LineString
    coord: Literal["wgs84", "gcj02", "bd09"] = Field("wgs84", description=_COORD)
    corridor_m: Annotated[float, Strict()] = Field(
        1000.0,
        gt=0,
        le=MAX_CORRIDOR_M,
        description="the corridor: stations at most this far from the route (either side), metres",
    )
    grade: GradeText | None = Field(
        None,
        description="only stations offering this grade; also the grade of the effective price, detour cost "
        "and wait (92 when absent: stations are then not filtered by grade)",
    )
    brand: str | None = Field(
        None,
        max_length=64,
        json_schema_extra={"pattern": f"^$|{BRAND_PATTERN}"},  # documented; the route names an unknown one
        description="only these brands, comma-separated: codes, full or common Chinese names, English names "
        "(中石化,shell); an unknown one is a 400 unknown-brand",
    )
    open_now: Flag = Field(False, description="only stations open now (local time)")
    fill: FillBody | None = Field(None, description="the fill to price; absent: by_amount 300.00")
    consumption_l_per_100km: Consumption = Field(
        Decimal(8), description="the vehicle's consumption for the detour cost, L/100 km"
    )
    sort: Literal["along", "effective", "total_cost"] = Field(
        "along",
        description="along: by distance along the route (pages with cursor); effective: cheapest for this "
        "driver first; total_cost: payable + detour cost first (one page each)",
    )
    limit: Whole = Field(20, ge=1, le=MAX_LIMIT, description="page size")
    cursor: str | None = Field(
        None, pattern=ROUTE_CURSOR, description="next_cursor of the previous page (sort=along, same route)"
    )
    prices: Flag = Field(False, description="add each station's current prices per grade")
    wait: Flag = Field(False, description="add the expected wait for `grade`")


class RouteStation(BaseModel):
    id: int
    name: str
    brand: str
    brand_name: str
    address: str
    grades: list[str]
    status: str = Field(description="open | temporarily_closed")
    location: Location
    along_m: float = Field(description="distance along the route to its point nearest the station, metres")
    off_route_m: float = Field(description="distance from the route (its nearest point), metres")
    open_now: bool | None = Field(description="open at as_of in local time; null: hours unknown")
    prices: dict[str, ListedPrice] | None = Field(default=None, description="with prices=true")
    effective: EffectiveColumn | None = Field(
        description="what this driver pays for the fill; null where the station has no fresh price"
    )
    detour_fuel_litres: str | None = Field(
        pattern=DECIMAL, description="fuel for 2 × off_route_m at the consumption; null without a price"
    )
    detour_cost: str | None = Field(
        pattern=DECIMAL, description="the detour's fuel at the effective ¥/L; null without a price"
    )
    total_cost: str | None = Field(pattern=DECIMAL, description="payable + detour_cost; null without a price")
    wait_minutes: float | None = Field(default=None, description="with wait=true: null when unknown")
    wait_stale: bool | None = Field(default=None, description="with wait=true")


class RoutePage(BaseModel):
    coord: str = Field(description="coordinate system of every location")
    route_length_m: float = Field(description="the route's length on the WGS-84 ellipsoid, metres")
    corridor_m: float
    grade: str
    sort: str
    consumption_l_per_100km: str = Field(pattern=DECIMAL)
    as_of: str
    catalogue_version: int
    stations_in_corridor: int = Field(description="eligible stations in the corridor (every page)")
    count: int
    next_cursor: str | None = Field(description="sort=along: pass as cursor for the next page; else null")
    items: list[RouteStation]
