"""pricing/store.py against the real PostGIS: the stored promotions priced by the engine, coupon reservations
(all-or-nothing, expiry, the race between two transactions), template and instance expiry, the checks."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from pricing import store
from pricing.fills import FillRequest
from pricing.offers import CouponState, CouponTemplate, PaymentPromotion, PointsRule, StackingPolicy
from pricing.promotions import quote_price
from pricing.rules import Conditions, Reason, Scope
from tests.pricing.builders import AT, amount_off, per_litre_off, percent_off, station_92, yuan


def _template(tid: str, discount: object, **conditions: object) -> CouponTemplate:
    return CouponTemplate(tid, discount, Conditions(**conditions), name=tid)  # type: ignore[arg-type]


@pytest.fixture
def setup(engine: Engine) -> Engine:
    """Driver d1 (gold, 3 orders, 1000 points); templates 满200减20, 10% capped at 15, 95#-only 0.50/L."""
    with engine.begin() as conn:
        store.put_driver(conn, "d1", member_level="gold", completed_orders=3, points_balance=1000)
        store.save_template(conn, _template("t-200-20", amount_off(200, 20)), create=True)
        store.save_template(conn, _template("t-pct", percent_off(10, 15)), create=True)
        store.save_template(
            conn, _template("t-95", per_litre_off("0.50"), scope=Scope(grades=frozenset({"95"}))), create=True
        )
        store.set_member_level(conn, "gold", {None: D("0.10"), "92": D("0.20")})
        promo = PaymentPromotion("wx-5", "wechat_pay", amount_off(0, 5), Conditions(min_spend=yuan(100)))
        store.save_payment_promotion(conn, promo, create=True)
    return engine


def _issue(engine: Engine, template_id: str, count: int = 1, driver: str = "d1", **kw: object) -> list[str]:
    with engine.begin() as conn:
        return store.issue_coupons(conn, driver, template_id, count, **kw)  # type: ignore[arg-type]


def _context(engine: Engine, at=AT, **kw: object):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return store.load_driver_context(conn, "d1", at, **kw)  # type: ignore[arg-type]


def test_stored_promotions_price_through_the_engine(setup: Engine) -> None:
    (c20,), (cpct,), (c95,) = _issue(setup, "t-200-20"), _issue(setup, "t-pct"), _issue(setup, "t-95")
    with setup.connect() as conn:
        driver = store.load_driver_context(conn, "d1", AT, payment_channels={"wechat_pay"})
        promotions = store.load_promotions(conn, AT)
        policy, points = store.load_policy(conn)
        member = store.member_per_litre(conn, "92")
    assert member == {("gold", "92"): D("0.200")}
    assert (policy, points) == (StackingPolicy(), PointsRule())
    assert not driver.is_first_order and driver.points_balance == 1000 and driver.member_level == "gold"
    price = station_92({"gold": "0.20"})
    quote = quote_price(FillRequest.by_amount(yuan(300)), price, driver, promotions, policy, AT)
    # ¥300 at 7.89 = 38.02 L; 直降 0.30 × 38.02 = 11.41 → 288.59; gold 0.20 × 38.02 = 7.60 → 280.99;
    # 满200减20 → 260.99 (10% would be 28.10, capped at 15); 微信 -5 → 255.99; 1000 points = ¥10 → 245.99.
    assert quote.litres == D("38.02")
    assert [line.amount for line in quote.lines] == [yuan("11.41"), yuan("7.60"), yuan(20), yuan(5), yuan(10)]
    assert (
        quote.coupon_ids == (c20,) and quote.payment_promotion_ids == ("wx-5",) and quote.points_used == 1000
    )
    assert quote.payable == yuan("245.99")
    unused = {u.instance_id: u.reason for u in quote.unused}
    assert unused == {cpct: Reason.NOT_OPTIMAL, c95: Reason.OUT_OF_SCOPE_GRADE}


