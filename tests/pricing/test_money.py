"""Money, litres and prices per litre: Decimal only, half-up to the minor unit, one currency at a time."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.money import CurrencyMismatch, Money, litres, litres_down, price_per_litre

fen = st.integers(min_value=-(10**9), max_value=10**9)


def test_amounts_are_quantised_half_up_to_the_fen() -> None:
    assert Money.of("0.005").amount == D("0.01")  # exactly half a fen: up
    assert Money.of("0.0049").amount == D("0.00")
    assert Money.of("-0.005").amount == D("-0.01")  # half-up is away from zero
    assert Money.of("2.675").amount == D("2.68")  # the float 2.675 would round down to 2.67
    assert Money.of(3).amount == D("3.00")
    assert Money.of("1.0") == Money.of("1.00")


def test_multiplying_rounds_half_up() -> None:
    # 7.89 × 38.02 = 299.9778 → 299.98; 0.30 × 38.05 = 11.415 → 11.42
    assert Money.of("7.89") * D("38.02") == Money.of("299.98")
    assert Money.of("0.30") * D("38.05") == Money.of("11.42")
    assert D("2") * Money.of("1.50") == Money.of("3.00")


@pytest.mark.parametrize("bad", [0.1, 1.0, True])
def test_floats_and_bools_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1.00") * bad  # type: ignore[operator]
    with pytest.raises(TypeError):
        litres(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        price_per_litre(bad)  # type: ignore[arg-type]


def test_adding_a_float_or_a_number_is_refused() -> None:
    with pytest.raises(TypeError):
        Money.of(1) + 0.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money.of(1) + D(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money.of(1) * Money.of(2)  # type: ignore[operator]


def test_mixing_currencies_is_refused() -> None:
    cny, eur = Money.of(1), Money.of(1, "EUR")
    for op in (lambda: cny + eur, lambda: cny - eur, lambda: cny < eur, lambda: cny >= eur):
        with pytest.raises(CurrencyMismatch):
            op()
    assert cny != eur


def test_unknown_currency_and_non_finite_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        Money.of(1, "XYZ")
    with pytest.raises(ValueError):
        Money(D("NaN"))
    with pytest.raises(ValueError):
        Money.of("abc")


def test_formatting() -> None:
    assert str(Money.of("300")) == "¥300.00"
    assert str(Money.of("1.5", "EUR")) == "€1.50"
    assert Money.of("200.00").short() == "200"
    assert Money.of("0.50").short() == "0.5"
    assert Money.of("12.34").minor_units == 1234


def test_litres_and_prices_per_litre() -> None:
    assert litres("38.025") == D("38.03")
    assert litres_down("48.239") == D("48.23")
    assert price_per_litre("7.895") == D("7.90")
    assert price_per_litre("1.7894", "EUR") == D("1.789")  # EUR feeds post tenths of a cent
    assert price_per_litre("1.7895", "EUR") == D("1.790")


@given(fen, fen)
def test_arithmetic_is_exact_on_fen(a: int, b: int) -> None:
    x, y = Money(D(a) / 100), Money(D(b) / 100)
    assert (x + y).minor_units == a + b
    assert (x - y).minor_units == a - b
    assert (x < y) == (a < b)
    assert (-x).minor_units == -a
