"""Property tests: the optimiser equals brute force and an independent oracle; the invariants hold."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings

from pricing.breakdown import Breakdown, LineKind
from pricing.money import Money
from pricing.offers import CouponState
from pricing.promotions import price_with, quote_price
from pricing.rules import AmountOff, Reason
from tests.pricing import oracle
from tests.pricing.brute_force import brute_force
from tests.pricing.strategies import Scenario, scenarios

PROPERTY = settings(max_examples=300, deadline=None)
FEN = Money.of("0.01")


@PROPERTY
@given(scenarios())
def test_optimiser_equals_brute_force_and_the_independent_oracle(s: Scenario) -> None:
    fast = quote_price(s.fill, s.price, s.driver, s.promotions, s.policy, s.at)
    slow = brute_force(s.fill, s.price, s.driver, s.promotions, s.policy, s.at)
    assert fast == slow  # same payable, same chosen instruments, same lines, same reasons
    payable_fen, coupon_ids, payment_ids = oracle.best(
        s.fill, s.price, s.driver, s.promotions, s.policy, s.at
    )
    assert fast.payable.minor_units == payable_fen
    assert (tuple(sorted(fast.coupon_ids)), tuple(sorted(fast.payment_promotion_ids))) == (
        coupon_ids,
        payment_ids,
    )


def check_totals(s: Scenario, q: Breakdown) -> None:
    assert q.payable >= FEN
    assert sum((line.amount for line in q.lines), Money.zero()) == q.gross - q.payable
    running = q.gross
    for line in q.lines:
        assert line.subtotal_before == running
        assert line.amount.amount == line.amount.amount.quantize(Decimal("0.01"))
        assert Money.zero() <= line.amount <= running - FEN
        running = running - line.amount
    assert q.effective_price == (q.payable.amount / q.litres).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert q.litres == q.litres.quantize(Decimal("0.01")) and q.litres > 0
    # the lines come in the documented order of steps
    order = [LineKind.STATION, LineKind.MEMBER, LineKind.COUPON, LineKind.PAYMENT, LineKind.POINTS]
    kinds = [order.index(line.kind) for line in q.lines]
    assert kinds == sorted(kinds)


def check_no_discount_outside_its_rules(s: Scenario, q: Breakdown) -> None:
    held = {c.id: c for c in s.driver.coupons}
    offered = {p.id: p for p in s.promotions.payment}
    lines = {line.rule_id: line for line in q.lines if line.kind in (LineKind.COUPON, LineKind.PAYMENT)}
    assert len(q.coupon_ids) <= s.policy.max_coupons
    assert len(q.payment_promotion_ids) <= s.policy.max_payment_promotions
    used_per_template = Counter(held[i].template.id for i in q.coupon_ids)
    for instance_id in q.coupon_ids:
        c, line = held[instance_id], lines[instance_id]
        assert c.state is CouponState.AVAILABLE
        assert oracle.coupon_ok(c, s.price, s.driver, s.at)  # window, scope, first order, limit
        limit = c.template.conditions.per_user_limit
        if limit is not None:
            assert s.driver.usage_counts.get(c.template.id, 0) + used_per_template[c.template.id] <= limit
        if c.template.conditions.min_spend is not None:
            assert line.subtotal_before >= c.template.conditions.min_spend
        if isinstance(c.template.discount, AmountOff):
            assert line.subtotal_before >= c.template.discount.threshold
    for promo_id in q.payment_promotion_ids:
        p, line = offered[promo_id], lines[promo_id]
        assert p.channel in s.driver.payment_channels and p.channel == q.payment_channel
        assert oracle.payment_ok(p, s.price, s.driver, s.at)
        if p.conditions.min_spend is not None:
            assert line.subtotal_before >= p.conditions.min_spend
    if q.coupon_ids and q.payment_promotion_ids:
        assert s.policy.coupons_with_payment
    if len(q.coupon_ids) > 1:
        assert not any(held[i].template.exclusive for i in q.coupon_ids)
    points = [line for line in q.lines if line.kind is LineKind.POINTS]
    if points:
        rule = s.promotions.points
        assert rule is not None and s.driver.use_points
        assert q.points_used <= s.driver.points_balance
        assert points[0].amount.amount * rule.points_per_yuan == q.points_used
        assert points[0].amount.amount <= points[0].subtotal_before.amount * rule.max_share
    else:
        assert q.points_used == 0


def check_every_unused_coupon_has_one_true_reason(s: Scenario, q: Breakdown) -> None:
    unused = {u.instance_id: u.reason for u in q.unused}
    assert len(unused) == len(q.unused)
    assert set(unused) | set(q.coupon_ids) == {c.id for c in s.driver.coupons}
    assert not set(unused) & set(q.coupon_ids)
    for c in s.driver.coupons:
        if c.id in unused:
            reason = unused[c.id]
            assert (reason is Reason.NOT_AVAILABLE) == (c.state is not CouponState.AVAILABLE)
            eligible = oracle.coupon_ok(c, s.price, s.driver, s.at)
            assert eligible == (reason in (Reason.BELOW_MIN_SPEND, Reason.NOT_OPTIMAL))


def check_checkout_with_the_quoted_instruments_charges_the_quote(s: Scenario, q: Breakdown) -> None:
    again = price_with(
        s.fill, s.price, s.driver, s.promotions, s.policy, s.at, q.coupon_ids, q.payment_promotion_ids
    )
    assert again == q
    coupons = [c for c in s.driver.coupons if c.id in q.coupon_ids]
    pays = [p for p in s.promotions.payment if p.id in q.payment_promotion_ids]
    assert (
        oracle.payable(s.fill, s.price, s.driver, s.promotions, s.policy, coupons, pays)
        == q.payable.minor_units
    )


@PROPERTY
@given(scenarios())
def test_invariants_hold(s: Scenario) -> None:
    q = quote_price(s.fill, s.price, s.driver, s.promotions, s.policy, s.at)
    check_totals(s, q)
    check_no_discount_outside_its_rules(s, q)
    check_every_unused_coupon_has_one_true_reason(s, q)
    check_checkout_with_the_quoted_instruments_charges_the_quote(s, q)