def test_member_levels_all_grades_row_and_first_order(setup: Engine) -> None:
    with setup.begin() as conn:
        assert store.member_per_litre(conn, "95") == {("gold", "95"): D("0.100")}
        store.put_driver(conn, "d1", member_level=None, completed_orders=0, points_balance=0)
    driver = _context(setup)
    assert driver.is_first_order and driver.member_level is None and driver.points_balance == 0


def test_policy_round_trip_and_points_off(engine: Engine) -> None:
    policy = StackingPolicy(max_coupons=2, max_payment_promotions=0, coupons_with_payment=False)
    with engine.begin() as conn:
        store.set_policy(conn, policy, None)
        assert store.load_policy(conn) == (policy, None)
        store.set_policy(conn, StackingPolicy(), PointsRule(200, D("0.3")))
        assert store.load_policy(conn) == (StackingPolicy(), PointsRule(200, D("0.300")))


def test_template_update_and_errors(setup: Engine) -> None:
    with setup.begin() as conn:
        store.save_template(conn, _template("t-200-20", amount_off(150, 12), per_user_limit=2), create=False)
        ((updated, currency),) = store.templates(conn, ["t-200-20"])
        assert updated.discount == amount_off(150, 12) and updated.conditions.per_user_limit == 2
        assert currency == "CNY"
        with pytest.raises(store.AlreadyExists):
            store.save_template(conn, _template("t-pct", percent_off(5)), create=True)
        with pytest.raises(store.TemplateNotFound):
            store.save_template(conn, _template("nope", percent_off(5)), create=False)
        # A driver id never seen before becomes a new driver (a welcome coupon after sign-in).
        [welcome] = store.issue_coupons(conn, "ghost", "t-pct", 1)
        ghost = store.load_driver_context(conn, "ghost", AT, known_only=True)
        assert [c.id for c in ghost.coupons] == [welcome] and ghost.is_first_order
        with pytest.raises(store.TemplateNotFound):
            store.issue_coupons(conn, "d1", "nope", 1)


def test_reserve_release_consume(setup: Engine) -> None:
    a, b = _issue(setup, "t-200-20", 2)
    with setup.begin() as conn:
        assert store.reserve(conn, "d1", [a], "q1", 60, AT) == AT + timedelta(seconds=60)
    states = {c.id: c.state for c in _context(setup).coupons}
    assert states == {a: CouponState.RESERVED, b: CouponState.AVAILABLE}
    assert _context(setup).usage_counts == {"t-200-20": 1}  # a live reservation counts against limits
    assert {c.id: c.state for c in _context(setup, holding_ref="q1").coupons}[a] is CouponState.AVAILABLE
    with setup.begin() as conn, pytest.raises(store.CouponsUnavailable, match="reserved"):
        store.reserve(conn, "d1", [b, a], "q2", 60, AT)
    assert {c.id: c.state for c in _context(setup).coupons}[b] is CouponState.AVAILABLE  # all or nothing
    with setup.begin() as conn:
        assert store.release(conn, "q1") == [a]
        assert store.release(conn, "q1") == []
        with pytest.raises(store.ReservationNotFound):
            store.consume(conn, "q1", AT)
        store.reserve(conn, "d1", [a, b], "order-7", 60, AT)
        assert store.consume(conn, "order-7", AT + timedelta(seconds=10)) == [a, b]
        assert store.consume(conn, "order-7", AT + timedelta(seconds=99)) == [a, b]  # idempotent
        with pytest.raises(store.CouponsUnavailable, match="used"):
            store.reserve(conn, "d1", [a], "q3", 60, AT)
        with pytest.raises(store.CouponsUnavailable, match="unknown"):
            store.reserve(conn, "d1", ["999999"], "q3", 60, AT)
    driver = _context(setup)
    assert driver.coupons == () and driver.usage_counts == {"t-200-20": 2}


