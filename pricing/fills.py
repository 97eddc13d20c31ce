"""What the driver asks for: an amount (¥ at the pump price), a volume, or 'fill up' (estimated litres)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pricing.money import Money, litres, litres_down, to_decimal


class FillMode(StrEnum):
    BY_AMOUNT = "by_amount"
    BY_LITRES = "by_litres"
    FILL_UP = "fill_up"


# The fill a list prices when the driver names none (nearby's effective column, the comparison).
DEFAULT_FILL_AMOUNT = Decimal(300)


@dataclass(frozen=True)
class FillRequest:
    mode: FillMode
    amount: Money | None = None
    volume: Decimal | None = None
    tank_capacity: Decimal | None = None
    level: Decimal | None = None

    @classmethod
    def by_amount(cls, amount: Money) -> FillRequest:
        if amount < Money.minor(amount.currency):
            raise ValueError("amount must be at least the minor unit")
        return cls(FillMode.BY_AMOUNT, amount=amount)

    @classmethod
    def by_litres(cls, volume: Decimal | int | str) -> FillRequest:
        quantised = litres(volume)
        if quantised <= 0:
            raise ValueError("litres must be > 0")
        return cls(FillMode.BY_LITRES, volume=quantised)

    @classmethod
    def fill_up(cls, tank_capacity: Decimal | int | str, level: Decimal | int | str) -> FillRequest:
        """A tank of tank_capacity litres, currently `level` full (0 empty .. 1 full)."""
        capacity = to_decimal(tank_capacity, "tank_capacity")
        fraction = to_decimal(level, "level")
        if capacity <= 0 or not 0 <= fraction < 1:
            raise ValueError("fill_up needs tank_capacity > 0 and 0 <= level < 1")
        return cls(FillMode.FILL_UP, tank_capacity=capacity, level=fraction)

    def estimated_litres(self) -> Decimal:
        """Fill-up litres: capacity × (1 − level), rounded down to 0.01 L (never more than fits)."""
        assert self.tank_capacity is not None and self.level is not None
        volume = litres_down(self.tank_capacity * (1 - self.level))
        if volume <= 0:
            raise ValueError("nothing to fill: the tank is (almost) full")
        return volume

    def resolve(self, pump_price: Decimal, currency: str) -> tuple[Money, Decimal]:
        """(gross, litres). By amount: gross is the amount, litres = amount / pump price rounded half-up to
        0.01 L. By litres / fill-up: gross = litres × pump price rounded half-up to the fen."""
        if self.mode is FillMode.BY_AMOUNT:
            assert self.amount is not None
            if self.amount.currency != currency:
                raise ValueError(f"amount in {self.amount.currency}, station prices in {currency}")
            volume = (self.amount.amount / pump_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if volume <= 0:
                raise ValueError("amount buys less than 0.01 L")
            return self.amount, volume
        if self.mode is FillMode.FILL_UP:
            volume = self.estimated_litres()
        else:
            assert self.volume is not None
            volume = self.volume
        gross = Money(volume * pump_price, currency)
        if gross < Money.minor(currency):
            raise ValueError("gross below the minor unit")
        return gross, volume
