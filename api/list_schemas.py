"""Typed body of the price comparison (documentation: the list routes render bytes themselves;
tests/api/test_list_golden.py checks every body it gets against NearbyPage and ComparePage)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.column_schemas import DECIMAL
from api.schemas import Location, NearbyStation


class BreakdownLine(BaseModel):
    kind: str
    rule_id: str | None
    description: str
    amount: str = Field(pattern=DECIMAL)


class ComparedPrice(BaseModel):
    currency: str
    pump: str = Field(pattern=DECIMAL)
    platform: str = Field(pattern=DECIMAL)
    stale: bool
    gross: str = Field(pattern=DECIMAL, description="the fill at the pump price")
    litres: str = Field(pattern=DECIMAL)
    payable: str = Field(pattern=DECIMAL, description="what this driver pays for the fill")
    effective_price_per_litre: str = Field(pattern=DECIMAL)
    detour_fuel_litres: str = Field(pattern=DECIMAL, description="fuel burnt driving there and back")
    detour_cost: str = Field(pattern=DECIMAL)
    total_cost: str = Field(pattern=DECIMAL, description="payable + detour_cost")
    lines: list[BreakdownLine] | None = Field(
        default=None,
        description="for a signed-in driver with coupons, promotions or points: how it was priced",
    )
    coupon_ids: list[str] | None = None
    payment_promotion_ids: list[str] | None = None
    points_used: int | None = None


class ComparedStation(NearbyStation):
    """A nearby item (the same members, the same optional columns) with what this driver pays."""

    price: ComparedPrice


class ComparePage(BaseModel):
    coord: str = Field(description="coordinate system of origin and every location")
    origin: Location
    grade: str
    radius_m: float
    sort: str = Field(description="price | total | wait")
    as_of: str
    catalogue_version: int
    stations_in_radius: int = Field(description="stations selling the grade within the radius")
    count: int
    next_cursor: str | None = Field(
        description="pass as cursor= (with the same sort) for the next page; null on the last page"
    )
    items: list[ComparedStation]
