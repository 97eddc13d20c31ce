"""Pricing one combination step by step: gross → 直降 → member → coupons → payment → points.

Every rule is measured on the running subtotal left by the steps before it, rounded to the fen half-up
and clamped so the subtotal never drops below the minor unit (¥0.01). See docs/pricing-rules.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from pricing.breakdown import Breakdown, DiscountLine, LineKind
from pricing.context import DriverContext, PriceContext
from pricing.fills import FillRequest
from pricing.money import (
    MINOR_UNIT,
    PRICE_QUANTUM,
    Money,
    per_litre_amount,
    per_litre_text,
    plain,
    price_text,
)
from pricing.offers import CouponInstance, PaymentPromotion, PointsRule, StackingPolicy
from pricing.rules import Conditions, Discount


def coupon_order(coupon: CouponInstance) -> tuple[int, str, str]:
    """Order of application within the coupon step: fixed amounts, then per-litre, then percentages;
    then template id, then instance id."""
    return coupon.template.discount.rank, coupon.template.id, coupon.id


def payment_order(promo: PaymentPromotion) -> tuple[int, str]:
    return promo.discount.rank, promo.id


@dataclass(frozen=True)
class Running:
    """The lines so far and the subtotal they leave."""

    lines: tuple[DiscountLine, ...]
    subtotal: Money


def clamp(amount: Money, subtotal: Money, reason: str) -> tuple[Money, str]:
    room = subtotal - Money.minor(subtotal.currency)
    if amount > room:
        return room, f"{reason}; clamped to {room} so that {Money.minor(subtotal.currency)} remains"
    return amount, reason


def base(
    fill: FillRequest, price: PriceContext, driver: DriverContext, policy: StackingPolicy
) -> tuple[Money, Decimal, Running]:
    """Gross and litres, then the station's 直降 and the member discount (both litres × per-litre)."""
    gross, volume = fill.resolve(price.pump_price, price.currency)
    running = Running((), gross)
    per_litre_steps = []
    if policy.station_discount:
        cut = price.pump_price - price.platform_price
        pump, platform = (price_text(p, price.currency) for p in (price.pump_price, price.platform_price))
        shown = f"挂牌 {pump} → 平台 {platform}"
        text = f"直降 {per_litre_text(cut, price.currency)} ({shown})"
        per_litre_steps.append((LineKind.STATION, price.station_id, text, cut))
    if policy.member_discount and driver.member_level is not None:
        cut = price.member_discount(driver.member_level)
        text = f"会员 {driver.member_level} {price.grade}# 每升立减{per_litre_amount(cut)}元"
        per_litre_steps.append((LineKind.MEMBER, driver.member_level, text, cut))
    for kind, rule_id, text, cut in per_litre_steps:
        raw = Money(volume * cut, price.currency)
        each = per_litre_text(cut, price.currency)
        amount, reason = clamp(raw, running.subtotal, f"{each} × {volume}升 = {raw}")
        if amount.amount > 0:
            line = DiscountLine(kind, rule_id, text, amount, reason, running.subtotal)
            running = Running((*running.lines, line), running.subtotal - amount)
    return gross, volume, running


def apply_rules(
    running: Running,
    volume: Decimal,
    rules: Sequence[tuple[LineKind, str, str, Discount, Conditions]],
) -> Running | None:
    """Apply rules in the given order; None when one of them does not reach its minimum spend/threshold."""
    for kind, rule_id, name, discount, conditions in rules:
        subtotal = running.subtotal
        prefix = ""
        if conditions.min_spend is not None:
            if subtotal < conditions.min_spend:
                return None
            prefix = f"min spend {conditions.min_spend} ≤ {subtotal}; "
        raw, reason = discount.compute(subtotal, volume)
        if raw is None:
            return None
        amount, reason = clamp(raw, subtotal, prefix + reason)
        line = DiscountLine(kind, rule_id, name or discount.label(), amount, reason, subtotal)
        running = Running((*running.lines, line), subtotal - amount)
    return running


def coupon_rules(coupons: Sequence[CouponInstance]) -> list[tuple[LineKind, str, str, Discount, Conditions]]:
    ordered = sorted(coupons, key=coupon_order)
    return [
        (LineKind.COUPON, c.id, c.template.name, c.template.discount, c.template.conditions) for c in ordered
    ]


def payment_rules(
    payments: Sequence[PaymentPromotion],
) -> list[tuple[LineKind, str, str, Discount, Conditions]]:
    ordered = sorted(payments, key=payment_order)
    return [
        (LineKind.PAYMENT, p.id, p.name or f"{p.channel} {p.discount.label()}", p.discount, p.conditions)
        for p in ordered
    ]


def points_step(running: Running, driver: DriverContext, rule: PointsRule | None) -> tuple[Running, int]:
    """Points last: as many as the balance, the share cap (rounded down to the fen) and ¥0.01 left allow."""
    if rule is None or not driver.use_points or driver.points_balance <= 0:
        return running, 0
    subtotal = running.subtotal
    unit = MINOR_UNIT[subtotal.currency]
    cap = (subtotal.amount * rule.max_share).quantize(unit, rounding=ROUND_DOWN)
    fen = min(driver.points_balance // rule.points_per_fen, int(cap / unit), subtotal.minor_units - 1)
    if fen <= 0:
        return running, 0
    points = fen * rule.points_per_fen
    amount = Money(unit * fen, subtotal.currency)
    reason = (
        f"{points} points = {amount} "
        f"({rule.points_per_yuan} points = {Money(Decimal(1), subtotal.currency)}; "
        f"balance {driver.points_balance}; "
        f"cap {plain(rule.max_share * 100)}% of {subtotal} = {Money(cap, subtotal.currency)})"
    )
    line = DiscountLine(LineKind.POINTS, "points", f"积分抵扣 {points}", amount, reason, subtotal)
    return Running((*running.lines, line), subtotal - amount), points


def assemble(
    gross: Money,
    volume: Decimal,
    running: Running,
    coupons: Sequence[CouponInstance],
    payments: Sequence[PaymentPromotion],
    points: int,
) -> Breakdown:
    payable = running.subtotal
    quantum = PRICE_QUANTUM[payable.currency]
    return Breakdown(
        gross=gross,
        lines=running.lines,
        payable=payable,
        litres=volume,
        effective_price=(payable.amount / volume).quantize(quantum, rounding=ROUND_HALF_UP),
        coupon_ids=tuple(c.id for c in sorted(coupons, key=coupon_order)),
        payment_promotion_ids=tuple(p.id for p in sorted(payments, key=payment_order)),
        points_used=points,
        payment_channel=payments[0].channel if payments else None,
    )


def evaluate(
    fill: FillRequest,
    price: PriceContext,
    driver: DriverContext,
    points_rule: PointsRule | None,
    policy: StackingPolicy,
    coupons: Sequence[CouponInstance],
    payments: Sequence[PaymentPromotion],
) -> Breakdown | None:
    """The breakdown for exactly these instruments, or None when one misses its minimum spend/threshold.
    Eligibility and stacking are not checked here (pricing/eligibility.py)."""
    gross, volume, running = base(fill, price, driver, policy)
    after_coupons = apply_rules(running, volume, coupon_rules(coupons))
    if after_coupons is None:
        return None
    after_payment = apply_rules(after_coupons, volume, payment_rules(payments))
    if after_payment is None:
        return None
    final, points = points_step(after_payment, driver, points_rule)
    return assemble(gross, volume, final, coupons, payments, points)
