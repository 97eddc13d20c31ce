"""What the engine knows about the station and grade being priced, and about the driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pricing.money import PRICE_QUANTUM, to_decimal
from pricing.offers import CouponInstance


@dataclass(frozen=True)
class PriceContext:
    """One grade at one station. Prices per litre are exact multiples of the currency's price quantum;
    the platform price (after the station's 直降) is never above the pump price (挂牌价).
    member_per_litre maps (member level, grade) to a per-litre member discount."""

    station_id: str
    brand: str
    city: str
    grade: str
    pump_price: Decimal
    platform_price: Decimal
    currency: str = "CNY"
    city_name: str | None = None
    member_per_litre: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        quantum = PRICE_QUANTUM[self.currency]
        for what in ("pump_price", "platform_price"):
            value = to_decimal(getattr(self, what), what)
            if value <= 0 or value != value.quantize(quantum):
                raise ValueError(f"{what} must be positive and a multiple of {quantum}: {value}")
        if self.platform_price > self.pump_price:
            raise ValueError("platform price above pump price")
        for key, value in self.member_per_litre.items():
            if to_decimal(value, f"member discount {key}") < 0:
                raise ValueError(f"negative member discount for {key}")

    @property
    def city_keys(self) -> frozenset[str]:
        return frozenset(k for k in (self.city, self.city_name) if k)

    def member_discount(self, level: str | None) -> Decimal:
        if level is None:
            return Decimal(0)
        return self.member_per_litre.get((level, self.grade), Decimal(0))


@dataclass(frozen=True)
class DriverContext:
    """The driver: member level, first order or not, coupons held, how often each coupon template
    (usage_counts) and payment promotion (payment_usage_counts) was used, points, payment channels."""

    driver_id: str
    member_level: str | None = None
    is_first_order: bool = False
    coupons: tuple[CouponInstance, ...] = ()
    usage_counts: Mapping[str, int] = field(default_factory=dict)
    payment_usage_counts: Mapping[str, int] = field(default_factory=dict)
    points_balance: int = 0
    payment_channels: frozenset[str] = frozenset()
    use_points: bool = True

    def __post_init__(self) -> None:
        if self.points_balance < 0:
            raise ValueError("points_balance must be >= 0")
        ids = [c.id for c in self.coupons]
        if len(ids) != len(set(ids)):
            raise ValueError("coupon instance ids must be unique")
