"""The driver's coupons, each with its state and, for a station and fill at hand, whether it applies on
its own and the first reason it does not (the checks, in the order, of the engine's explanation of unused
coupons: availability, eligibility, then the minimum spend measured at the coupon step)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from pricing import store
from pricing.effective import PricingRequest, driver_context, price_context
from pricing.eligibility import coupon_problem
from pricing.offers import CouponInstance, CouponState
from pricing.rules import Reason
from pricing.steps import apply_rules, base, coupon_rules


@dataclass(frozen=True)
class CouponFit:
    coupon: CouponInstance
    applies: bool | None  # None: no station and fill were asked about
    reason: Reason | None
    detail: str | None


def coupon_fits(
    conn: Connection, driver_id: str, at: datetime, asked: PricingRequest | None = None
) -> list[CouponFit]:
    """Every coupon the driver holds or held (by id); with `asked` (station, grade, fill) whether each
    applies there. PriceUnavailable when the station has no current price for the grade."""
    held = store.held_coupons(conn, driver_id, at)
    if asked is None:
        return [CouponFit(c, None, None, None) for c in held]
    price = price_context(conn, asked.station_id, asked.grade, at)
    driver = driver_context(conn, asked)
    policy, _ = store.load_policy(conn)
    _, volume, start = base(asked.fill, price, driver, policy)
    out = []
    for coupon in held:
        if coupon.state is not CouponState.AVAILABLE:
            out.append(CouponFit(coupon, False, Reason.NOT_AVAILABLE, f"coupon is {coupon.state.value}"))
            continue
        problem = coupon_problem(coupon, price, driver, at)
        if problem is not None:
            out.append(CouponFit(coupon, False, *problem))
        elif apply_rules(start, volume, coupon_rules([coupon])) is None:
            detail = f"{coupon.template.discount.label()}: subtotal at the coupon step is {start.subtotal}"
            out.append(CouponFit(coupon, False, Reason.BELOW_MIN_SPEND, detail))
        else:
            out.append(CouponFit(coupon, True, None, None))
    return out
