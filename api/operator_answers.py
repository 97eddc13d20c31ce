"""Response bodies of the operator API (amounts are decimal strings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.price_answers import DecimalString


class AmountOffOut(BaseModel):
    kind: Literal["amount_off"]
    threshold: DecimalString
    amount: DecimalString


class PercentOffOut(BaseModel):
    kind: Literal["percent_off"]
    percent: DecimalString
    cap: DecimalString | None


class PerLitreOffOut(BaseModel):
    kind: Literal["per_litre_off"]
    per_litre: DecimalString
    litre_cap: DecimalString | None


DiscountOut = Annotated[AmountOffOut | PercentOffOut | PerLitreOffOut, Field(discriminator="kind")]


class ScopeOut(BaseModel):
    grades: list[str]
    stations: list[str]
    brands: list[str]
    cities: list[str]


class RuleOut(BaseModel):
    id: str
    name: str
    label: str = Field(description="the discount in words, e.g. 满200减20")
    currency: str
    discount: DiscountOut
    scope: ScopeOut
    valid_from: str | None
    valid_to: str | None
    min_spend: DecimalString | None
    first_order_only: bool
    per_user_limit: int | None


class CouponTemplateOut(RuleOut):
    exclusive: bool
    stacks_with_payment: bool


class CouponTemplates(BaseModel):
    templates: list[CouponTemplateOut]


class PaymentPromotionOut(RuleOut):
    channel: str
    stacks_with_coupons: bool


class PaymentPromotions(BaseModel):
    payment_promotions: list[PaymentPromotionOut]


class HeldCoupon(BaseModel):
    id: str
    template_id: str
    state: str = Field(description="available, reserved, used, expired ...")
    expires_at: str | None


class DriverOut(BaseModel):
    id: str
    member_level: str | None
    first_order: bool
    points_balance: int
    coupons: list[HeldCoupon]
    usage_counts: dict[str, int] = Field(description="coupon template id -> times used")


class IssuedCoupons(BaseModel):
    driver_id: str
    template_id: str
    coupon_ids: list[str]


class LevelDiscountOut(BaseModel):
    grade: str | None
    per_litre: DecimalString


class MemberLevelOut(BaseModel):
    level: str
    discounts: list[LevelDiscountOut]
    name: str | None = Field(default=None, description="display name (Chinese); null: drivers see the code")
    name_en: str | None = None


class PointsOut(BaseModel):
    points_per_yuan: int
    max_share: DecimalString


class PolicyOut(BaseModel):
    max_coupons: int
    max_payment_promotions: int
    coupons_with_payment: bool
    station_discount: bool
    member_discount: bool
    points: PointsOut | None
