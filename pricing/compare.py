"""Rank the stations around a driver by what the driver would pay, or by that plus the detour's fuel.

Total cost = payable + fuel burnt on the round trip: 2 × straight-line distance × road factor ×
consumption (L/100 km), priced at the station's effective ¥/L, rounded half-up to the fen.
A driver with coupons, payment promotions or points is priced by the engine station by station
(stations that look the same to every rule share one computation); everyone else by the exact
vectorised first steps (pricing/vector_price.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from pricing.breakdown import Breakdown
from pricing.fills import FillRequest
from pricing.pricebook import GradePrices
from pricing.vector_price import _half_up, vector_quote


@dataclass(frozen=True)
class CompareRequest:
    grade: str
    fill: FillRequest
    now: datetime
    stale_after_seconds: float
    include_stale: bool = False
    sort: str = "price"  # price | total
    limit: int = 20
    consumption_l_per_100km: Decimal = Decimal("8")
    road_factor: Decimal = Decimal("1.3")
    member_cut_milli: int = 0  # the driver's member discount per litre for this grade


@dataclass
class Ranked:
    positions: np.ndarray
    distance_m: np.ndarray
    pump: np.ndarray
    platform: np.ndarray
    stale: np.ndarray
    currency: np.ndarray
    gross: np.ndarray
    litres_cl: np.ndarray
    payable: np.ndarray
    effective_milli: np.ndarray
    detour_fuel_cl: np.ndarray
    detour_cost: np.ndarray
    total: np.ndarray
    breakdowns: dict[int, Breakdown] = field(default_factory=dict)  # by snapshot position, engine path only

    def take(self, index: np.ndarray) -> Ranked:
        picked = {name: getattr(self, name)[index] for name in ("positions", "distance_m", *PRICE_COLUMNS)}
        return Ranked(**picked, breakdowns=self.breakdowns)


# The per-station price columns of a Ranked, in its field order (renderers read them by these names).
PRICE_COLUMNS = (
    "pump",
    "platform",
    "stale",
    "currency",
    "gross",
    "litres_cl",
    "payable",
    "effective_milli",
    "detour_fuel_cl",
    "detour_cost",
    "total",
)
EngineQuote = Callable[[Sequence[int], np.ndarray, np.ndarray], dict[int, Breakdown]]


def rank(
    prices: GradePrices,
    positions: np.ndarray,
    distance_m: np.ndarray,
    request: CompareRequest,
    engine_quote: EngineQuote | None = None,
) -> Ranked:
    """positions/distance_m: stations within the radius offering the grade, nearest first.
    engine_quote(positions, pump, platform) prices with the engine (driver with promotions)."""
    fresh_since = request.now.timestamp() - request.stale_after_seconds
    has_price, pump, platform, stale = prices.shown(positions, fresh_since, request.include_stale)
    keep = has_price if request.include_stale else has_price & ~stale
    positions, distance_m, pump, platform, stale = (
        positions[keep],
        distance_m[keep],
        pump[keep],
        platform[keep],
        stale[keep],
    )
    currency = prices.currency[positions]
    breakdowns: dict[int, Breakdown] = {}
    if engine_quote is None:
        quote = vector_quote(
            request.fill, pump, platform, np.full(len(pump), request.member_cut_milli), currency
        )
        ok, gross, litres_cl, payable, effective = (
            quote.ok,
            quote.gross,
            quote.litres_cl,
            quote.payable,
            quote.effective_milli,
        )
    else:
        breakdowns = engine_quote(positions.tolist(), pump, platform)
        ok = np.array([p in breakdowns for p in positions.tolist()], dtype=bool)
        found = [breakdowns.get(p) for p in positions.tolist()]
        gross = np.array([b.gross.minor_units if b else 0 for b in found], dtype=np.int64)
        litres_cl = np.array([int(b.litres * 100) if b else 0 for b in found], dtype=np.int64)
        payable = np.array([b.payable.minor_units if b else 0 for b in found], dtype=np.int64)
        effective = np.array([int(b.effective_price * 1000) if b else 0 for b in found], dtype=np.int64)
    # Round-trip detour fuel, centilitres (a physical estimate), then its cost in exact integer fen.
    per_100km = float(request.consumption_l_per_100km) * float(request.road_factor)
    detour_fuel_cl = np.rint(2 * distance_m * per_100km / 1000).astype(np.int64)
    detour_cost = _half_up(detour_fuel_cl * effective, 1000)
    ranked = Ranked(
        positions,
        distance_m,
        pump,
        platform,
        stale,
        currency,
        gross,
        litres_cl,
        payable,
        effective,
        detour_fuel_cl,
        detour_cost,
        payable + detour_cost,
        breakdowns,
    )
    if not ok.all():
        ranked = ranked.take(np.flatnonzero(ok))
    key = ranked.total if request.sort == "total" else ranked.payable
    order = np.lexsort((ranked.distance_m, key))[: request.limit]
    return ranked.take(order)
