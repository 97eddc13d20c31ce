"""The vectorised first steps equal the engine's quote for a driver without coupons, promotions or points."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.context import DriverContext, PriceContext
from pricing.fills import FillRequest
from pricing.money import Money
from pricing.offers import Promotions, StackingPolicy
from pricing.promotions import quote_price
from pricing.vector_price import vector_quote

AT = datetime(2026, 11, 22, tzinfo=UTC)

fills = st.one_of(
    st.integers(1, 200_000).map(lambda fen: FillRequest.by_amount(Money.of(Decimal(fen) / 100))),
    st.integers(1, 20_000).map(lambda cl: FillRequest.by_litres(Decimal(cl) / 100)),
    st.tuples(st.integers(20, 120), st.integers(0, 99)).map(
        lambda t: FillRequest.fill_up(t[0], Decimal(t[1]) / 100)
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    fill=fills,
    stations=st.lists(
        st.tuples(st.integers(300, 1500), st.integers(0, 300), st.integers(0, 200)), min_size=1, max_size=8
    ),
)
def test_vector_quote_equals_the_engine(fill: FillRequest, stations: list[tuple[int, int, int]]) -> None:
    pump = np.array([p * 10 for p, _, _ in stations], dtype=np.int64)  # CNY: 0.01 steps, in milli-units
    platform = np.array([max(p - d, 1) * 10 for p, d, _ in stations], dtype=np.int64)
    member = np.array([m * 10 for _, _, m in stations], dtype=np.int64)
    got = vector_quote(fill, pump, platform, member, np.zeros(len(stations), dtype=np.int8))
    for i in range(len(stations)):
        price = PriceContext(
            station_id=str(i),
            brand="sinopec",
            city="530100",
            grade="92",
            pump_price=Decimal(int(pump[i])) / 1000,
            platform_price=Decimal(int(platform[i])) / 1000,
            member_per_litre={("gold", "92"): Decimal(int(member[i])) / 1000},
        )
        driver = DriverContext(driver_id="d", member_level="gold", use_points=False)
        try:
            quote = quote_price(fill, price, driver, Promotions(points=None), StackingPolicy(), AT)
        except ValueError:
            assert not got.ok[i]
            continue
        assert got.ok[i]
        assert got.gross[i] == quote.gross.minor_units and got.payable[i] == quote.payable.minor_units
        assert got.litres_cl[i] == int(quote.litres * 100)
        assert got.effective_milli[i] == int(quote.effective_price * 1000)
        by_kind = {line.kind.value: line.amount.minor_units for line in quote.lines}
        assert got.station_discount[i] == by_kind.get("station", 0)
        assert got.member_discount[i] == by_kind.get("member", 0)
