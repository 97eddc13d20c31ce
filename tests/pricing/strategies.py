"""Hypothesis strategies: random stations, drivers, coupon templates and instances, payment promotions,
points rules, stacking policies and fills, over a small universe so that scopes both hit and miss."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from pricing.context import DriverContext, PriceContext
from pricing.fills import FillRequest
from pricing.money import Money
from pricing.offers import (
    ALIPAY,
    UNIONPAY,
    WECHAT_PAY,
    CouponInstance,
    CouponState,
    CouponTemplate,
    PaymentPromotion,
    PointsRule,
    Promotions,
    StackingPolicy,
)
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff, Scope
from tests.pricing.builders import AT

GRADES, STATIONS, BRANDS, CITIES = (
    ("92", "95"),
    ("s1", "s2"),
    ("sinopec", "shell"),
    ("310100", "上海市", "440300"),
)
CHANNELS = (WECHAT_PAY, ALIPAY, UNIONPAY)
LEVELS = ("silver", "gold")


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda n: Decimal(n) / 100)


def money(lo: int, hi: int) -> st.SearchStrategy[Money]:
    return cents(lo, hi).map(Money)


def subset(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=len(values) - 1)


discounts: st.SearchStrategy[Discount] = st.one_of(
    st.builds(AmountOff, money(0, 40_000), money(1, 6_000)),
    st.builds(PercentOff, st.integers(1, 30).map(Decimal), st.none() | money(1, 5_000)),
    st.builds(PerLitreOff, cents(1, 100), st.none() | st.integers(1, 60).map(Decimal)),
)

moments = st.none() | st.integers(-3, 3).map(lambda d: AT + timedelta(days=d))

conditions = st.builds(
    Conditions,
    scope=st.builds(Scope, subset(GRADES), subset(STATIONS), subset(BRANDS), subset(CITIES)),
    valid_from=moments,
    valid_to=moments,
    min_spend=st.none() | money(0, 40_000),
    first_order_only=st.booleans(),
    per_user_limit=st.none() | st.integers(0, 3),
)


@dataclass(frozen=True)
class Scenario:
    fill: FillRequest
    price: PriceContext
    driver: DriverContext
    promotions: Promotions
    policy: StackingPolicy
    at: datetime


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    pump = draw(cents(500, 999))
    price = PriceContext(
        station_id=draw(st.sampled_from(STATIONS)),
        brand=draw(st.sampled_from(BRANDS)),
        city=draw(st.sampled_from(("310100", "440300"))),
        city_name=draw(st.sampled_from(("上海市", None))),
        grade=draw(st.sampled_from(GRADES)),
        pump_price=pump,
        platform_price=pump - draw(cents(0, 60)),
        member_per_litre={(level, grade): draw(cents(0, 30)) for level in LEVELS for grade in GRADES},
    )
    templates = [
        CouponTemplate(
            f"t{i}",
            draw(discounts),
            draw(conditions),
            exclusive=draw(st.booleans()),
            stacks_with_payment=draw(st.booleans()),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    coupons = tuple(
        CouponInstance(
            f"c{i}", draw(st.sampled_from(templates)), draw(st.sampled_from(CouponState)), draw(moments)
        )
        for i in range(draw(st.integers(0, 5)))
    )
    payments = tuple(
        PaymentPromotion(
            f"p{i}",
            draw(st.sampled_from(CHANNELS)),
            draw(discounts),
            draw(conditions),
            stacks_with_coupons=draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    driver = DriverContext(
        driver_id="d",
        member_level=draw(st.none() | st.sampled_from(LEVELS)),
        is_first_order=draw(st.booleans()),
        coupons=coupons,
        usage_counts={t.id: draw(st.integers(0, 3)) for t in templates},
        payment_usage_counts={p.id: draw(st.integers(0, 2)) for p in payments},
        points_balance=draw(st.integers(0, 30_000)),
        payment_channels=draw(st.frozensets(st.sampled_from(CHANNELS))),
        use_points=draw(st.booleans()),
    )
    points = draw(
        st.none()
        | st.builds(
            PointsRule, st.sampled_from((100, 200, 1000)), st.integers(0, 20).map(lambda n: Decimal(n) / 20)
        )
    )
    policy = StackingPolicy(
        max_coupons=draw(st.integers(0, 2)),
        max_payment_promotions=draw(st.integers(0, 2)),
        coupons_with_payment=draw(st.booleans()),
        station_discount=draw(st.booleans()),
        member_discount=draw(st.booleans()),
    )
    fill = draw(
        st.one_of(
            money(5, 60_000).map(FillRequest.by_amount),
            cents(1, 8_000).map(FillRequest.by_litres),
            st.builds(FillRequest.fill_up, st.integers(30, 80).map(Decimal), cents(0, 99)),
        )
    )
    return Scenario(fill, price, driver, Promotions(payments, points), policy, AT)
