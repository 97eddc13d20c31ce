"""Whether a coupon instance or payment promotion may be used at all (state, window, scope, first order,
per-user limit), and whether a set of them may be combined under the stacking policy. Minimum spends and
thresholds depend on the running subtotal and are checked while pricing (pricing/steps.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pricing.context import DriverContext, PriceContext
from pricing.offers import CouponInstance, CouponState, PaymentPromotion, StackingPolicy
from pricing.rules import Conditions, Discount, Reason, money_amounts

Problem = tuple[Reason, str]


def conditions_problem(
    conditions: Conditions, price: PriceContext, driver: DriverContext, at: datetime, used: int
) -> Problem | None:
    if not conditions.in_window(at):
        return Reason.OUTSIDE_WINDOW, f"valid {conditions.valid_from} .. {conditions.valid_to}, now {at}"
    miss = conditions.scope.miss(price.grade, price.station_id, price.brand, price.city_keys)
    if miss is not None:
        return miss, f"station {price.station_id} brand {price.brand} city {price.city} grade {price.grade}"
    if conditions.first_order_only and not driver.is_first_order:
        return Reason.FIRST_ORDER_ONLY, "driver has ordered before"
    if conditions.remaining(used) == 0:
        return Reason.PER_USER_LIMIT, f"used {used} of {conditions.per_user_limit}"
    return None


def currency_problem(
    declared: str | None, discount: Discount, conditions: Conditions, price: PriceContext
) -> Problem | None:
    """A rule declared (or stating amounts) in another currency than the price never applies to it."""
    found = {m.currency for m in money_amounts(discount, conditions)} | ({declared} if declared else set())
    other = sorted(found - {price.currency})
    if other:
        return Reason.OTHER_CURRENCY, f"declared in {', '.join(other)}; this price is in {price.currency}"
    return None


def coupon_problem(
    coupon: CouponInstance, price: PriceContext, driver: DriverContext, at: datetime
) -> Problem | None:
    if coupon.state is not CouponState.AVAILABLE:
        return Reason.NOT_AVAILABLE, f"coupon is {coupon.state.value}"
    if coupon.expires_at is not None and at >= coupon.expires_at:
        return Reason.OUTSIDE_WINDOW, f"coupon expired at {coupon.expires_at}"
    template = coupon.template
    problem = currency_problem(template.currency, template.discount, template.conditions, price)
    if problem is not None:
        return problem
    used = driver.usage_counts.get(coupon.template.id, 0)
    return conditions_problem(coupon.template.conditions, price, driver, at, used)


def payment_problem(
    promo: PaymentPromotion, price: PriceContext, driver: DriverContext, at: datetime
) -> Problem | None:
    if promo.channel not in driver.payment_channels:
        return Reason.NOT_AVAILABLE, f"driver cannot pay with {promo.channel}"
    problem = currency_problem(promo.currency, promo.discount, promo.conditions, price)
    if problem is not None:
        return problem
    used = driver.payment_usage_counts.get(promo.id, 0)
    return conditions_problem(promo.conditions, price, driver, at, used)


def coupon_set_problem(
    coupons: Sequence[CouponInstance], driver: DriverContext, policy: StackingPolicy
) -> str | None:
    """Count, exclusivity and per-user limits across the coupons of one combination."""
    if len(coupons) > policy.max_coupons:
        return f"{len(coupons)} coupons, policy allows {policy.max_coupons}"
    if len({c.id for c in coupons}) != len(coupons):
        return "the same coupon twice"
    if len(coupons) > 1 and any(c.template.exclusive for c in coupons):
        return "an exclusive coupon combined with another"
    for template_id, count in Counter(c.template.id for c in coupons).items():
        template = next(c.template for c in coupons if c.template.id == template_id)
        left = template.conditions.remaining(driver.usage_counts.get(template_id, 0))
        if left is not None and count > left:
            return f"template {template_id} used {count} times, {left} left"
    return None


def combination_problem(
    coupons: Sequence[CouponInstance],
    payments: Sequence[PaymentPromotion],
    driver: DriverContext,
    policy: StackingPolicy,
) -> str | None:
    problem = coupon_set_problem(coupons, driver, policy)
    if problem is not None:
        return problem
    if len(payments) > policy.max_payment_promotions:
        return f"{len(payments)} payment promotions, policy allows {policy.max_payment_promotions}"
    if len({p.id for p in payments}) != len(payments):
        return "the same payment promotion twice"
    if len({p.channel for p in payments}) > 1:
        return "payment promotions of different channels (an order is paid once)"
    if coupons and payments:
        if not policy.coupons_with_payment:
            return "policy: coupons do not combine with payment promotions"
        if not all(c.template.stacks_with_payment for c in coupons):
            return "a coupon that does not combine with payment promotions"
        if not all(p.stacks_with_coupons for p in payments):
            return "a payment promotion that does not combine with coupons"
    return None
