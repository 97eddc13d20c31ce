"""The three kinds of discount an operator can declare, and the conditions (scope, window, minimum spend ...).

Each discount is measured on the running subtotal it is applied to (see docs/pricing-rules.md) and rounded to
the fen half-up; clamping to leave ¥0.01 is done by the engine, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pricing.money import Money, litres, per_litre_amount, per_litre_text, plain, to_decimal


class Reason(StrEnum):
    """Why a coupon (or payment promotion) does not apply."""

    NOT_AVAILABLE = "not available"
    OUTSIDE_WINDOW = "outside window"
    OUT_OF_SCOPE_GRADE = "out of scope: grade"
    OUT_OF_SCOPE_STATION = "out of scope: station"
    OUT_OF_SCOPE_BRAND = "out of scope: brand"
    OUT_OF_SCOPE_CITY = "out of scope: city"
    FIRST_ORDER_ONLY = "first order only"
    PER_USER_LIMIT = "per-user limit reached"
    BELOW_MIN_SPEND = "below minimum spend"
    OTHER_CURRENCY = "other currency"
    NOT_OPTIMAL = "not optimal"
    NOT_CHOSEN = "not chosen"


@dataclass(frozen=True)
class AmountOff:
    """满{threshold}减{amount}: a fixed amount off when the subtotal reaches the threshold."""

    threshold: Money
    amount: Money

    rank = 0  # order of application among instruments of one step: fixed amounts first

    def __post_init__(self) -> None:
        if self.amount <= Money.zero(self.amount.currency) or self.threshold < Money.zero(
            self.amount.currency
        ):
            raise ValueError("amount_off needs amount > 0 and threshold >= 0")

    def label(self) -> str:
        if self.threshold.amount == 0:
            return f"立减{self.amount.short()}"
        return f"满{self.threshold.short()}减{self.amount.short()}"

    def compute(self, subtotal: Money, volume: Decimal) -> tuple[Money | None, str]:
        if subtotal < self.threshold:
            return None, f"{self.label()}: subtotal {subtotal} < {self.threshold}"
        return self.amount, f"{self.label()}: subtotal {subtotal} ≥ {self.threshold}"


@dataclass(frozen=True)
class PerLitreOff:
    """每升立减: per_litre off each litre, up to litre_cap litres when given."""

    per_litre: Decimal
    litre_cap: Decimal | None = None

    rank = 1

    def __post_init__(self) -> None:
        if to_decimal(self.per_litre, "per_litre") <= 0:
            raise ValueError("per_litre_off needs per_litre > 0")
        if self.litre_cap is not None and litres(self.litre_cap) <= 0:
            raise ValueError("litre_cap must be > 0")

    def label(self) -> str:
        cap = f"(最多{plain(self.litre_cap)}升)" if self.litre_cap is not None else ""
        return f"每升立减{per_litre_amount(to_decimal(self.per_litre, 'per_litre'))}元{cap}"

    def compute(self, subtotal: Money, volume: Decimal) -> tuple[Money | None, str]:
        counted = volume if self.litre_cap is None else min(volume, litres(self.litre_cap))
        amount = Money(counted * self.per_litre, subtotal.currency)
        each = per_litre_text(to_decimal(self.per_litre, "per_litre"), subtotal.currency)
        return amount, f"{self.label()}: {each} × {counted}升 = {amount}"


@dataclass(frozen=True)
class PercentOff:
    """percent % off the subtotal (10 = 9折), at most cap when given."""

    percent: Decimal
    cap: Money | None = None

    rank = 2  # percentages last: they are measured on what the fixed discounts leave

    def __post_init__(self) -> None:
        if not 0 < to_decimal(self.percent, "percent") < 100:
            raise ValueError("percent_off needs 0 < percent < 100")

    def label(self) -> str:
        cap = f"(最高减{self.cap.short()})" if self.cap is not None else ""
        return f"{plain(self.percent)}%折扣{cap}"

    def compute(self, subtotal: Money, volume: Decimal) -> tuple[Money | None, str]:
        raw = subtotal.amount * self.percent / 100
        amount = Money(raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), subtotal.currency)
        reason = f"{self.label()}: {plain(self.percent)}% of {subtotal} = {amount}"
        if self.cap is not None and amount > self.cap:
            return self.cap, f"{reason}, capped at {self.cap}"
        return amount, reason


Discount = AmountOff | PerLitreOff | PercentOff


@dataclass(frozen=True)
class Scope:
    """Where a rule applies; an empty set means any. Cities match the station's adcode or its name."""

    grades: frozenset[str] = frozenset()
    stations: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()

    def miss(self, grade: str, station: str, brand: str, city_keys: Iterable[str]) -> Reason | None:
        if self.grades and grade not in self.grades:
            return Reason.OUT_OF_SCOPE_GRADE
        if self.stations and station not in self.stations:
            return Reason.OUT_OF_SCOPE_STATION
        if self.brands and brand not in self.brands:
            return Reason.OUT_OF_SCOPE_BRAND
        if self.cities and not self.cities.intersection(city_keys):
            return Reason.OUT_OF_SCOPE_CITY
        return None


def _aware(moment: datetime | None, what: str) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class Conditions:
    """When a coupon template or payment promotion may apply. The window is half-open: from ≤ at < to."""

    scope: Scope = field(default_factory=Scope)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    min_spend: Money | None = None
    first_order_only: bool = False
    per_user_limit: int | None = None

    def __post_init__(self) -> None:
        _aware(self.valid_from, "valid_from")
        _aware(self.valid_to, "valid_to")
        if self.per_user_limit is not None and self.per_user_limit < 0:
            raise ValueError("per_user_limit must be >= 0")

    def in_window(self, at: datetime) -> bool:
        _aware(at, "at")
        if self.valid_from is not None and at < self.valid_from:
            return False
        return not (self.valid_to is not None and at >= self.valid_to)

    def remaining(self, used: int) -> int | None:
        """How many more times a driver who used this rule `used` times may use it (None: unlimited)."""
        return None if self.per_user_limit is None else max(0, self.per_user_limit - used)


def money_amounts(discount: Discount, conditions: Conditions) -> Iterator[Money]:
    """The amounts a rule states (threshold, amount, cap, minimum spend), each in the rule's currency."""
    if isinstance(discount, AmountOff):
        yield from (discount.threshold, discount.amount)
    if isinstance(discount, PercentOff) and discount.cap is not None:
        yield discount.cap
    if conditions.min_spend is not None:
        yield conditions.min_spend
