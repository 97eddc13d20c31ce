"""The promotions engine: the cheapest allowed combination of a driver's coupons, a payment promotion and
points for one fill (quote_price), and the price of one given combination (price_with, for checkout).

The search prunes what can never apply (ineligible coupons and payment promotions, interchangeable
instances of one template beyond what may be used) and prices the coupon step once per coupon set before
trying each payment promotion on its result. tests/pricing/brute_force.py enumerates everything, for the
tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from itertools import combinations

from pricing.breakdown import Breakdown, UnusedCoupon
from pricing.context import DriverContext, PriceContext
from pricing.eligibility import combination_problem, coupon_problem, coupon_set_problem, payment_problem
from pricing.fills import FillRequest
from pricing.offers import CouponInstance, PaymentPromotion, Promotions, StackingPolicy
from pricing.rules import Reason
from pricing.steps import (
    Running,
    apply_rules,
    assemble,
    base,
    coupon_rules,
    evaluate,
    payment_rules,
    points_step,
)

TieKey = tuple[Decimal, int, tuple[str, ...], tuple[str, ...]]


class NotAllowed(ValueError):
    """The requested combination may not be used for this fill."""


def tie_key(quote: Breakdown) -> TieKey:
    """Lowest payable first; then fewer instruments; then the lower sorted coupon ids, payment ids."""
    count = len(quote.coupon_ids) + len(quote.payment_promotion_ids)
    return (
        quote.payable.amount,
        count,
        tuple(sorted(quote.coupon_ids)),
        tuple(sorted(quote.payment_promotion_ids)),
    )


def _candidates(
    coupons: Sequence[CouponInstance], driver: DriverContext, policy: StackingPolicy
) -> list[CouponInstance]:
    """Eligible instances; of one template only the lowest ids that could be used together (instances of
    one template price identically and are applied next to each other, so the tie key prefers these)."""
    kept: list[CouponInstance] = []
    per_template: dict[str, int] = {}
    for coupon in sorted(coupons, key=lambda c: c.id):
        template = coupon.template
        left = template.conditions.remaining(driver.usage_counts.get(template.id, 0))
        room = policy.max_coupons if left is None else min(left, policy.max_coupons)
        if per_template.get(template.id, 0) < room:
            per_template[template.id] = per_template.get(template.id, 0) + 1
            kept.append(coupon)
    return kept


def explain_unused(
    driver: DriverContext,
    price: PriceContext,
    at: datetime,
    chosen: Sequence[str],
    start: Running,
    volume: Decimal,
) -> tuple[UnusedCoupon, ...]:
    """For each of the driver's coupons not chosen, the first reason it was not: an eligibility problem,
    then 'below minimum spend' (measured alone on the subtotal at the coupon step), else 'not optimal'."""
    out: list[UnusedCoupon] = []
    for coupon in driver.coupons:
        if coupon.id in chosen:
            continue
        problem = coupon_problem(coupon, price, driver, at)
        if problem is not None:
            out.append(UnusedCoupon(coupon.id, *problem))
        elif apply_rules(start, volume, coupon_rules([coupon])) is None:
            detail = f"{coupon.template.discount.label()}: subtotal at the coupon step is {start.subtotal}"
            out.append(UnusedCoupon(coupon.id, Reason.BELOW_MIN_SPEND, detail))
        else:
            out.append(UnusedCoupon(coupon.id, Reason.NOT_OPTIMAL, "another combination costs less or ties"))
    return tuple(out)


def quote_price(
    fill: FillRequest,
    price_ctx: PriceContext,
    driver_ctx: DriverContext,
    promotions: Promotions,
    policy: StackingPolicy,
    at: datetime,
    only_coupons: Sequence[str] | None = None,
) -> Breakdown:
    """The breakdown of the allowed combination that minimises payable (ties: see tie_key). With
    `only_coupons` (the driver's own choice) exactly those coupons are used, the payment promotion still
    chosen at best; NotAllowed when they cannot be used together for this fill."""
    gross, volume, start = base(fill, price_ctx, driver_ctx, policy)
    if only_coupons is None:
        eligible = [c for c in driver_ctx.coupons if coupon_problem(c, price_ctx, driver_ctx, at) is None]
        coupons = _candidates(eligible, driver_ctx, policy)
        sizes: Sequence[int] = range(min(policy.max_coupons, len(coupons)) + 1)
    else:
        coupons = list(chosen_coupons_of(driver_ctx, price_ctx, policy, at, only_coupons))
        sizes = (len(coupons),)
    pays = [p for p in promotions.payment if payment_problem(p, price_ctx, driver_ctx, at) is None]
    pay_sets = [
        chosen
        for size in range(min(policy.max_payment_promotions, len(pays)) + 1)
        for chosen in combinations(sorted(pays, key=lambda p: p.id), size)
        if len({p.channel for p in chosen}) <= 1
    ]
    best: tuple[TieKey, Breakdown] | None = None
    for size in sizes:
        for chosen_coupons in combinations(coupons, size):
            if coupon_set_problem(chosen_coupons, driver_ctx, policy) is not None:
                continue
            after_coupons = apply_rules(start, volume, coupon_rules(chosen_coupons))
            if after_coupons is None:
                continue
            for chosen_pays in pay_sets:
                if combination_problem(chosen_coupons, chosen_pays, driver_ctx, policy) is not None:
                    continue
                after_pay = apply_rules(after_coupons, volume, payment_rules(chosen_pays))
                if after_pay is None:
                    continue
                final, points = points_step(after_pay, driver_ctx, promotions.points)
                quote = assemble(gross, volume, final, chosen_coupons, chosen_pays, points)
                if best is None or tie_key(quote) < best[0]:
                    best = tie_key(quote), quote
    if best is None:  # only with the driver's own choice: the empty combination is always allowed
        raise NotAllowed(f"{Reason.BELOW_MIN_SPEND.value}: a minimum spend or threshold is not reached")
    unused = explain_unused(driver_ctx, price_ctx, at, best[1].coupon_ids, start, volume)
    if only_coupons is not None:  # usable, but the driver chose otherwise
        unused = tuple(
            dataclasses.replace(u, reason=Reason.NOT_CHOSEN, detail="the driver did not choose it")
            if u.reason is Reason.NOT_OPTIMAL
            else u
            for u in unused
        )
    return dataclasses.replace(best[1], unused=unused)


def chosen_coupons_of(
    driver: DriverContext, price: PriceContext, policy: StackingPolicy, at: datetime, ids: Sequence[str]
) -> tuple[CouponInstance, ...]:
    """The driver's chosen coupons, each usable here and allowed together; NotAllowed naming the first
    that is not."""
    held = {c.id: c for c in driver.coupons}
    if len(set(ids)) != len(ids):
        raise NotAllowed("a coupon is chosen twice")
    chosen = []
    for coupon_id in ids:
        if coupon_id not in held:
            raise NotAllowed(f"coupon {coupon_id} is not one of your usable coupons")
        problem = coupon_problem(held[coupon_id], price, driver, at)
        if problem is not None:
            raise NotAllowed(f"coupon {coupon_id}: {problem[0].value} ({problem[1]})")
        chosen.append(held[coupon_id])
    stacking = coupon_set_problem(chosen, driver, policy)
    if stacking is not None:
        raise NotAllowed(stacking)
    return tuple(chosen)


def price_with(
    fill: FillRequest,
    price_ctx: PriceContext,
    driver_ctx: DriverContext,
    promotions: Promotions,
    policy: StackingPolicy,
    at: datetime,
    coupon_ids: Sequence[str] = (),
    payment_promotion_ids: Sequence[str] = (),
) -> Breakdown:
    """The breakdown for exactly the given instruments (e.g. re-pricing a quote at checkout);
    raises NotAllowed when they may not be used together for this fill."""
    held = {c.id: c for c in driver_ctx.coupons}
    offered = {p.id: p for p in promotions.payment}
    missing = [i for i in coupon_ids if i not in held] + [
        i for i in payment_promotion_ids if i not in offered
    ]
    if missing:
        raise NotAllowed(f"unknown coupon or payment promotion ids: {missing}")
    coupons = [held[i] for i in coupon_ids]
    pays: list[PaymentPromotion] = [offered[i] for i in payment_promotion_ids]
    for coupon in coupons:
        problem = coupon_problem(coupon, price_ctx, driver_ctx, at)
        if problem is not None:
            raise NotAllowed(f"coupon {coupon.id}: {problem[0].value} ({problem[1]})")
    for promo in pays:
        problem = payment_problem(promo, price_ctx, driver_ctx, at)
        if problem is not None:
            raise NotAllowed(f"payment promotion {promo.id}: {problem[0].value} ({problem[1]})")
    stacking = combination_problem(coupons, pays, driver_ctx, policy)
    if stacking is not None:
        raise NotAllowed(stacking)
    quote = evaluate(fill, price_ctx, driver_ctx, promotions.points, policy, coupons, pays)
    if quote is None:
        raise NotAllowed(f"{Reason.BELOW_MIN_SPEND.value}: a minimum spend or threshold is not reached")
    _, volume, start = base(fill, price_ctx, driver_ctx, policy)
    return dataclasses.replace(
        quote, unused=explain_unused(driver_ctx, price_ctx, at, quote.coupon_ids, start, volume)
    )
