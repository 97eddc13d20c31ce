"""Response models: they document the API (OpenAPI); the hot path serialises by hand to the same shape."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.column_schemas import EffectiveColumn, ListedPrice, NavigationLinks
from api.detail_schemas import GradePrices, GradeWait, Today


class Location(BaseModel):
    lon: float
    lat: float


class NearbyStation(BaseModel):
    id: int
    name: str
    brand: str = Field(description="brand code, e.g. sinopec, petrochina, cnooc, shell, total, private")
    brand_name: str
    address: str
    grades: list[str] = Field(description="grades offered: 92, 95, 98, 0 (0# diesel), E92, CNG ...")
    status: str = Field(description="open | temporarily_closed")
    location: Location
    distance_m: float = Field(description="geodesic distance on the WGS-84 ellipsoid, metres")
    open_now: bool | None = Field(
        description="open at as_of in the station's local time; null: hours unknown"
    )
    prices: dict[str, ListedPrice] | None = Field(
        default=None, description="with prices=true: per grade {currency, pump, platform, stale}"
    )
    effective: EffectiveColumn | None = Field(
        default=None,
        description="with effective=true: what this driver pays for the fill {currency, litres, payable, "
        "effective_price_per_litre}; null where the station has no fresh price",
    )
    wait_minutes: float | None = Field(
        default=None, description="with wait=true: expected wait for `grade`, minutes; null when unknown"
    )
    wait_stale: bool | None = Field(default=None, description="with wait=true: the station's reports are old")
    navigation: NavigationLinks | None = Field(default=None, description="with nav=true")


class NearbyPage(BaseModel):
    coord: str = Field(description="coordinate system of origin and every location")
    origin: Location
    radius_m: float
    as_of: str
    catalogue_version: int
    count: int
    next_cursor: str | None = Field(description="pass as cursor= for the next page; null on the last page")
    items: list[NearbyStation]


class Nozzle(BaseModel):
    number: int
    grade: str


class Position(BaseModel):
    number: int
    nozzles: list[Nozzle] | None = Field(description="null: no nozzle recorded")


class Identifier(BaseModel):
    source: str = Field(description="the catalogue the id comes from (amap, fr-roulez-eco, ...)")
    external_id: str


class AlwaysOpen(BaseModel):
    always_open: Literal[True]


class WeeklyHours(BaseModel):
    weekly: dict[str, list[list[str]]] = Field(
        description='per day (mon ... sun) the open spans ["HH:MM", "HH:MM"], local time'
    )


class PositionCounts(BaseModel):
    free: int
    occupied: int
    claimed: int
    offline: int
    unknown: int


class OccupancySummary(BaseModel):
    as_of: str | None
    stale: bool
    last_report: str | None
    waiting_vehicles: int | None
    positions: PositionCounts


class StationDetail(BaseModel):
    id: int
    coord: str
    as_of: str = Field(description="RFC 3339, UTC, milliseconds: the time prices, hours and waits are for")
    name: str
    brand: str
    brand_name: str
    address: str
    province: str | None
    city: str | None
    county: str | None
    adcode: str | None
    location: Location
    h3_cell: str = Field(description="H3 cell (resolution 9) of the station, hex")
    timezone: str
    opening_hours: AlwaysOpen | WeeklyHours | None
    open_now: bool | None
    today: Today
    services: list[str]
    grades: list[str]
    status: str
    identifiers: list[Identifier]
    positions: list[Position]
    updated_at: str
    prices: list[GradePrices] = Field(description="each grade the station sells or prices, in grade order")
    waits: list[GradeWait] = Field(description="each grade a fueling position serves")
    occupancy: OccupancySummary | None = Field(
        default=None,
        description="live positions: counts per status (free, occupied, claimed, offline, unknown), "
        "stale, last_report, waiting_vehicles",
    )
    suggested_position: int | None = Field(
        default=None, description="with grade=: a free fueling position serving it (null when none is free)"
    )
