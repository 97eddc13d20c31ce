"""Operator-managed promotions: coupon templates and the instances drivers hold, payment-channel
promotions, the points rule and the stacking policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pricing.money import to_decimal
from pricing.rules import Conditions, Discount

WECHAT_PAY = "wechat_pay"
ALIPAY = "alipay"
UNIONPAY = "unionpay"


class CouponState(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class CouponTemplate:
    """A platform coupon as the operator declares it. Stacking flags: `exclusive` (never together with
    another coupon) and `stacks_with_payment` (may be combined with a payment promotion)."""

    id: str
    discount: Discount
    conditions: Conditions = field(default_factory=Conditions)
    exclusive: bool = False
    stacks_with_payment: bool = True
    name: str = ""
    currency: str | None = None  # as declared (stored); None: that of its amounts, any when it states none


@dataclass(frozen=True)
class CouponInstance:
    """One coupon held by one driver; `expires_at` (optional) ends it before the template's window does."""

    id: str
    template: CouponTemplate
    state: CouponState = CouponState.AVAILABLE
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("expires_at must be timezone-aware")


@dataclass(frozen=True)
class PaymentPromotion:
    """A payment-channel promotion (e.g. 微信支付立减5元); applies only when paying with `channel`."""

    id: str
    channel: str
    discount: Discount
    conditions: Conditions = field(default_factory=Conditions)
    stacks_with_coupons: bool = True
    name: str = ""
    currency: str | None = None  # as declared (stored); None: that of its amounts, any when it states none


@dataclass(frozen=True)
class PointsRule:
    """points_per_yuan points are worth ¥1 (a multiple of 100, so one fen is a whole number of points);
    at most max_share of the subtotal before points may be paid with points."""

    points_per_yuan: int = 100
    max_share: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        if self.points_per_yuan <= 0 or self.points_per_yuan % 100:
            raise ValueError("points_per_yuan must be a positive multiple of 100")
        if not 0 <= to_decimal(self.max_share, "max_share") <= 1:
            raise ValueError("max_share must be within 0..1")

    @property
    def points_per_fen(self) -> int:
        return self.points_per_yuan // 100


@dataclass(frozen=True)
class StackingPolicy:
    """What may be combined. The default: station and member discounts always apply, at most one platform
    coupon, at most one payment promotion, coupons combine with payment promotions, points last."""

    max_coupons: int = 1
    max_payment_promotions: int = 1
    coupons_with_payment: bool = True
    station_discount: bool = True
    member_discount: bool = True

    def __post_init__(self) -> None:
        if self.max_coupons < 0 or self.max_payment_promotions < 0:
            raise ValueError("maxima must be >= 0")


@dataclass(frozen=True)
class Promotions:
    """The operator's current payment promotions and points rule (None: points are not accepted)."""

    payment: tuple[PaymentPromotion, ...] = ()
    points: PointsRule | None = field(default_factory=PointsRule)
