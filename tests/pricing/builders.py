"""Small builders shared by the pricing tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from pricing.context import DriverContext, PriceContext
from pricing.money import Money
from pricing.offers import CouponInstance, CouponState, CouponTemplate, PaymentPromotion
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff

AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def yuan(value: str | int) -> Money:
    return Money.of(value)


def amount_off(threshold: str | int, amount: str | int) -> AmountOff:
    return AmountOff(yuan(threshold), yuan(amount))


def percent_off(percent: str | int, cap: str | int | None = None) -> PercentOff:
    return PercentOff(D(percent), None if cap is None else yuan(cap))


def per_litre_off(per_litre: str, litre_cap: str | int | None = None) -> PerLitreOff:
    return PerLitreOff(D(per_litre), None if litre_cap is None else D(litre_cap))


def coupon(
    instance_id: str,
    discount: Discount,
    template_id: str | None = None,
    conditions: Conditions | None = None,
    state: CouponState = CouponState.AVAILABLE,
    expires_at: datetime | None = None,
    exclusive: bool = False,
    stacks_with_payment: bool = True,
) -> CouponInstance:
    template = CouponTemplate(
        template_id or f"t-{instance_id}",
        discount,
        conditions or Conditions(),
        exclusive=exclusive,
        stacks_with_payment=stacks_with_payment,
    )
    return CouponInstance(instance_id, template, state, expires_at)


def payment(
    promo_id: str, channel: str, discount: Discount, conditions: Conditions | None = None
) -> PaymentPromotion:
    return PaymentPromotion(promo_id, channel, discount, conditions or Conditions())


def station_92(member: dict[str, str] | None = None) -> PriceContext:
    """92# at a Sinopec station in Shanghai: pump 7.89, platform 7.59 (直降 0.30/L)."""
    return PriceContext(
        station_id="s1",
        brand="sinopec",
        city="310100",
        city_name="上海市",
        grade="92",
        pump_price=D("7.89"),
        platform_price=D("7.59"),
        member_per_litre={(level, "92"): D(v) for level, v in (member or {}).items()},
    )


def driver(*coupons: CouponInstance, **kwargs: object) -> DriverContext:
    return DriverContext("d1", coupons=coupons, **kwargs)  # type: ignore[arg-type]
