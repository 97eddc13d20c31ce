"""The engine's first steps (gross, litres, 直降, member discount) for many stations at once, exactly.

Integer arithmetic in fen (money), centilitres (volume) and milli-units (prices) reproduces the engine's
rounding (half-up at every step, clamping so ¥0.01 remains); tests/pricing/test_vector_price.py checks
it against pricing.promotions.quote_price. Coupons, payment promotions and points are not here: a driver
holding any goes through the engine itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.fills import FillMode, FillRequest

PRICE_STEP_MILLI = {0: 10, 1: 1}  # CNY prices in 0.01, EUR in 0.001 (currency index of pricebook)


def _half_up(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """round(numerator / denominator) half-up, for non-negative integers."""
    result: np.ndarray = (2 * numerator + denominator) // (2 * denominator)
    return result


@dataclass(frozen=True)
class VectorQuote:
    ok: np.ndarray  # bool: the fill can be priced at this station
    gross: np.ndarray  # int64 fen
    litres_cl: np.ndarray  # int64 centilitres
    station_discount: np.ndarray  # int64 fen
    member_discount: np.ndarray  # int64 fen
    payable: np.ndarray  # int64 fen
    effective_milli: np.ndarray  # int64 milli-units per litre


def vector_quote(
    fill: FillRequest,
    pump: np.ndarray,
    platform: np.ndarray,
    member_cut: np.ndarray,
    currency: np.ndarray,
) -> VectorQuote:
    """pump/platform/member_cut in milli-units per litre (platform <= pump, already defaulted to pump)."""
    pump = pump.astype(np.int64)
    if fill.mode is FillMode.BY_AMOUNT:
        assert fill.amount is not None
        amount = int(fill.amount.minor_units)
        litres_cl = _half_up(np.full(len(pump), amount * 1000, dtype=np.int64), pump)
        gross = np.full(len(pump), amount, dtype=np.int64)
    else:
        volume = fill.estimated_litres() if fill.mode is FillMode.FILL_UP else fill.volume
        assert volume is not None
        litres_cl = np.full(len(pump), int(volume * 100), dtype=np.int64)
        gross = _half_up(litres_cl * pump, 1000)
    ok = (litres_cl > 0) & (gross >= 1)
    subtotal = gross.copy()
    discounts = []
    for cut in (pump - platform, member_cut.astype(np.int64)):
        raw = _half_up(litres_cl * cut, 1000)
        amount_off = np.minimum(raw, subtotal - 1)
        amount_off = np.where(amount_off > 0, amount_off, 0)
        subtotal = subtotal - amount_off
        discounts.append(amount_off)
    step = np.where(currency == 1, PRICE_STEP_MILLI[1], PRICE_STEP_MILLI[0])
    safe_litres = np.where(litres_cl > 0, litres_cl, 1)
    effective = _half_up(subtotal * 1000, safe_litres * step) * step
    return VectorQuote(ok, gross, litres_cl, discounts[0], discounts[1], subtotal, effective)
