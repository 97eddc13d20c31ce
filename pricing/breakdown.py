"""The itemised result of pricing one fill: gross, each discount with its rule and reason, payable."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pricing.money import Money
from pricing.rules import Reason


class LineKind(StrEnum):
    STATION = "station"  # 直降: pump price → platform price
    MEMBER = "member"
    COUPON = "coupon"
    PAYMENT = "payment"
    POINTS = "points"


@dataclass(frozen=True)
class DiscountLine:
    kind: LineKind
    rule_id: str  # coupon instance id, payment promotion id, member level, station id, 'points'
    description: str
    amount: Money
    reason: str
    subtotal_before: Money  # what the rule's threshold / percentage was measured on


@dataclass(frozen=True)
class UnusedCoupon:
    instance_id: str
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Breakdown:
    gross: Money
    lines: tuple[DiscountLine, ...]
    payable: Money
    litres: Decimal
    effective_price: Decimal  # payable / litres, rounded half-up to the price quantum
    coupon_ids: tuple[str, ...]  # in order of application
    payment_promotion_ids: tuple[str, ...]
    points_used: int
    payment_channel: str | None = None  # the channel to pay with for this price (None: any)
    unused: tuple[UnusedCoupon, ...] = ()

    @property
    def total_discount(self) -> Money:
        return self.gross - self.payable
