"""Reference search for the tests: every subset of the driver's coupons and of the operator's payment
promotions within the policy's counts, each checked and priced on its own, the least by tie_key."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from itertools import combinations

from pricing.breakdown import Breakdown
from pricing.context import DriverContext, PriceContext
from pricing.eligibility import combination_problem, coupon_problem, payment_problem
from pricing.fills import FillRequest
from pricing.offers import Promotions, StackingPolicy
from pricing.promotions import explain_unused, tie_key
from pricing.steps import base, evaluate


def brute_force(
    fill: FillRequest,
    price_ctx: PriceContext,
    driver_ctx: DriverContext,
    promotions: Promotions,
    policy: StackingPolicy,
    at: datetime,
) -> Breakdown:
    best: Breakdown | None = None
    all_coupons = driver_ctx.coupons
    all_pays = promotions.payment
    for n_coupons in range(min(policy.max_coupons, len(all_coupons)) + 1):
        for coupons in combinations(all_coupons, n_coupons):
            if any(coupon_problem(c, price_ctx, driver_ctx, at) for c in coupons):
                continue
            for n_pays in range(min(policy.max_payment_promotions, len(all_pays)) + 1):
                for pays in combinations(all_pays, n_pays):
                    if any(payment_problem(p, price_ctx, driver_ctx, at) for p in pays):
                        continue
                    if combination_problem(coupons, pays, driver_ctx, policy) is not None:
                        continue
                    quote = evaluate(fill, price_ctx, driver_ctx, promotions.points, policy, coupons, pays)
                    if quote is not None and (best is None or tie_key(quote) < tie_key(best)):
                        best = quote
    assert best is not None
    _, volume, start = base(fill, price_ctx, driver_ctx, policy)
    return dataclasses.replace(
        best, unused=explain_unused(driver_ctx, price_ctx, at, best.coupon_ids, start, volume)
    )
