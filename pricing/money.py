"""Money (Decimal amounts in a currency, quantised to its minor unit), litres and prices per litre.

Floats are refused everywhere: a float cannot hold ¥7.89 exactly. Amounts are rounded ROUND_HALF_UP to the
currency's minor unit (0.01 for CNY and EUR) when a Money is made; arithmetic refuses mixing currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MINOR_UNIT: dict[str, Decimal] = {"CNY": Decimal("0.01"), "EUR": Decimal("0.01")}
# Quantum of a posted price per litre: Chinese pumps post fen; European feeds post tenths of a cent.
PRICE_QUANTUM: dict[str, Decimal] = {"CNY": Decimal("0.01"), "EUR": Decimal("0.001")}
LITRE_QUANTUM = Decimal("0.01")
SYMBOLS: dict[str, str] = {"CNY": "¥", "EUR": "€"}

Number = Decimal | int | str


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


def to_decimal(value: object, what: str = "value") -> Decimal:
    """A finite Decimal from a Decimal, an int or a numeric string; floats and bools are refused."""
    if isinstance(value, bool | float):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"{what} is not a number: {value!r}") from exc
    else:
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} must be finite: {value!r}")
    return result


def _check_currency(currency: str) -> str:
    if currency not in MINOR_UNIT:
        raise ValueError(f"unknown currency {currency!r}; known: {', '.join(MINOR_UNIT)}")
    return currency


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        unit = MINOR_UNIT[_check_currency(self.currency)]
        exact = to_decimal(self.amount, "amount")
        object.__setattr__(self, "amount", exact.quantize(unit, rounding=ROUND_HALF_UP))

    @classmethod
    def of(cls, value: Number, currency: str = "CNY") -> Money:
        return cls(to_decimal(value, "amount"), currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def minor(cls, currency: str = "CNY") -> Money:
        """The smallest positive amount (¥0.01)."""
        return cls(MINOR_UNIT[_check_currency(currency)], currency)

    @property
    def minor_units(self) -> int:
        """The amount in fen (cents): exact, since amounts are always quantised."""
        return int(self.amount / MINOR_UNIT[self.currency])

    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot {op} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        """Amount × a Decimal factor, rounded half-up to the minor unit."""
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        return Money(self.amount * to_decimal(factor, "factor"), self.currency)

    def __rmul__(self, factor: Decimal | int) -> Money:
        return self.__mul__(factor)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __str__(self) -> str:
        symbol = SYMBOLS.get(self.currency)
        return f"{symbol}{self.amount}" if symbol else f"{self.amount} {self.currency}"

    def short(self) -> str:
        """Without the symbol and without '.00' (for labels such as 满200减20)."""
        return plain(self.amount)


def per_litre_text(value: Decimal, currency: str = "CNY") -> str:
    """An amount per litre as a driver reads it: at least two places ('0.60', '0.385'), with its unit
    ('0.60元/升'; another currency: '0.050 EUR/L')."""
    shown = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize()
    number = format(shown, "f")
    return f"{number}元/升" if currency == "CNY" else f"{number} {currency}/L"


def per_litre_amount(value: Decimal) -> str:
    """The number alone, at least two places ('0.60', '0.385'), for labels such as 每升立减0.60元."""
    shown = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize()
    return format(shown, "f")


def price_text(value: Decimal, currency: str = "CNY") -> str:
    """A price as every answer shows it: the currency's places, half-up; yuan with two ('8.10', '10.00',
    '7.78' for 7.775), a euro price per litre with three."""
    quantum = PRICE_QUANTUM.get(currency, Decimal("0.01"))
    return format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def plain(value: Decimal) -> str:
    """'200' for 200.00, '0.5' for 0.50: the way discounts are labelled."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def litres(value: Number) -> Decimal:
    """A volume quantised to 0.01 L, half-up."""
    return to_decimal(value, "litres").quantize(LITRE_QUANTUM, rounding=ROUND_HALF_UP)


def litres_down(value: Number) -> Decimal:
    """A volume quantised to 0.01 L, rounding down (an estimate that never exceeds the space left)."""
    return to_decimal(value, "litres").quantize(LITRE_QUANTUM, rounding=ROUND_DOWN)


def price_per_litre(value: Number, currency: str = "CNY") -> Decimal:
    """A price per litre quantised to the currency's price quantum (0.01 CNY, 0.001 EUR), half-up."""
    quantum = PRICE_QUANTUM[_check_currency(currency)]
    return to_decimal(value, "price per litre").quantize(quantum, rounding=ROUND_HALF_UP)