def test_reservation_expiry(setup: Engine) -> None:
    (a,) = _issue(setup, "t-pct")
    later = AT + timedelta(seconds=61)
    with setup.begin() as conn:
        store.reserve(conn, "d1", [a], "q1", 60, AT)
    assert _context(setup, at=later).coupons[0].state is CouponState.AVAILABLE
    with setup.begin() as conn:
        with pytest.raises(store.ReservationExpired):
            store.consume(conn, "q1", later)
        store.reserve(conn, "d1", [a], "q1", 60, later)  # the same ref may hold it again
        assert store.consume(conn, "q1", later) == [a]
    (b,) = _issue(setup, "t-pct")
    with setup.begin() as conn:
        store.reserve(conn, "d1", [b], "q2", 60, AT)
        store.reserve(conn, "d1", [b], "q3", 60, later)  # q2's hold ran out: q3 takes it
        with pytest.raises(store.ReservationNotFound):
            store.consume(conn, "q2", later)


def test_template_and_instance_expiry(setup: Engine) -> None:
    with setup.begin() as conn:
        store.save_template(
            conn, _template("t-short", amount_off(0, 3), valid_to=AT + timedelta(hours=1)), create=True
        )
    (a,) = _issue(setup, "t-short")
    (b,) = _issue(setup, "t-pct", expires_at=AT + timedelta(minutes=5))
    assert {c.id: c.state for c in _context(setup).coupons} == {
        a: CouponState.AVAILABLE,
        b: CouponState.AVAILABLE,
    }
    at = AT + timedelta(hours=2)
    assert {c.id: c.state for c in _context(setup, at=at).coupons} == {
        a: CouponState.EXPIRED,
        b: CouponState.EXPIRED,
    }
    with setup.begin() as conn, pytest.raises(store.CouponsUnavailable, match="expired"):
        store.reserve(conn, "d1", [a], "q1", 60, at)


def test_per_user_limit_holds_across_reservations(setup: Engine) -> None:
    with setup.begin() as conn:
        store.save_template(conn, _template("t-once", amount_off(0, 8), per_user_limit=1), create=True)
    a, b = _issue(setup, "t-once", 2)
    with setup.begin() as conn, pytest.raises(store.CouponsUnavailable, match="per-user limit"):
        store.reserve(conn, "d1", [a, b], "q1", 60, AT)
    with setup.begin() as conn:
        store.reserve(conn, "d1", [a], "q1", 60, AT)
        with pytest.raises(store.CouponsUnavailable, match="per-user limit"):
            store.reserve(conn, "d1", [b], "q2", 60, AT)


def test_two_transactions_race_for_one_coupon(setup: Engine) -> None:
    (a,) = _issue(setup, "t-200-20")
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def attempt(ref: str) -> None:
        try:
            with setup.begin() as conn:
                barrier.wait(timeout=10)
                store.reserve(conn, "d1", [a], ref, 60, AT)
                time.sleep(0.3)  # hold the transaction open while the other one tries
            outcome[ref] = "won"
        except store.CouponsUnavailable:
            outcome[ref] = "lost"

    threads = [threading.Thread(target=attempt, args=(ref,)) for ref in ("r1", "r2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(outcome.values()) == ["lost", "won"]
    winner = next(ref for ref, result in outcome.items() if result == "won")
    with setup.connect() as conn:
        assert conn.execute(text("SELECT reservation_ref FROM coupon_instances")).scalar_one() == winner


@pytest.mark.parametrize(
    "columns",
    [
        "kind, percent) VALUES ('bad', 'percent_off', 100",
        "kind, amount, threshold) VALUES ('bad', 'amount_off', 0, 0",
        "kind, per_litre, amount, threshold) VALUES ('bad', 'per_litre_off', 0.5, 5, 0",
        (
            "kind, percent, valid_from, valid_to) "
            "VALUES ('bad', 'percent_off', 5, now(), now() - interval '1 day'"
        ),
        "kind, percent, min_spend) VALUES ('bad', 'percent_off', 5, 0",
    ],
)
def test_database_refuses_nonsense_rules(engine: Engine, columns: str) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(f"INSERT INTO coupon_templates (id, {columns})"))
