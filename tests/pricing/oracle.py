"""An independent reference for the pricing rules of docs/pricing-rules.md, written from the document in
exact fractions and integer fen (no Decimal quantize, no engine code): eligibility, stacking, the steps,
and a search over every subset. The property tests hold the engine to it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from itertools import combinations

from pricing.context import DriverContext, PriceContext
from pricing.fills import FillMode, FillRequest
from pricing.money import Money
from pricing.offers import CouponInstance, CouponState, PaymentPromotion, Promotions, StackingPolicy
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff

RANK = {AmountOff: 0, PerLitreOff: 1, PercentOff: 2}


def half_up(x: Fraction) -> int:
    assert x >= 0
    return math.floor(x + Fraction(1, 2))


def fen(m: Money) -> int:
    return int(Fraction(m.amount) * 100)


def conditions_ok(c: Conditions, price: PriceContext, driver: DriverContext, at: datetime, used: int) -> bool:
    s = c.scope
    return (
        (c.valid_from is None or c.valid_from <= at)
        and (c.valid_to is None or at < c.valid_to)
        and (not s.grades or price.grade in s.grades)
        and (not s.stations or price.station_id in s.stations)
        and (not s.brands or price.brand in s.brands)
        and (not s.cities or price.city in s.cities or price.city_name in s.cities)
        and (not c.first_order_only or driver.is_first_order)
        and (c.per_user_limit is None or used < c.per_user_limit)
    )


def coupon_ok(c: CouponInstance, price: PriceContext, driver: DriverContext, at: datetime) -> bool:
    used = driver.usage_counts.get(c.template.id, 0)
    return (
        c.state is CouponState.AVAILABLE
        and (c.expires_at is None or at < c.expires_at)
        and conditions_ok(c.template.conditions, price, driver, at, used)
    )


def payment_ok(p: PaymentPromotion, price: PriceContext, driver: DriverContext, at: datetime) -> bool:
    used = driver.payment_usage_counts.get(p.id, 0)
    return p.channel in driver.payment_channels and conditions_ok(p.conditions, price, driver, at, used)


def stacking_ok(
    coupons: Sequence[CouponInstance],
    pays: Sequence[PaymentPromotion],
    driver: DriverContext,
    policy: StackingPolicy,
) -> bool:
    if len(coupons) > policy.max_coupons or len(pays) > policy.max_payment_promotions:
        return False
    if len(coupons) > 1 and any(c.template.exclusive for c in coupons):
        return False
    for template_id, n in Counter(c.template.id for c in coupons).items():
        limit = next(c.template.conditions.per_user_limit for c in coupons if c.template.id == template_id)
        if limit is not None and driver.usage_counts.get(template_id, 0) + n > limit:
            return False
    if len({p.channel for p in pays}) > 1:
        return False
    if coupons and pays:
        return (
            policy.coupons_with_payment
            and all(c.template.stacks_with_payment for c in coupons)
            and all(p.stacks_with_coupons for p in pays)
        )
    return True


def litres_and_gross(fill: FillRequest, price: PriceContext) -> tuple[Fraction, int]:
    pump = Fraction(price.pump_price)
    if fill.mode is FillMode.BY_AMOUNT:
        assert fill.amount is not None
        volume = Fraction(half_up(Fraction(fill.amount.amount) / pump * 100), 100)
        return volume, fen(fill.amount)
    if fill.mode is FillMode.BY_LITRES:
        assert fill.volume is not None
        volume = Fraction(fill.volume)
    else:
        assert fill.tank_capacity is not None and fill.level is not None
        volume = Fraction(math.floor(Fraction(fill.tank_capacity) * (1 - Fraction(fill.level)) * 100), 100)
    return volume, half_up(volume * pump * 100)


def discount_fen(d: Discount, subtotal: int, volume: Fraction) -> int | None:
    if isinstance(d, AmountOff):
        return fen(d.amount) if subtotal >= fen(d.threshold) else None
    if isinstance(d, PercentOff):
        off = half_up(Fraction(subtotal) * Fraction(d.percent) / 100)
        return off if d.cap is None else min(off, fen(d.cap))
    counted = volume if d.litre_cap is None else min(volume, Fraction(d.litre_cap))
    return half_up(counted * Fraction(d.per_litre) * 100)


def payable(
    fill: FillRequest,
    price: PriceContext,
    driver: DriverContext,
    promotions: Promotions,
    policy: StackingPolicy,
    coupons: Sequence[CouponInstance],
    pays: Sequence[PaymentPromotion],
) -> int | None:
    """Payable in fen for exactly these instruments (assumed allowed), or None when a minimum is missed."""
    volume, s = litres_and_gross(fill, price)
    per_litre = []
    if policy.station_discount:
        per_litre.append(Fraction(price.pump_price - price.platform_price))
    if policy.member_discount and driver.member_level is not None:
        per_litre.append(Fraction(price.member_per_litre.get((driver.member_level, price.grade), 0)))
    for cut in per_litre:
        s -= min(half_up(volume * cut * 100), s - 1)
    steps: list[tuple[Discount, Conditions]] = [
        (c.template.discount, c.template.conditions)
        for c in sorted(coupons, key=lambda c: (RANK[type(c.template.discount)], c.template.id, c.id))
    ] + [(p.discount, p.conditions) for p in sorted(pays, key=lambda p: (RANK[type(p.discount)], p.id))]
    for discount, conditions in steps:
        if conditions.min_spend is not None and s < fen(conditions.min_spend):
            return None
        off = discount_fen(discount, s, volume)
        if off is None:
            return None
        s -= min(off, s - 1)
    rule = promotions.points
    if rule is not None and driver.use_points:
        cap = math.floor(Fraction(s) * Fraction(rule.max_share))
        s -= max(0, min(driver.points_balance * 100 // rule.points_per_yuan, cap, s - 1))
    return s


def best(
    fill: FillRequest,
    price: PriceContext,
    driver: DriverContext,
    promotions: Promotions,
    policy: StackingPolicy,
    at: datetime,
) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """(payable fen, sorted coupon ids, sorted payment ids) of the cheapest allowed combination; ties: fewer
    instruments, then lower sorted coupon ids, then lower sorted payment ids."""
    found: list[tuple[int, int, tuple[str, ...], tuple[str, ...]]] = []
    coupons = [c for c in driver.coupons if coupon_ok(c, price, driver, at)]
    pays = [p for p in promotions.payment if payment_ok(p, price, driver, at)]
    for n in range(len(coupons) + 1):
        for cs in combinations(coupons, n):
            for m in range(len(pays) + 1):
                for ps in combinations(pays, m):
                    if not stacking_ok(cs, ps, driver, policy):
                        continue
                    total = payable(fill, price, driver, promotions, policy, cs, ps)
                    if total is not None:
                        ids = tuple(sorted(c.id for c in cs)), tuple(sorted(p.id for p in ps))
                        found.append((total, n + m, *ids))
    total, _, coupon_ids, payment_ids = min(found)
    return total, coupon_ids, payment_ids
