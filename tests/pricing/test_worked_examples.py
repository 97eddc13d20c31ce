"""Hand-worked quotes: every expected number is computed in the comments, not taken from the engine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from pricing.breakdown import LineKind
from pricing.fills import FillRequest
from pricing.offers import ALIPAY, WECHAT_PAY, CouponState, PointsRule, Promotions, StackingPolicy
from pricing.promotions import NotAllowed, price_with, quote_price
from pricing.rules import Conditions, Reason, Scope
from tests.pricing.brute_force import brute_force
from tests.pricing.builders import (
    AT,
    amount_off,
    coupon,
    driver,
    payment,
    per_litre_off,
    percent_off,
    station_92,
    yuan,
)

DEFAULT = StackingPolicy()


def test_the_issue_example_300_yuan_of_92() -> None:
    price = station_92(member={"gold": "0.10"})
    held = driver(
        coupon("c1", amount_off(200, 20)),
        member_level="gold",
        points_balance=500,
        payment_channels=frozenset({WECHAT_PAY}),
    )
    promos = Promotions(payment=(payment("wx5", WECHAT_PAY, amount_off(0, 5)),), points=PointsRule())
    quote = quote_price(FillRequest.by_amount(yuan(300)), price, held, promos, DEFAULT, AT)
    # litres = 300 / 7.89 = 38.0228 → 38.02 L
    assert quote.litres == D("38.02")
    assert quote.gross == yuan(300)
    # 直降 38.02 × 0.30 = 11.406 → 11.41 (288.59 left); member 38.02 × 0.10 = 3.802 → 3.80 (284.79 left);
    # 满200减20 on 284.79 → 20 (264.79); WeChat 立减5 → 5 (259.79); points: 500 = ¥5.00, cap 50% of
    # 259.79 = 129.895 → 129.89 (rounded down), so all 500 → payable 254.79.
    assert [(line.kind, line.amount) for line in quote.lines] == [
        (LineKind.STATION, yuan("11.41")),
        (LineKind.MEMBER, yuan("3.80")),
        (LineKind.COUPON, yuan(20)),
        (LineKind.PAYMENT, yuan(5)),
        (LineKind.POINTS, yuan(5)),
    ]
    assert [line.subtotal_before for line in quote.lines] == [
        yuan(300),
        yuan("288.59"),
        yuan("284.79"),
        yuan("264.79"),
        yuan("259.79"),
    ]
    assert quote.lines[2].reason == "满200减20: subtotal ¥284.79 ≥ ¥200.00"
    assert quote.payable == yuan("254.79")
    # 254.79 / 38.02 = 6.7015 → 6.70
    assert quote.effective_price == D("6.70")
    assert (quote.coupon_ids, quote.payment_promotion_ids, quote.points_used) == (("c1",), ("wx5",), 500)
    assert quote.payment_channel == WECHAT_PAY
    assert quote.total_discount == yuan("45.21")  # 11.41 + 3.80 + 20 + 5 + 5


def test_percent_coupon_beats_amount_coupon_and_the_loser_is_explained() -> None:
    # 40 L × 7.89 = 315.60; 直降 40 × 0.30 = 12.00 → 303.60.
    # 满200减20 gives 20; 10% of 303.60 = 30.36, capped at 25 → 25 wins: 278.60.
    held = driver(coupon("c-amount", amount_off(200, 20)), coupon("c-pct", percent_off(10, 25)))
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), DEFAULT, AT)
    assert quote.gross == yuan("315.60")
    assert quote.coupon_ids == ("c-pct",)
    assert quote.payable == yuan("278.60")
    assert [(u.instance_id, u.reason) for u in quote.unused] == [("c-amount", Reason.NOT_OPTIMAL)]


def test_two_coupons_when_the_policy_allows_apply_fixed_amounts_before_percentages() -> None:
    held = driver(coupon("c-pct", percent_off(10, 25)), coupon("c-amount", amount_off(200, 20)))
    policy = StackingPolicy(max_coupons=2)
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), policy, AT)
    # 303.60 − 20 = 283.60; 10% of 283.60 = 28.36, capped 25 → 258.60
    assert quote.coupon_ids == ("c-amount", "c-pct")
    assert [line.amount for line in quote.lines if line.kind is LineKind.COUPON] == [yuan(20), yuan(25)]
    assert quote.payable == yuan("258.60")


def test_per_litre_coupon_with_a_litre_cap() -> None:
    # 每升立减0.5 最多30升 on 40 L: 30 × 0.50 = 15.00; 303.60 − 15 = 288.60
    held = driver(coupon("c", per_litre_off("0.50", 30)))
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), DEFAULT, AT)
    assert quote.payable == yuan("288.60")
    assert quote.lines[-1].description == "每升立减0.50元(最多30升)"


def test_each_unused_coupon_says_why() -> None:
    late = AT + timedelta(days=1)
    held = driver(
        coupon("a-grade", amount_off(0, 9), conditions=Conditions(scope=Scope(grades=frozenset({"95"})))),
        coupon("b-station", amount_off(0, 9), conditions=Conditions(scope=Scope(stations=frozenset({"s2"})))),
        coupon("c-brand", amount_off(0, 9), conditions=Conditions(scope=Scope(brands=frozenset({"shell"})))),
        coupon("d-city", amount_off(0, 9), conditions=Conditions(scope=Scope(cities=frozenset({"北京市"})))),
        coupon("e-window", amount_off(0, 9), conditions=Conditions(valid_from=late)),
        coupon("f-expired", amount_off(0, 9), expires_at=AT),  # the window is half-open: expires at AT
        coupon("g-used", amount_off(0, 9), state=CouponState.USED),
        coupon("h-reserved", amount_off(0, 9), state=CouponState.RESERVED),
        coupon("i-first", amount_off(0, 9), conditions=Conditions(first_order_only=True)),
        coupon("j-limit", amount_off(0, 9), template_id="tj", conditions=Conditions(per_user_limit=2)),
        coupon("k-minspend", amount_off(0, 9), conditions=Conditions(min_spend=yuan(400))),
        coupon("l-threshold", amount_off(500, 50)),
        coupon(
            "m-city-name", amount_off(0, 3), conditions=Conditions(scope=Scope(cities=frozenset({"上海市"})))
        ),
        usage_counts={"tj": 2},
    )
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), DEFAULT, AT)
    # everything worth ¥9 or ¥50 is unusable; the city matched by name is the only one: 303.60 − 3
    assert quote.coupon_ids == ("m-city-name",)
    assert quote.payable == yuan("300.60")
    assert {u.instance_id: u.reason for u in quote.unused} == {
        "a-grade": Reason.OUT_OF_SCOPE_GRADE,
        "b-station": Reason.OUT_OF_SCOPE_STATION,
        "c-brand": Reason.OUT_OF_SCOPE_BRAND,
        "d-city": Reason.OUT_OF_SCOPE_CITY,
        "e-window": Reason.OUTSIDE_WINDOW,
        "f-expired": Reason.OUTSIDE_WINDOW,
        "g-used": Reason.NOT_AVAILABLE,
        "h-reserved": Reason.NOT_AVAILABLE,
        "i-first": Reason.FIRST_ORDER_ONLY,
        "j-limit": Reason.PER_USER_LIMIT,
        "k-minspend": Reason.BELOW_MIN_SPEND,
        "l-threshold": Reason.BELOW_MIN_SPEND,
    }


def test_tiny_fill_is_clamped_to_one_fen() -> None:
    # 0.01 L × 7.89 = 0.0789 → gross 0.08; 直降 0.01 × 0.30 = 0.003 → 0.00 (no line);
    # 立减5 clamped to 0.08 − 0.01 = 0.07 → payable 0.01; no room left for points.
    held = driver(coupon("c", amount_off(0, 5)), points_balance=1000)
    quote = quote_price(FillRequest.by_litres("0.01"), station_92(), held, Promotions(), DEFAULT, AT)
    assert quote.gross == yuan("0.08")
    assert [(line.kind, line.amount) for line in quote.lines] == [(LineKind.COUPON, yuan("0.07"))]
    assert "clamped" in quote.lines[0].reason
    assert quote.payable == yuan("0.01")
    assert quote.points_used == 0
    assert quote.effective_price == D("1.00")  # 0.01 / 0.01 L


def test_points_are_capped_at_the_share_of_the_subtotal() -> None:
    # 40 L: 303.60 after 直降. Cap 50% → 151.80 → 15180 points; payable 151.80.
    held = driver(points_balance=100_000)
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), DEFAULT, AT)
    assert (quote.points_used, quote.payable) == (15180, yuan("151.80"))
    # 1000 points = ¥1, cap 30%: 303.60 × 0.3 = 91.08 → 91080 points
    rule = PointsRule(points_per_yuan=1000, max_share=D("0.3"))
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(points=rule), DEFAULT, AT)
    assert (quote.points_used, quote.payable) == (91080, yuan("212.52"))
    # a driver who opts out of points, or no points rule
    opted_out = driver(points_balance=100_000, use_points=False)
    assert (
        quote_price(
            FillRequest.by_litres("40"), station_92(), opted_out, Promotions(), DEFAULT, AT
        ).points_used
        == 0
    )
    none = Promotions(points=None)
    assert quote_price(FillRequest.by_litres("40"), station_92(), held, none, DEFAULT, AT).payable == yuan(
        "303.60"
    )


def test_payment_promotions_need_the_drivers_channel_and_their_minimum() -> None:
    promos = Promotions(
        payment=(
            payment("ali10", ALIPAY, amount_off(0, 10)),
            payment("wx-big", WECHAT_PAY, amount_off(0, 30), Conditions(min_spend=yuan(400))),
            payment("wx3", WECHAT_PAY, percent_off(1)),
        )
    )
    held = driver(payment_channels=frozenset({WECHAT_PAY}))
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, promos, DEFAULT, AT)
    # no Alipay; 303.60 < 400; 1% of 303.60 = 3.036 → 3.04 → 300.56
    assert quote.payment_promotion_ids == ("wx3",)
    assert quote.payable == yuan("300.56")


def test_coupons_not_combined_with_payment_when_the_policy_says_so() -> None:
    policy = StackingPolicy(coupons_with_payment=False)
    held = driver(coupon("c", amount_off(0, 20)), payment_channels=frozenset({WECHAT_PAY}))
    small = Promotions(payment=(payment("wx5", WECHAT_PAY, amount_off(0, 5)),))
    big = Promotions(payment=(payment("wx30", WECHAT_PAY, amount_off(0, 30)),))
    fill = FillRequest.by_litres("40")
    q_small = quote_price(fill, station_92(), held, small, policy, AT)
    assert (q_small.coupon_ids, q_small.payment_promotion_ids, q_small.payable) == (
        ("c",),
        (),
        yuan("283.60"),
    )
    q_big = quote_price(fill, station_92(), held, big, policy, AT)
    assert (q_big.coupon_ids, q_big.payment_promotion_ids, q_big.payable) == ((), ("wx30",), yuan("273.60"))
    assert q_big.unused[0].reason is Reason.NOT_OPTIMAL
    # with the default policy both apply: 303.60 − 20 − 30
    assert quote_price(fill, station_92(), held, big, DEFAULT, AT).payable == yuan("253.60")


def test_exclusive_coupon_is_never_combined() -> None:
    held = driver(
        coupon("a", amount_off(0, 20), exclusive=True),
        coupon("b", amount_off(0, 15)),
        coupon("c", amount_off(0, 10)),
    )
    quote = quote_price(
        FillRequest.by_litres("40"), station_92(), held, Promotions(), StackingPolicy(max_coupons=2), AT
    )
    # a alone saves 20; b + c save 25
    assert quote.coupon_ids == ("b", "c")
    with pytest.raises(NotAllowed):
        price_with(
            FillRequest.by_litres("40"),
            station_92(),
            held,
            Promotions(),
            StackingPolicy(max_coupons=2),
            AT,
            coupon_ids=("a", "b"),
        )


def test_ties_prefer_fewer_instruments_then_lower_ids() -> None:
    held = driver(
        coupon("c2", amount_off(0, 10), template_id="t"),
        coupon("c1", amount_off(0, 10), template_id="t"),
        coupon("c0", amount_off(300, 10), template_id="u"),
    )
    quote = quote_price(FillRequest.by_litres("40"), station_92(), held, Promotions(), DEFAULT, AT)
    assert quote.coupon_ids == ("c0",)  # all three save 10; "c0" is the lowest id
    # a payment promotion worth ¥0.00 here is not taken: fewer instruments win the tie
    zero = Promotions(payment=(payment("wx", WECHAT_PAY, per_litre_off("0.001")),))
    q = quote_price(
        FillRequest.by_litres("1"),
        station_92(),
        driver(payment_channels=frozenset({WECHAT_PAY})),
        zero,
        DEFAULT,
        AT,
    )
    assert q.payment_promotion_ids == ()  # 1 × 0.001 = 0.001 → 0.00 saves nothing


def test_fill_up_estimates_litres_rounding_down() -> None:
    # 55 L tank, 12.3% full: 55 × 0.877 = 48.235 → 48.23 L (down: never more than fits)
    fill = FillRequest.fill_up("55", "0.123")
    assert fill.estimated_litres() == D("48.23")
    quote = quote_price(fill, station_92(), driver(), Promotions(), DEFAULT, AT)
    # gross 48.23 × 7.89 = 380.5347 → 380.53; 直降 48.23 × 0.30 = 14.469 → 14.47 → 366.06
    assert (quote.litres, quote.gross, quote.payable) == (D("48.23"), yuan("380.53"), yuan("366.06"))
    assert FillRequest.fill_up(50, "0.3").estimated_litres() == D("35.00")
    for capacity, level in (("50", "1"), ("0", "0.5"), ("50", "-0.1")):
        with pytest.raises(ValueError):
            FillRequest.fill_up(capacity, level)


def test_price_with_the_quoted_instruments_charges_the_quote() -> None:
    held = driver(
        coupon("c1", amount_off(200, 20)),
        coupon("c2", percent_off(5)),
        points_balance=800,
        payment_channels=frozenset({WECHAT_PAY}),
    )
    promos = Promotions(payment=(payment("wx5", WECHAT_PAY, amount_off(100, 5)),))
    fill = FillRequest.by_amount(yuan("250"))
    quote = quote_price(fill, station_92(), held, promos, DEFAULT, AT)
    again = price_with(
        fill, station_92(), held, promos, DEFAULT, AT, quote.coupon_ids, quote.payment_promotion_ids
    )
    assert again == quote
    assert quote == brute_force(fill, station_92(), held, promos, DEFAULT, AT)
    with pytest.raises(NotAllowed):
        price_with(
            fill, station_92(), held, promos, DEFAULT, AT, ("c1", "c2")
        )  # two coupons, policy allows one
    with pytest.raises(NotAllowed):
        price_with(fill, station_92(), held, promos, DEFAULT, AT, ("nope",))
    with pytest.raises(NotAllowed):
        price_with(
            FillRequest.by_amount(yuan(50)), station_92(), held, promos, DEFAULT, AT, ("c1",)
        )  # below 200


def test_eur_prices_keep_three_decimals() -> None:
    from pricing.context import PriceContext
    from pricing.money import Money

    price = PriceContext("fr1", "total", "75056", "E10", D("1.789"), D("1.759"), currency="EUR")
    quote = quote_price(FillRequest.by_litres("30"), price, driver(), Promotions(), DEFAULT, AT)
    # 30 × 1.789 = 53.67; 30 × 0.030 = 0.90 → 52.77; 52.77 / 30 = 1.759
    assert (quote.gross, quote.payable, quote.effective_price) == (
        Money.of("53.67", "EUR"),
        Money.of("52.77", "EUR"),
        D("1.759"),
    )
