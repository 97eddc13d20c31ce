"""Response bodies of the pricing routes (effective price, quotes, ladders, station price posts, stats).

Amounts, prices and litres are decimal strings (`DecimalString`), shown as pricing/ renders them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DecimalString = Annotated[
    str,
    Field(
        pattern=DECIMAL_PATTERN,
        description="a decimal number as a string: money with 2 places, prices per litre with at most 3, "
        "litres with at most 3",
        examples=["300.00"],
    ),
]
LineKindName = Literal["station", "member", "coupon", "payment", "points"]


class DiscountLine(BaseModel):
    kind: LineKindName
    rule_id: str = Field(description="coupon instance, payment promotion, member level, station or points")
    description: str
    amount: DecimalString = Field(description="yuan taken off")
    reason: str
    measured_on: DecimalString = Field(description="the subtotal this discount was measured on")


class UnusedCoupon(BaseModel):
    instance_id: str
    reason: str = Field(
        description="why this coupon was not used (a code): below minimum spend, not chosen ..."
    )
    reason_text: str = Field(
        description="the same for the driver: Chinese, or English with Accept-Language: en"
    )
    detail: str


class Breakdown(BaseModel):
    currency: str = Field(examples=["CNY"])
    pump_price: DecimalString
    platform_price: DecimalString
    gross: DecimalString = Field(description="the fill at the pump price")
    lines: list[DiscountLine]
    payable: DecimalString
    litres: DecimalString
    effective_price_per_litre: DecimalString
    coupon_ids: list[str]
    payment_promotion_ids: list[str]
    payment_channel: str | None = Field(description="the channel this price needs; null: any")
    points_used: int
    unused_coupons: list[UnusedCoupon]


class EffectivePrice(Breakdown):
    station_id: int
    grade: str
    as_of: str = Field(description="RFC 3339 time the price was computed at")


class QuoteFill(BaseModel):
    mode: Literal["by_amount", "by_litres", "fill_up"]
    amount: DecimalString | None = None
    litres: DecimalString | None = None
    tank_capacity: DecimalString | None = None
    level: DecimalString | None = None


class QuotePayload(Breakdown):
    quote_id: str
    station_id: int
    grade: str
    driver_id: str | None = Field(
        description="the driver it was issued to; verify shows it only to that driver (null otherwise)"
    )
    fill: QuoteFill
    issued_at: str
    expires_at: str


class Quote(QuotePayload):
    token: str = Field(description="give it to POST /v1/quotes/verify and POST /v1/checkout")


class QuoteCheck(BaseModel):
    valid: Literal[True]
    used: bool
    quote: QuotePayload


class Rung(BaseModel):
    tier: str = Field(description="guide, pump, platform, member:<level>")
    price: DecimalString
    currency: str
    source: str
    effective_from: str
    confirmed_at: str
    stale: bool
    zone_code: str | None


class GradeLadder(BaseModel):
    grade: str
    rungs: list[Rung] = Field(description="guide first, then pump, platform, member levels; none: no price")


class Ladder(BaseModel):
    station_id: int
    grade: str | None = Field(description="the grade asked for; null: every grade (see `grades`)")
    as_of: str = Field(description="RFC 3339, UTC, milliseconds")
    rungs: list[Rung] | None = Field(
        default=None, description="the ladder of `grade` (present when a grade was asked for)"
    )
    grades: list[GradeLadder] = Field(description="the ladder of each grade (the one asked for, or all)")


class PriceOutcome(BaseModel):
    index: int = Field(description="position of the item in the request")
    grade: str
    tier: str
    price: DecimalString
    status: str = Field(description="accepted, unchanged, rejected ...")
    reason: str | None


class PriceOutcomes(BaseModel):
    accepted: int
    rejected: int
    results: list[PriceOutcome]


class GradeStats(BaseModel):
    grade: str
    currency: str
    stations: int
    min: DecimalString
    avg: DecimalString
    max: DecimalString


class RegionalStats(BaseModel):
    city: str | None
    province: str | None
    tier: Literal["pump", "platform"]
    include_stale: bool
    grades: list[GradeStats]
