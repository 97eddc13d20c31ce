"""What a driver reads, Chinese first: the reasons a coupon does not apply and the coupon states, in
Chinese (the default) and English (Accept-Language: en). The machine-readable codes stay as they are."""

from __future__ import annotations

from typing import Literal

from pricing.offers import CouponState
from pricing.rules import Reason

Language = Literal["zh", "en"]

REASONS: dict[Reason, tuple[str, str]] = {
    Reason.NOT_AVAILABLE: ("优惠券当前不可用", "the coupon cannot be used now"),
    Reason.OUTSIDE_WINDOW: ("不在优惠券有效期内", "outside the coupon's validity period"),
    Reason.OUT_OF_SCOPE_GRADE: ("不适用于该油品", "not valid for this fuel grade"),
    Reason.OUT_OF_SCOPE_STATION: ("不适用于该加油站", "not valid at this station"),
    Reason.OUT_OF_SCOPE_BRAND: ("不适用于该品牌", "not valid for this brand"),
    Reason.OUT_OF_SCOPE_CITY: ("不适用于该城市", "not valid in this city"),
    Reason.FIRST_ORDER_ONLY: ("仅限首单使用", "first order only"),
    Reason.PER_USER_LIMIT: ("已达每人使用次数上限", "per-user limit reached"),
    Reason.BELOW_MIN_SPEND: ("未达到使用门槛", "the minimum spend is not reached"),
    Reason.OTHER_CURRENCY: ("币种不符", "in another currency"),
    Reason.NOT_OPTIMAL: ("有更优惠的组合", "another combination costs less"),
    Reason.NOT_CHOSEN: ("未选择该优惠券", "not chosen"),
}
STATES: dict[CouponState, tuple[str, str]] = {
    CouponState.AVAILABLE: ("可使用", "available"),
    CouponState.RESERVED: ("已锁定（订单处理中）", "held by an order in progress"),
    CouponState.USED: ("已使用", "used"),
    CouponState.EXPIRED: ("已过期", "expired"),
}


def member_line(level_name: str, grade: str, per_litre: str, language: Language) -> str:
    """The member discount's line as a driver reads it (the level's display name, never its code);
    per_litre: the amount with at least two places ('0.10')."""
    if language == "en":
        return f"{level_name} {grade}# {per_litre} yuan/L off"
    return f"{level_name} {grade}# 每升立减{per_litre}元"


def reason_text(reason: Reason, language: Language) -> str:
    zh, en = REASONS[reason]
    return en if language == "en" else zh


def state_text(state: CouponState, language: Language) -> str:
    zh, en = STATES[state]
    return en if language == "en" else zh
