"""Checks on a posted price (pure): each failing rule gives a reason; staleness is a flag, not a reject.

Rules, in order: unknown tier, unknown grade, unknown currency, price <= 0, unit factor (fen given as yuan,
x100, or yuan given as fen, x0.01: judged against the guide price when one is known, else against the
currency's plausible range), outside the plausible range, above the guide price in force at effective_from,
effective_from too far in the future, platform above pump, member above platform (or pump, when the
station has no platform price).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from geo.errors import UnknownGrade
from geo.grades import normalize_grade
from pricing.money import PRICE_QUANTUM, SYMBOLS, plain

TIER = re.compile(r"^(pump|platform|attended|member:[a-z0-9_-]+)$")
HUNDRED = Decimal(100)
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Per litre (CNG per m3/kg): anything outside is a typing or unit error, never a real pump price.
PLAUSIBLE: dict[str, tuple[Decimal, Decimal]] = {
    "CNY": (Decimal("2.00"), Decimal("20.00")),
    "EUR": (Decimal("0.200"), Decimal("5.000")),
}


@dataclass(frozen=True)
class Rules:
    stale_after: timedelta = timedelta(hours=48)
    max_future: timedelta = timedelta(days=1)
    plausible: dict[str, tuple[Decimal, Decimal]] = field(default_factory=lambda: dict(PLAUSIBLE))


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Guide:
    """The guide (maximum retail) price in force for a station's zone and grade."""

    price: Decimal
    currency: str
    province_code: str
    zone_code: str
    effective_from: datetime

    def label(self) -> str:
        day = self.effective_from.astimezone(SHANGHAI).date().isoformat()
        return f"{money(self.price, self.currency)} ({self.zone_code}, from {day})"


@dataclass(frozen=True)
class Quote:
    """One posted price: what a station or a feed says."""

    grade: str
    tier: str
    price: Decimal
    currency: str
    effective_from: datetime


@dataclass(frozen=True)
class Context:
    """What the quote is compared with: the guide and the station's pump/platform prices at effective_from."""

    guide: Guide | None = None
    pump: Decimal | None = None
    platform: Decimal | None = None


def money(value: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{plain(value)}" if symbol else f"{plain(value)} {currency}"


def check_tier(tier: str) -> str | None:
    return None if TIER.match(tier) else f"unknown tier {tier!r}: pump, platform, attended or member:<level>"


def grade_of(value: str) -> str | None:
    try:
        return normalize_grade(value)
    except UnknownGrade:
        return None


def _unit_error(quote: Quote, guide: Guide | None, low: Decimal, high: Decimal) -> str | None:
    price, cur = quote.price, quote.currency
    shown = money(price, cur)
    lo, hi = (guide.price / 2, guide.price) if guide is not None and guide.currency == cur else (low, high)
    against = f"guide {guide.label()}" if guide is not None and guide.currency == cur else "plausible range"
    if price > hi and lo <= price / HUNDRED <= hi:
        fixed = money(price / HUNDRED, cur)
        return f"unit error: {shown} looks like fen given as yuan (x100 of {fixed}; {against})"
    if price < lo and lo <= price * HUNDRED <= hi:
        fixed = money(price * HUNDRED, cur)
        return f"unit error: {shown} looks like yuan given as fen (x0.01 of {fixed}; {against})"
    return None


def check(quote: Quote, context: Context, now: datetime, rules: Rules = DEFAULT_RULES) -> str | None:
    """The reason the quote must be rejected, or None when it is acceptable."""
    if (reason := check_tier(quote.tier)) is not None:
        return reason
    if grade_of(quote.grade) != quote.grade:
        return f"unknown grade {quote.grade!r}"
    if quote.currency not in rules.plausible or quote.currency not in PRICE_QUANTUM:
        return f"unknown currency {quote.currency!r}"
    price, cur = quote.price, quote.currency
    if price <= 0:
        return f"price must be positive, got {plain(price)}"
    low, high = rules.plausible[cur]
    if (reason := _unit_error(quote, context.guide, low, high)) is not None:
        return reason
    if not low <= price <= high:
        return f"implausible price {money(price, cur)}: outside {money(low, cur)}..{money(high, cur)}"
    guide = context.guide
    if guide is not None and guide.currency == cur and price > guide.price:
        return f"above guide {guide.label()}: {money(price, cur)}"
    if quote.effective_from > now + rules.max_future:
        return (
            f"effective_from {quote.effective_from.isoformat()} is in the future "
            f"(more than {rules.max_future} ahead)"
        )
    if quote.tier == "platform" and context.pump is not None and price > context.pump:
        return f"platform price {money(price, cur)} above pump price {money(context.pump, cur)}"
    if quote.tier.startswith("member:"):
        ref, what = (context.platform, "platform") if context.platform is not None else (context.pump, "pump")
        if ref is not None and price > ref:
            return f"{quote.tier} price {money(price, cur)} above {what} price {money(ref, cur)}"
    return None


def is_stale(confirmed_at: datetime, as_of: datetime, rules: Rules = DEFAULT_RULES) -> bool:
    """Not confirmed within `stale_after` before as_of (a confirmation after as_of counts as fresh)."""
    return as_of - confirmed_at > rules.stale_after
